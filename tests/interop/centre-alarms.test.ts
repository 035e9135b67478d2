/**
 * Alarms and health end to end: simulated cameras, a real gateway, the real centre (its link,
 * SQLite, API and viewer socket). Motion raised through the simulator's control API reaches an
 * operator's alarm list within a second and never another school's IT; a stalled camera shows
 * `stalled` on the camera views; a restarted centre has its gateway back within 5 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AlarmView } from '../../control-center/src/alarms/alarm-view';
import type { CameraView } from '../../control-center/src/cameras/camera-view';
import type { CentreClient } from '../../control-center/test/support/api-client';
import { simControl } from '../support/gateway-kit';
import { type LinkedStack, startLinkedStack, waitUntil } from '../support/linked-stack';

let stack: LinkedStack;

beforeAll(async () => {
  // The answer timeout is long so a test viewer can hold a stream without answering its offer.
  stack = await startLinkedStack({ cameras: 3, centre: { limits: { answerTimeoutMs: 120_000 } } });
  await stack.startGateway();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** The gateway is linked, the centre knows its cameras, and camera `i` has its ONVIF event subscription. */
async function ready(i: number): Promise<void> {
  await waitUntil(() => stack.centre.stats().gatewaysOnline === 1 && stack.fleet.cameras[i].onvif.faultState().subscriptions > 0, 'the gateway linked and subscribed to events', 20_000);
  const admin = await stack.signIn('admin');
  await waitUntil(
    async () => (await admin.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras.filter((c) => c.health !== null).length === stack.sims.length,
    'the centre to know every camera and its health',
  );
}
const alarmsOf = async (client: CentreClient, cameraId: string, state = 'all'): Promise<AlarmView[]> =>
  (await client.get<{ alarms: AlarmView[] }>(`/api/alarms?state=${state}&cameraId=${encodeURIComponent(cameraId)}`)).body.alarms;

describe('alarms and health through the real gateway and centre', () => {
  it('shows motion raised on a camera in an operator’s alarms within 1 s, to its school’s IT, and not to another school’s IT', async () => {
    await ready(0);
    const [operator, it, otherIt] = await Promise.all([stack.signIn('operator'), stack.signIn('it'), stack.signIn('otherIt')]);
    const sim = stack.sims[0];
    const cameraId = stack.centreId(sim.id);
    const before = (await alarmsOf(operator, cameraId)).length;
    const raised = Date.now();
    await simControl(sim.control, 'events/motion', { state: true });
    const took = await waitUntil(async () => (await alarmsOf(operator, cameraId, 'open')).some((a) => a.kind === 'motion' && a.raisedAt >= raised - 50 && a.active), 'the motion alarm', 5000, 10);
    expect(Date.now() - raised).toBeLessThanOrEqual(1000);
    expect(took).toBeLessThanOrEqual(1000);
    const [alarm] = (await alarmsOf(operator, cameraId, 'open')).filter((a) => a.kind === 'motion');
    expect(alarm).toMatchObject({ cameraId, cameraName: sim.name, schoolId: stack.schoolId, gatewayId: stack.gatewayId, state: 'open', late: false });
    expect((await alarmsOf(operator, cameraId)).length).toBeLessThanOrEqual(before + 1);
    expect((await alarmsOf(it, cameraId, 'open')).map((a) => a.id)).toContain(alarm.id);
    const everythingOtherSees = (await otherIt.get<{ alarms: AlarmView[] }>('/api/alarms?state=all')).body.alarms;
    expect(everythingOtherSees.filter((a) => a.schoolId === stack.schoolId)).toEqual([]);
    expect((await otherIt.get(`/api/alarms/${alarm.id}`)).status).toBe(404);
    await simControl(sim.control, 'events/motion', { state: false });
    await waitUntil(async () => (await alarmsOf(operator, cameraId, 'open')).find((a) => a.id === alarm.id)?.active === false, 'motion ending');
  });

  it('shows a stalled camera as stalled on the camera views, with its health', async () => {
    await ready(2);
    const operator = await stack.signIn('operator');
    const sim = stack.sims[2];
    const cameraId = stack.centreId(sim.id);
    // Someone watches, so the gateway pulls the camera; the offer need not be answered.
    const viewer = new WebSocket(`${stack.centre.url.replace('http', 'ws')}/api/view`, { headers: { cookie: operator.cookie, origin: stack.centre.url } });
    await new Promise<void>((resolve, reject) => {
      viewer.once('open', () => resolve());
      viewer.once('error', reject);
    });
    try {
      viewer.send(JSON.stringify({ type: 'watch', tile: 't1', cameraId }));
      const camera = async (): Promise<CameraView | undefined> => (await operator.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras.find((c) => c.id === cameraId);
      await waitUntil(async () => (await camera())?.state === 'streaming', 'the camera streaming', 30_000, 100);
      await waitUntil(async () => ((await camera())?.health?.fps ?? 0) > 0, 'a health report with frames', 15_000, 100);
      await simControl(sim.control, 'faults/stall', { seconds: 20 });
      const stalledAfter = await waitUntil(async () => (await camera())?.state === 'stalled', 'the stalled state', 15_000, 100);
      expect(stalledAfter).toBeLessThanOrEqual(6500);
      const stalled = (await camera())!;
      expect(stalled.health).toMatchObject({ online: true, events: 'ok' });
      expect(stalled.health!.lastFrameAt).toBeLessThan(Date.now() - 4000);
      expect(typeof stalled.reason).toBe('string');
    } finally {
      viewer.close();
      await fetch(`${stack.sims[2].control}/faults`, { method: 'DELETE' });
    }
  });

  it('has the gateway back within 5 s of a restarted centre becoming reachable; its cameras are unknown until it reports', async () => {
    await ready(1);
    // The centre restarts while the network keeps the gateway out: it backs off meanwhile, as after any outage.
    stack.proxy.cut();
    let admin: CentreClient;
    try {
      await stack.restartCentre();
      admin = await stack.signIn('admin');
      expect((await admin.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras.map((c) => [c.state, c.health])).toEqual(stack.sims.map(() => ['unknown', null]));
    } finally {
      stack.proxy.restore();
    }
    const cameras = async (): Promise<CameraView[]> => (await admin.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras;
    const back = await waitUntil(() => stack.centre.stats().gatewaysOnline === 1, 'the gateway to reconnect', 15_000, 10);
    expect(back).toBeLessThanOrEqual(5000);
    await waitUntil(async () => (await cameras()).every((c) => c.state !== 'unknown' && c.health !== null), 'every camera reported again');
  });
});
