import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLinkMessage, gatewayAuthValue, parseLinkMessage, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { ControlCenter } from '../../src/server';

let centre: ControlCenter;
let dir: string;
const SECRET = 'the-gateway-secret';

function dial(gatewayId: string, secret: string): Promise<{ ws: WebSocket; messages: LinkMessage[]; closed: Promise<number> } | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${centre.url.replace('http', 'ws')}/link`, { headers: { authorization: gatewayAuthValue(gatewayId, secret) } });
    const messages: LinkMessage[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (d: Buffer) => messages.push(parseLinkMessage(d)));
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
}

async function cameras(): Promise<{ id: string; state: string; reason: string | null }[]> {
  const res = await fetch(`${centre.url}/api/cameras`, { headers: { authorization: `Bearer ${centre.viewerToken}` } });
  return ((await res.json()) as { cameras: { id: string; state: string; reason: string | null }[] }).cameras;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'centre-link-'));
  centre = await ControlCenter.create({ dataDir: dir, logger: pino({ level: 'silent' }), gateways: [
      { id: 'gw-1', schoolId: 'zs-sokolov', name: 'Sokolov', secret: SECRET },
      { id: 'gw-2', schoolId: 'gym-cheb', name: 'Cheb', secret: SECRET },
    ],
  });
});

afterAll(async () => {
  await centre?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway link', () => {
  it('refuses an unknown gateway or a wrong secret on the upgrade', async () => {
    expect(await dial('gw-1', 'wrong-secret')).toBe(401);
    expect(await dial('gw-nobody', SECRET)).toBe(401);
  });

  it('records the inventory from hello, updates camera state, and marks cameras offline when the link drops', async () => {
    const link = await dial('gw-1', SECRET);
    if (typeof link === 'number') throw new Error(`refused: ${link}`);
    await until(() => link.messages.some((m) => m.type === 'welcome'), 'welcome');
    link.ws.send(encodeLinkMessage({ type: 'hello', gatewayId: 'gw-1', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'cam-a', name: 'Vchod', state: 'idle' }] }));
    await until(async () => (await cameras()).some((c) => c.id === 'cam-a'), 'the camera to appear');
    link.ws.send(encodeLinkMessage({ type: 'camera.state', camera: { id: 'cam-a', name: 'Vchod', state: 'failing', reason: 'connection refused' } }));
    await until(async () => (await cameras()).find((c) => c.id === 'cam-a')?.state === 'failing', 'failing state');
    expect((await cameras()).find((c) => c.id === 'cam-a')?.reason).toBe('connection refused');
    link.ws.send('{"type":"nonsense"}');
    await until(() => link.messages.some((m) => m.type === 'error' && m.code === 'LINK_BAD_MESSAGE'), 'an error reply to a bad frame');
    expect(link.ws.readyState).toBe(WebSocket.OPEN); // a bad frame is answered, not fatal
    link.ws.close();
    await until(async () => (await cameras()).find((c) => c.id === 'cam-a')?.state === 'offline', 'offline after the link dropped');
  });

  it('never lets one school\'s gateway take over, rename or end another school\'s camera', async () => {
    const a = await dial('gw-1', SECRET);
    const b = await dial('gw-2', SECRET);
    if (typeof a === 'number' || typeof b === 'number') throw new Error('refused');
    a.ws.send(encodeLinkMessage({ type: 'hello', gatewayId: 'gw-1', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'shared-id', name: 'Vchod Sokolov', state: 'idle' }] }));
    await until(async () => (await cameras()).some((c) => c.id === 'shared-id'), 'the first school\'s camera');
    b.ws.send(encodeLinkMessage({ type: 'hello', gatewayId: 'gw-2', schoolId: 'gym-cheb', version: 't', cameras: [{ id: 'shared-id', name: 'Impostor', state: 'failing' }] }));
    b.ws.send(encodeLinkMessage({ type: 'camera.state', camera: { id: 'shared-id', name: 'Impostor', state: 'failing' } }));
    b.ws.send(encodeLinkMessage({ type: 'ping', t: 1 }));
    await until(() => b.messages.some((m) => m.type === 'pong'), 'the second gateway\'s messages to be handled');
    const cam = (await cameras()).find((c) => c.id === 'shared-id') as unknown as { name: string; state: string; gatewayId: string };
    expect(cam).toMatchObject({ name: 'Vchod Sokolov', state: 'idle', gatewayId: 'gw-1' });
    b.ws.close();
    await b.closed;
    expect((await cameras()).find((c) => c.id === 'shared-id')?.state).toBe('idle'); // B going offline does not touch A's camera
    a.ws.close();
    await a.closed;
  });

  it('drops a gateway whose hello claims another school', async () => {
    const link = await dial('gw-1', SECRET);
    if (typeof link === 'number') throw new Error(`refused: ${link}`);
    link.ws.send(encodeLinkMessage({ type: 'hello', gatewayId: 'gw-1', schoolId: 'gym-cheb', version: 't', cameras: [] }));
    expect(await link.closed).toBe(4000);
  });
});
