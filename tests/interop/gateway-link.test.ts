/**
 * The gateway against real simulated cameras (ONVIF, RTSP, PullPoint events, faults through the
 * control API) and a test-only link peer that speaks the real schema in place of the centre:
 * hello and health, store-and-forward of events (ids, seq, acks, resends across a link cut),
 * lost event subscriptions, stalls and reboots, and the centre's requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CameraHealth, GatewayEvent } from '../../protocol/src/link/link-messages';
import { LinkPeer } from '../support/link-peer';
import { onvifEntry, simControl, startGatewayKit, type GatewayKit } from '../support/gateway-kit';

let kit: GatewayKit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

const motionEvents = (events: readonly GatewayEvent[]): GatewayEvent[] => events.filter((e) => e.kind === 'motion');
const lastHealth = (k: GatewayKit, cameraId: string): CameraHealth | undefined => k.peer.of('health').at(-1)?.cameras.find((c) => c.cameraId === cameraId);

describe('gateway ↔ link peer, with simulated cameras', () => {
  it('says hello with the cameras of its YAML config, then reports every camera’s health', async () => {
    kit = await startGatewayKit({ cameras: 2 });
    const hello = kit.peer.of('hello')[0];
    expect(hello.cameras.map((c) => c.id).sort()).toEqual(kit.cameras.map((c) => c.id).sort());
    await kit.peer.waitFor(() => kit!.peer.of('health').length > 0, 'a health report');
    const health = kit.peer.of('health')[0].cameras;
    expect(health.map((h) => h.cameraId).sort()).toEqual(kit.cameras.map((c) => c.id).sort());
    for (const h of health) expect(h).toMatchObject({ state: 'idle', fps: 0, reconnects: 0, events: 'ok' });
  });

  it('forwards motion raised on a camera as one event with an id and a seq; acked, it leaves the outbox', async () => {
    kit = await startGatewayKit();
    const cam = kit.cameras[0];
    await kit.peer.waitFor(() => kit!.gateway.camera(cam.id)!.health().events === 'ok' && kit!.fleet.cameras[0].onvif.faultState().subscriptions > 0, 'the event subscription');
    const raised = Date.now();
    await simControl(cam.control, 'events/motion', { state: true });
    await kit.peer.waitFor(() => motionEvents(kit!.peer.events).length === 1, 'the motion event');
    const [e] = motionEvents(kit.peer.events);
    expect(e).toMatchObject({ cameraId: cam.id, kind: 'motion', active: true });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.seq).toBeGreaterThanOrEqual(1);
    expect(e.at - raised).toBeLessThan(1000);
    expect(e.cameraTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    await kit.peer.waitFor(() => kit!.gateway.stats().outbox === 0, 'the acked event to leave the outbox');
    await simControl(cam.control, 'events/motion', { state: false });
    await kit.peer.waitFor(() => motionEvents(kit!.peer.events).length === 2, 'motion ending');
    expect(motionEvents(kit.peer.events)[1]).toMatchObject({ active: false });
    expect(kit.peer.duplicates).toBe(0);
  });

  it('keeps events raised while the link is cut and delivers them when it returns: in order, none lost, none twice', async () => {
    kit = await startGatewayKit();
    const cam = kit.cameras[0];
    await kit.peer.waitFor(() => kit!.fleet.cameras[0].onvif.faultState().subscriptions > 0, 'the event subscription');
    await simControl(cam.control, 'events/motion', { state: true });
    await kit.peer.waitFor(() => motionEvents(kit!.peer.events).length === 1, 'the first event');
    const port = kit.peer.port;
    await kit.peer.close();
    // Motion during the cut: three starts and ends.
    for (let i = 0; i < 3; i++) {
      await simControl(cam.control, 'events/motion', { state: false });
      await new Promise((r) => setTimeout(r, 150));
      await simControl(cam.control, 'events/motion', { state: true });
      await new Promise((r) => setTimeout(r, 150));
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(kit.gateway.stats().outbox).toBe(6);
    kit.peer = await LinkPeer.start({ gatewayId: 'gw-test', secret: 'test-gateway-secret' }, port);
    await kit.peer.waitFor(() => motionEvents(kit!.peer.events).length === 6, 'the six events kept during the cut');
    const got = motionEvents(kit.peer.events);
    expect(got.map((e) => e.active)).toEqual([false, true, false, true, false, true]);
    const seqs = got.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(got.map((e) => e.id)).size).toBe(6);
    expect(kit.peer.duplicates).toBe(0);
    await kit.peer.waitFor(() => kit!.gateway.stats().outbox === 0, 'the outbox to empty');
  });

  it('re-creates a lost event subscription, and motion raised right after the loss still arrives, as does the next', async () => {
    kit = await startGatewayKit();
    const cam = kit.cameras[0];
    const sim = kit.fleet.cameras[0];
    await kit.peer.waitFor(() => sim.onvif.faultState().subscriptions > 0, 'the event subscription');
    await simControl(cam.control, 'faults/lose-subscriptions');
    expect(sim.onvif.faultState().subscriptions).toBe(0);
    await simControl(cam.control, 'events/motion', { state: true });
    await kit.peer.waitFor(() => sim.onvif.faultState().subscriptions === 1, 'the subscription to be re-created', 10_000);
    await kit.peer.waitFor(() => motionEvents(kit!.peer.events).length === 1, 'the motion raised during the loss');
    await simControl(cam.control, 'events/motion', { state: false });
    await kit.peer.waitFor(() => motionEvents(kit!.peer.events).length === 2, 'the next motion change');
    expect(motionEvents(kit.peer.events).map((e) => e.active)).toEqual([true, false]);
  });

  it('marks a camera whose video stops stalled within 5 s of the fault, reconnects, and streams again when it resumes', async () => {
    kit = await startGatewayKit({ fleet: { fps: 15, gopSeconds: 1 } });
    const cam = kit.cameras[0];
    const sup = kit.gateway.camera(cam.id)!;
    const states: { state: string; at: number }[] = [];
    sup.camera.on('state', (inv) => states.push({ state: inv.state, at: Date.now() }));
    const release = sup.camera.acquire();
    try {
      await kit.peer.waitFor(() => sup.camera.streamState === 'streaming', 'streaming');
      await new Promise((r) => setTimeout(r, 1000));
      const fault = Date.now();
      await simControl(cam.control, 'faults/stall', { seconds: 8 });
      await kit.peer.waitFor(() => sup.camera.streamState === 'stalled', 'the stall to be noticed', 8000);
      const noticed = states.find((s) => s.state === 'stalled')!.at;
      expect(noticed - fault).toBeLessThanOrEqual(5000);
      // The centre hears it too.
      await kit.peer.waitFor(() => kit!.peer.of('camera.state').some((m) => m.camera.id === cam.id && m.camera.state === 'stalled'), 'camera.state stalled');
      await kit.peer.waitFor(() => sup.camera.streamState === 'streaming', 'streaming after the stall ends', 20_000);
      expect(sup.camera.reconnects).toBeGreaterThanOrEqual(1);
      await kit.peer.waitFor(() => (lastHealth(kit!, cam.id)?.reconnects ?? 0) >= 1, 'health counting the reconnect', 15_000);
    } finally {
      release();
    }
  });

  it('streams again within 2 s of a rebooted camera answering, on the same timeline, without a new consumer', async () => {
    kit = await startGatewayKit({ fleet: { fps: 15, gopSeconds: 4 } });
    const cam = kit.cameras[0];
    const sim = kit.fleet.cameras[0];
    const camera = kit.gateway.camera(cam.id)!.camera;
    const frames: { at: number; ts: number; key: boolean }[] = [];
    camera.on('frame', (au) => frames.push({ at: Date.now(), ts: au.timestamp, key: au.keyframe }));
    const release = camera.acquire();
    try {
      await kit.peer.waitFor(() => frames.length > 20, 'frames before the reboot');
      const beforeReboot = frames.length;
      await simControl(cam.control, 'faults/reboot', { downSeconds: 3 });
      await kit.peer.waitFor(() => sim.isDown, 'the camera to go down', 2000);
      await kit.peer.waitFor(() => !sim.isDown, 'the camera to come back', 10_000);
      const back = Date.now();
      await kit.peer.waitFor(() => frames.length > beforeReboot && frames.at(-1)!.at >= back, 'frames after the reboot', 10_000);
      const resumed = frames.find((f, i) => i >= beforeReboot && f.at >= back)!;
      expect(resumed.at - back).toBeLessThanOrEqual(2000);
      // The first frame after the gap is a key frame, and the timeline runs on by the wall-clock gap.
      const i = frames.indexOf(resumed);
      expect(resumed.key).toBe(true);
      const gapMs = resumed.at - frames[i - 1].at;
      const tsGapMs = ((resumed.ts - frames[i - 1].ts) >>> 0) / 90;
      expect(Math.abs(tsGapMs - gapMs)).toBeLessThan(100);
      expect(camera.reconnects).toBe(1);
    } finally {
      release();
    }
  });

  it('reports health per camera: state, fps, bitrate, last frame, key-frame interval', async () => {
    kit = await startGatewayKit({ fleet: { fps: 15, gopSeconds: 1 } });
    const cam = kit.cameras[0];
    const release = kit.gateway.camera(cam.id)!.camera.acquire();
    try {
      await kit.peer.waitFor(() => {
        const h = lastHealth(kit!, cam.id);
        return h?.state === 'streaming' && h.fps > 10 && h.keyframeIntervalMs !== undefined;
      }, 'a streaming health report', 25_000);
      const h = lastHealth(kit, cam.id)!;
      expect(h.fps).toBeGreaterThan(12);
      expect(h.fps).toBeLessThan(18);
      expect(h.bitrateKbps).toBeGreaterThan(50);
      expect(h.keyframeIntervalMs).toBeGreaterThan(900);
      expect(h.keyframeIntervalMs).toBeLessThan(1100);
      expect(Date.now() - h.lastFrameAt!).toBeLessThan(15_000);
      expect(h).toMatchObject({ online: true, transport: 'tcp', width: 640, height: 360, events: 'ok' });
    } finally {
      release();
    }
  });

  it('answers the centre’s camera.register and camera.unregister, keeping the registration across a restart', async () => {
    kit = await startGatewayKit({ cameras: 2, entries: (s) => [onvifEntry(s[0])] });
    const other = kit.cameras[1];
    kit.peer.send({ type: 'camera.register', requestId: 'req-1', camera: { id: 'added', name: 'Tělocvična', rtsp: { url: other.rtsp, username: other.username, password: other.password } } });
    await kit.peer.waitFor(() => kit!.peer.of('camera.registered').length === 1, 'camera.registered');
    expect(kit.peer.of('camera.registered')[0]).toMatchObject({ requestId: 'req-1', camera: { id: 'added', name: 'Tělocvična' } });
    await kit.peer.waitFor(() => kit!.peer.of('hello').some((h) => h.cameras.some((c) => c.id === 'added')), 'a new hello listing it');
    await kit.restartGateway();
    await kit.peer.waitFor(() => kit!.peer.of('hello').length >= 3, 'hello after the restart');
    expect(kit.peer.of('hello').at(-1)!.cameras.map((c) => c.id).sort()).toEqual([kit.cameras[0].id, 'added'].sort());
    kit.peer.send({ type: 'camera.unregister', requestId: 'req-2', cameraId: 'added' });
    kit.peer.send({ type: 'camera.unregister', requestId: 'req-3', cameraId: 'no-such-camera' });
    await kit.peer.waitFor(() => kit!.peer.of('camera.unregistered').length === 1 && kit!.peer.of('request.failed').length === 1, 'both replies');
    expect(kit.peer.of('request.failed')[0]).toMatchObject({ requestId: 'req-3', code: 'NOT_FOUND' });
    kit.peer.send({ type: 'camera.register', requestId: 'req-4', camera: { id: 'bad', name: 'x' } });
    await kit.peer.waitFor(() => kit!.peer.of('request.failed').length === 2, 'a refusal');
    expect(kit.peer.of('request.failed')[1]).toMatchObject({ requestId: 'req-4', code: 'BAD_REQUEST' });
  });

  it('answers the centre’s check with a graded result, and a refused login with request.failed AUTH', async () => {
    kit = await startGatewayKit({ fleet: { gopSeconds: 1 } });
    const cam = kit.cameras[0];
    kit.peer.send({ type: 'check', requestId: 'c1', url: cam.onvif, username: cam.username, password: cam.password });
    kit.peer.send({ type: 'check', requestId: 'c2', url: cam.rtsp, username: cam.username, password: 'wrong' });
    await kit.peer.waitFor(() => kit!.peer.of('check.result').length === 1 && kit!.peer.of('request.failed').length === 1, 'both answers', 20_000);
    expect(kit.peer.of('check.result')[0]).toMatchObject({ requestId: 'c1', result: { codec: 'H264', width: 640, height: 360, keyframeOnDemand: true, grade: 'ready' } });
    expect(kit.peer.of('request.failed')[0]).toMatchObject({ requestId: 'c2', code: 'AUTH' });
  });
});
