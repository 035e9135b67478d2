import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, until } from '../support/centre-fixture';

let fx: CentreFixture;
let admin: CentreClient;
let secret1: string;
let secret2: string;

async function cameras(): Promise<{ id: string; state: string; reason: string | null; name: string; gatewayId: string; schoolId: string }[]> {
  return (await admin.get<{ cameras: { id: string; state: string; reason: string | null; name: string; gatewayId: string; schoolId: string }[] }>('/api/cameras')).body.cameras;
}

beforeAll(async () => {
  fx = await CentreFixture.start();
  admin = await fx.signIn(ACCOUNTS.admin);
  secret1 = await fx.enrol(admin, 'gw-1', 'zs-sokolov');
  secret2 = await fx.enrol(admin, 'gw-2', 'gym-cheb');
});

afterAll(async () => {
  await fx?.close();
});

describe('gateway link', () => {
  it('refuses an unknown gateway or a wrong secret on the upgrade', async () => {
    expect(await fx.dial('gw-1', 'wrong-secret')).toBe(401);
    expect(await fx.dial('gw-nobody', secret1)).toBe(401);
  });

  it('records the inventory from hello under gateway-scoped ids, updates camera state, and marks cameras offline when the link drops', async () => {
    const link = await fx.dial('gw-1', secret1);
    if (typeof link === 'number') throw new Error(`refused: ${link}`);
    await until(() => link.messages.some((m) => m.type === 'welcome'), 'welcome');
    link.send({ type: 'hello', gatewayId: 'gw-1', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'cam-a', name: 'Vchod', state: 'idle' }] });
    await until(async () => (await cameras()).some((c) => c.id === 'gw-1:cam-a'), 'the camera to appear');
    link.send({ type: 'camera.state', camera: { id: 'cam-a', name: 'Vchod', state: 'failing', reason: 'connection refused' } });
    await until(async () => (await cameras()).find((c) => c.id === 'gw-1:cam-a')?.state === 'failing', 'failing state');
    expect((await cameras()).find((c) => c.id === 'gw-1:cam-a')).toMatchObject({ reason: 'connection refused', gatewayId: 'gw-1', schoolId: 'zs-sokolov' });
    link.ws.send('{"type":"nonsense"}');
    await until(() => link.messages.some((m) => m.type === 'error' && m.code === 'LINK_BAD_MESSAGE'), 'an error reply to a bad frame');
    expect(link.ws.readyState).toBe(WebSocket.OPEN); // a bad frame is answered, not fatal
    link.ws.close();
    await until(async () => (await cameras()).find((c) => c.id === 'gw-1:cam-a')?.state === 'offline', 'offline after the link dropped');
  });

  it('keeps two schools apart when their gateways use the same local camera id', async () => {
    const a = await fx.dial('gw-1', secret1);
    const b = await fx.dial('gw-2', secret2);
    if (typeof a === 'number' || typeof b === 'number') throw new Error('refused');
    a.send({ type: 'hello', gatewayId: 'gw-1', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'shared-id', name: 'Vchod Sokolov', state: 'idle' }] });
    await until(async () => (await cameras()).some((c) => c.id === 'gw-1:shared-id'), 'the first school\'s camera');
    b.send({ type: 'hello', gatewayId: 'gw-2', schoolId: 'gym-cheb', version: 't', cameras: [{ id: 'shared-id', name: 'Impostor', state: 'failing' }] });
    b.send({ type: 'camera.state', camera: { id: 'shared-id', name: 'Impostor', state: 'failing' } });
    await until(async () => (await cameras()).some((c) => c.id === 'gw-2:shared-id'), 'the second school\'s camera');
    const all = await cameras();
    expect(all.find((c) => c.id === 'gw-1:shared-id')).toMatchObject({ name: 'Vchod Sokolov', state: 'idle', gatewayId: 'gw-1', schoolId: 'zs-sokolov' });
    expect(all.find((c) => c.id === 'gw-2:shared-id')).toMatchObject({ name: 'Impostor', gatewayId: 'gw-2', schoolId: 'gym-cheb' });
    b.ws.close();
    await b.closed;
    await until(async () => (await cameras()).find((c) => c.id === 'gw-2:shared-id')?.state === 'offline', 'B offline');
    expect((await cameras()).find((c) => c.id === 'gw-1:shared-id')?.state).toBe('idle'); // B going offline does not touch A's camera
    a.ws.close();
    await a.closed;
  });

  it('drops a gateway whose hello claims another school', async () => {
    const link = await fx.dial('gw-1', secret1);
    if (typeof link === 'number') throw new Error(`refused: ${link}`);
    link.send({ type: 'hello', gatewayId: 'gw-1', schoolId: 'gym-cheb', version: 't', cameras: [] });
    expect(await link.closed).toBe(4000);
  });
});
