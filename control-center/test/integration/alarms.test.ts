import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent, LinkMessageOf } from '@schoolcam/protocol/link/link-messages';
import type { AlarmView } from '../../src/alarms/alarm-view';
import type { CameraView } from '../../src/cameras/camera-view';
import type { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, type FakeGateway, openViewer, until } from '../support/centre-fixture';

/**
 * Events and alarms at the centre over the real link, with a gateway played by the test: events
 * stored once by id and acked (copies too), alarms scoped like cameras, acknowledged with an
 * audit entry, pushed to the dashboards that may see them; health on the camera views;
 * `gateway_offline` from the link.
 */
let fx: CentreFixture;
let admin: CentreClient;
let operator: CentreClient;
let schoolIt: CentreClient;
let police: CentreClient;
let auditor: CentreClient;
let own: FakeGateway;
let foreign: FakeGateway;
let seq = 0;

const motion = (cameraId: string, active: boolean): GatewayEvent => ({ id: randomUUID(), seq: ++seq, cameraId, kind: 'motion', active, at: Date.now() });
const acks = (gw: FakeGateway): string[] => gw.messages.filter((m): m is LinkMessageOf<'events.ack'> => m.type === 'events.ack').flatMap((m) => m.ids);
async function alarms(client: CentreClient, query = 'state=all'): Promise<AlarmView[]> {
  const res = await client.get<{ alarms: AlarmView[] }>(`/api/alarms?${query}`);
  expect(res.status).toBe(200);
  return res.body.alarms;
}
async function sendAndWaitForAck(gw: FakeGateway, events: GatewayEvent[]): Promise<void> {
  gw.send({ type: 'events', events });
  await until(() => events.every((e) => acks(gw).includes(e.id)), 'the centre to ack the events');
}

