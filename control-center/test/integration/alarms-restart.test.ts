import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmView } from '../../src/alarms/alarm-view';
import type { CameraView } from '../../src/cameras/camera-view';
import { ACCOUNTS, CentreFixture, until } from '../support/centre-fixture';

/** A centre restart: cameras are `unknown` until their gateway reports; alarms and their history stay. */
let fx: CentreFixture;

beforeAll(async () => {
  fx = await CentreFixture.start({ limits: { requestsPerMinute: 100_000 } });
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('a restarted centre', () => {
  it('marks every camera unknown until its gateway reports again, and keeps its alarms', async () => {
    const admin = await fx.signIn(ACCOUNTS.admin);
    const sok = await fx.connectGateway(admin, 'gw-rs-sok', 'zs-sokolov', ['vchod']);
    const cheb = await fx.connectGateway(admin, 'gw-rs-cheb', 'gym-cheb', ['dvur']);
    sok.send({ type: 'events', events: [{ id: randomUUID(), seq: 1, cameraId: 'vchod', kind: 'tamper', active: true, at: Date.now() }] });
    await until(() => sok.messages.some((m) => m.type === 'events.ack'), 'the ack');

    await fx.restart();
    const cams = async (): Promise<CameraView[]> => (await admin.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras;
    expect((await cams()).map((c) => [c.id, c.state, c.health])).toEqual([
      ['gw-rs-cheb:dvur', 'unknown', null],
      ['gw-rs-sok:vchod', 'unknown', null],
    ]);
    await cheb.closed;
    const link = await fx.dial(sok.id, sok.secret);
    if (typeof link === 'number') throw new Error(`refused: ${link}`);
    link.send({ type: 'hello', gatewayId: sok.id, schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'vchod', name: 'Camera vchod', state: 'idle' }] });
    link.send({ type: 'health', cameras: [{ cameraId: 'vchod', state: 'idle', online: true, fps: 0, bitrateKbps: 0, reconnects: 0, events: 'ok' }] });
    await until(async () => (await cams()).find((c) => c.id === 'gw-rs-sok:vchod')?.health !== null, 'the health report');
    expect((await cams()).map((c) => [c.id, c.state, c.health?.online ?? null])).toEqual([
      ['gw-rs-cheb:dvur', 'unknown', null],
      ['gw-rs-sok:vchod', 'idle', true],
    ]);
    const operator = await fx.signIn(ACCOUNTS.operator);
    const alarms = (await operator.get<{ alarms: AlarmView[] }>('/api/alarms')).body.alarms;
    expect(alarms.map((a) => [a.kind, a.cameraId])).toContainEqual(['tamper', 'gw-rs-sok:vchod']);
    link.ws.close();
  });
});
