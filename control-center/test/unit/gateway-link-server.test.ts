import { beforeEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { encodeLinkMessage, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { GatewayLinkServer } from '../../src/link/gateway-link-server';
import { CameraStore } from '../../src/storage/camera-store';
import { type Db, openDatabase } from '../../src/storage/database';
import { GatewayStore } from '../../src/storage/gateway-store';
import { OrgStore } from '../../src/storage/org-store';
import { FakeSocket, silent } from './fakes';

let db: Db;
let cameras: CameraStore;
let server: GatewayLinkServer;
let dropped: number;

function connect(gatewayId: string): FakeSocket & { linkSend(m: LinkMessage): void; received(): LinkMessage[] } {
  const ws = new FakeSocket() as FakeSocket & { linkSend(m: LinkMessage): void; received(): LinkMessage[] };
  ws.linkSend = (m) => ws.emit('message', Buffer.from(encodeLinkMessage(m)));
  ws.received = () => ws.sent as unknown as LinkMessage[];
  server.accept(ws as unknown as WebSocket, gatewayId);
  return ws;
}

beforeEach(() => {
  db = openDatabase(':memory:');
  const orgs = new OrgStore(db);
  orgs.insert({ id: 'zs-sokolov', kind: 'school', name: 'ZŠ Sokolov', parentId: null });
  orgs.insert({ id: 'gym-cheb', kind: 'school', name: 'Gymnázium Cheb', parentId: null });
  const gateways = new GatewayStore(db);
  gateways.create({ id: 'gw-sok', schoolId: 'zs-sokolov', name: 'Sokolov', enrolmentHash: 'a', enrolmentExpiresAt: Date.now() + 1000 });
  gateways.create({ id: 'gw-cheb', schoolId: 'gym-cheb', name: 'Cheb', enrolmentHash: 'b', enrolmentExpiresAt: Date.now() + 1000 });
  cameras = new CameraStore(db);
  dropped = 0;
  server = new GatewayLinkServer(gateways, cameras, silent, { messagesPerSecond: 10, onDropped: () => dropped++ });
});

describe('gateway link handling', () => {
  it('files a gateway\'s cameras under its own id, so the same local id at two schools stays two cameras', () => {
    const a = connect('gw-sok');
    const b = connect('gw-cheb');
    a.linkSend({ type: 'hello', gatewayId: 'gw-sok', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'cam1', name: 'Vchod', state: 'idle' }] });
    b.linkSend({ type: 'hello', gatewayId: 'gw-cheb', schoolId: 'gym-cheb', version: 't', cameras: [{ id: 'cam1', name: 'Dvůr', state: 'streaming' }] });
    b.linkSend({ type: 'camera.state', camera: { id: 'cam1', name: 'Dvůr', state: 'failing', reason: 'stalled' } });
    expect(cameras.list().map((c) => [c.id, c.schoolId, c.name, c.state])).toEqual([
      ['gw-cheb:cam1', 'gym-cheb', 'Dvůr', 'failing'],
      ['gw-sok:cam1', 'zs-sokolov', 'Vchod', 'idle'],
    ]);
  });

  it('asks a gateway for a camera by its local id, and never for another gateway\'s camera', () => {
    const a = connect('gw-sok');
    expect(server.send('gw-sok', { type: 'stream.start', streamId: 's1', cameraId: 'gw-sok:cam1' })).toBe(true);
    expect(server.send('gw-sok', { type: 'stream.start', streamId: 's2', cameraId: 'gw-cheb:cam1' })).toBe(false);
    expect(a.received().filter((m) => m.type === 'stream.start')).toEqual([{ type: 'stream.start', streamId: 's1', cameraId: 'cam1' }]);
  });

  it('turns stream signalling into events naming the gateway that sent it', () => {
    const a = connect('gw-sok');
    const seen: unknown[] = [];
    server.on('offer', (...args) => seen.push(['offer', ...args]));
    server.on('streamEnded', (...args) => seen.push(['ended', ...args]));
    a.linkSend({ type: 'stream.offer', streamId: 's1', cameraId: 'cam1', sdp: 'v=0' });
    a.linkSend({ type: 'stream.ended', streamId: 's1', cameraId: 'cam1', reason: 'camera failing' });
    expect(seen).toEqual([
      ['offer', 'gw-sok', 's1', 'v=0'],
      ['ended', 'gw-sok', 's1', 'camera failing'],
    ]);
  });

  it('drops messages over the rate and cuts a gateway that keeps flooding', () => {
    const a = connect('gw-sok');
    for (let i = 0; i < 40; i++) a.linkSend({ type: 'ping', t: i }); // the burst allowance (4 s × 10/s)
    expect(dropped).toBe(0);
    for (let i = 0; i < 20; i++) a.linkSend({ type: 'ping', t: i });
    expect(dropped).toBeGreaterThanOrEqual(19);
    expect(server.isOnline('gw-sok')).toBe(true);
    for (let i = 0; i < 60; i++) a.linkSend({ type: 'ping', t: i });
    expect(server.isOnline('gw-sok')).toBe(false);
    expect(a.closedWith).toBe(4000);
  });

  it('answers a malformed frame with an error and keeps the link', () => {
    const a = connect('gw-sok');
    a.emit('message', Buffer.from('{"type":"hello","gatewayId":"gw-sok"'));
    expect(a.received().at(-1)).toMatchObject({ type: 'error', code: 'LINK_BAD_MESSAGE' });
    expect(server.isOnline('gw-sok')).toBe(true);
  });

  it('marks a gateway\'s cameras offline and reports it gone when its link is dropped', () => {
    const a = connect('gw-sok');
    a.linkSend({ type: 'hello', gatewayId: 'gw-sok', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'cam1', name: 'Vchod', state: 'streaming' }] });
    const gone: string[] = [];
    server.on('gatewayGone', (id) => gone.push(id));
    server.disconnect('gw-sok', 'gateway revoked');
    expect(gone).toEqual(['gw-sok']);
    expect(cameras.get('gw-sok:cam1')).toMatchObject({ state: 'offline', reason: 'gateway offline' });
  });
});