beforeAll(async () => {
  fx = await CentreFixture.start({ gatewayOfflineGraceMs: 300, limits: { requestsPerMinute: 100_000 } });
  admin = await fx.signIn(ACCOUNTS.admin);
  operator = await fx.signIn(ACCOUNTS.operator);
  schoolIt = await fx.signIn(ACCOUNTS.school_it);
  police = await fx.signIn(ACCOUNTS.police);
  auditor = await fx.signIn(ACCOUNTS.auditor);
  own = await fx.connectGateway(admin, 'gw-al-own', 'zs-sokolov', ['vchod', 'dvur']);
  foreign = await fx.connectGateway(admin, 'gw-al-foreign', 'gym-cheb', ['vchod']);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('events and alarms at the centre', () => {
  it('stores each event once by id and acks it by id, also when a copy comes again; the alarm counts it once', async () => {
    const first = motion('cam-idem', true);
    await sendAndWaitForAck(own, [first]);
    const acked = acks(own).length;
    // The gateway never heard the ack (link cut) and sends the same event again: acked again.
    own.send({ type: 'events', events: [first] });
    await until(() => acks(own).length === acked + 1, 'the copy to be acked');
    const mine = (await alarms(operator)).filter((a) => a.cameraId === 'gw-al-own:cam-idem' && a.kind === 'motion');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ occurrences: 1, active: true, state: 'open', schoolId: 'zs-sokolov', late: false, ackedBy: null });
    const detail = await operator.get<{ events: { id: string; seq: number }[] }>(`/api/alarms/${mine[0].id}`);
    expect(detail.body.events.map((e) => e.id)).toEqual([first.id]);
  });

  it('shows alarms only to whom the camera is visible: own school to its IT, none to police, all to the region', async () => {
    await sendAndWaitForAck(foreign, [motion('vchod', true)]);
    await sendAndWaitForAck(own, [motion('vchod', true)]);
    const schools = async (c: CentreClient): Promise<string[]> => [...new Set((await alarms(c)).map((a) => a.schoolId))].sort();
    expect(await schools(operator)).toEqual(['gym-cheb', 'zs-sokolov']);
    expect(await schools(admin)).toEqual(['gym-cheb', 'zs-sokolov']);
    expect(await schools(auditor)).toEqual(['gym-cheb', 'zs-sokolov']);
    expect(await schools(schoolIt)).toEqual(['zs-sokolov']);
    expect(await alarms(police)).toEqual([]);
    const foreignAlarm = (await alarms(operator)).find((a) => a.schoolId === 'gym-cheb')!;
    expect(foreignAlarm.cameraName).toBe('Camera vchod');
    expect((await schoolIt.get(`/api/alarms/${foreignAlarm.id}`)).status).toBe(404);
    expect((await police.get(`/api/alarms/${foreignAlarm.id}`)).status).toBe(404);
  });

  it('lets an operator acknowledge an alarm once, audited; it leaves the open list and stays in the history', async () => {
    await sendAndWaitForAck(own, [motion('cam-ack', true), motion('cam-ack', false)]);
    const target = (await alarms(operator, 'state=open')).find((a) => a.cameraId === 'gw-al-own:cam-ack')!;
    expect(target).toMatchObject({ active: false });
    const forged = await fetch(`${fx.url}/api/alarms/${target.id}/ack`, { method: 'POST', headers: { cookie: operator.cookie, 'content-type': 'application/json', 'x-csrf-token': 'wrong' }, body: '{}' });
    expect(forged.status).toBe(403);
    expect((await schoolIt.post(`/api/alarms/${target.id}/ack`, {})).status).toBe(403);
    const res = await operator.post<AlarmView>(`/api/alarms/${target.id}/ack`, { note: 'úklid chodby' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: target.id, state: 'acked', ackedBy: 'operator', ackNote: 'úklid chodby' });
    expect(res.body.ackedAt).toBeGreaterThan(0);
    const again = await operator.post<{ error: string; message: string }>(`/api/alarms/${target.id}/ack`);
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('operator');
    expect((await alarms(operator, 'state=open')).some((a) => a.id === target.id)).toBe(false);
    expect((await alarms(operator, 'state=all')).find((a) => a.id === target.id)).toMatchObject({ state: 'acked' });
    const audit = (await auditor.get<{ entries: { kind: string; actor: string; target: string; cameraId: string; detail: { note?: string } }[] }>('/api/audit?kind=alarm.ack')).body.entries;
    const entries = audit.filter((e) => e.target === target.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'alarm.ack', actor: 'operator', cameraId: 'gw-al-own:cam-ack', detail: { note: 'úklid chodby' } });
  });

  it('pushes new alarms and acknowledgements to the dashboards that may see them, and only to those', async () => {
    const sockets = await Promise.all([operator, schoolIt, police].map((c) => openViewer(fx.url, c.cookie)));
    const [op, it, pol] = sockets.map((s) => {
      if (typeof s === 'number') throw new Error(`viewer refused: ${s}`);
      return s;
    });
    try {
      await until(() => [op, it, pol].every((s) => s.events.some((e) => e.type === 'alarms')), 'the open alarms on connect');
      expect((pol.events.find((e) => e.type === 'alarms') as { alarms: unknown[] }).alarms).toEqual([]);
      const pushed = (s: typeof op): { change: string; alarm: AlarmView }[] => s.events.filter((e) => e.type === 'alarm') as unknown as { change: string; alarm: AlarmView }[];
      await sendAndWaitForAck(foreign, [motion('cam-push', true)]);
      await sendAndWaitForAck(own, [motion('cam-push', true)]);
      await until(() => pushed(it).some((e) => e.alarm.cameraId === 'gw-al-own:cam-push' && e.change === 'raised'), 'school IT to be told of its own camera');
      await until(() => pushed(op).filter((e) => e.change === 'raised' && e.alarm.cameraId?.endsWith(':cam-push')).length === 2, 'the operator to be told of both');
      const foreignAlarm = pushed(op).find((e) => e.alarm.cameraId === 'gw-al-foreign:cam-push')!.alarm;
      expect((await operator.post(`/api/alarms/${foreignAlarm.id}/ack`, {})).status).toBe(200);
      await until(() => pushed(op).some((e) => e.alarm.id === foreignAlarm.id && e.change === 'acked' && e.alarm.ackedBy === 'operator'), 'the acknowledgement pushed');
      expect(pushed(it).some((e) => e.alarm.schoolId !== 'zs-sokolov')).toBe(false);
      expect(pushed(pol)).toEqual([]);
    } finally {
      for (const s of [op, it, pol]) s.ws.close();
    }
  });

  it('shows each camera’s health on the camera views, stalled included', async () => {
    own.send({
      type: 'health',
      cameras: [
        { cameraId: 'vchod', state: 'stalled', reason: 'no video for 5 s', online: true, fps: 0, bitrateKbps: 0, lastFrameAt: 1_767_950_000_000, keyframeIntervalMs: 2000, reconnects: 3, transport: 'tcp', events: 'ok' },
        { cameraId: 'dvur', state: 'streaming', online: true, fps: 14.9, bitrateKbps: 2480, reconnects: 0, events: 'failing' },
      ],
    });
    const find = async (id: string): Promise<CameraView | undefined> => (await schoolIt.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras.find((c) => c.id === id);
    await until(async () => (await find('gw-al-own:vchod'))?.state === 'stalled', 'the stalled state');
    expect(await find('gw-al-own:vchod')).toMatchObject({
      state: 'stalled',
      reason: 'no video for 5 s',
      health: { online: true, fps: 0, lastFrameAt: 1_767_950_000_000, keyframeIntervalMs: 2000, reconnects: 3, transport: 'tcp', events: 'ok' },
    });
    expect(await find('gw-al-own:dvur')).toMatchObject({ state: 'streaming', health: { fps: 14.9, bitrateKbps: 2480, lastFrameAt: null, events: 'failing' } });
  });

  it('raises gateway_offline when a gateway’s link closes and it does not come back, and clears it when it does', async () => {
    const gw = await fx.connectGateway(admin, 'gw-al-flaky', 'zs-sokolov', ['cam']);
    gw.ws.close();
    await until(async () => (await alarms(schoolIt, 'state=open')).some((a) => a.kind === 'gateway_offline' && a.gatewayId === 'gw-al-flaky' && a.active), 'gateway_offline');
    const alarm = (await alarms(schoolIt, 'state=open')).find((a) => a.gatewayId === 'gw-al-flaky')!;
    expect(alarm).toMatchObject({ cameraId: null, schoolId: 'zs-sokolov', reason: 'the gateway’s link closed and did not come back' });
    const back = await fx.dial('gw-al-flaky', gw.secret);
    if (typeof back === 'number') throw new Error(`refused: ${back}`);
    back.send({ type: 'hello', gatewayId: 'gw-al-flaky', schoolId: 'zs-sokolov', version: 't', cameras: [{ id: 'cam', name: 'Camera cam', state: 'idle' }] });
    await until(async () => (await alarms(schoolIt)).find((a) => a.id === alarm.id)?.active === false, 'the alarm to clear');
    back.ws.close();
  });
});
