import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { AccessPolicy } from '../../src/access/policy';
import type { Principal } from '../../src/access/principal';
import type { SessionLookup } from '../../src/auth/session-service';
import type { CameraEntry } from '../../src/cameras/camera-catalogue';
import type { AlarmRecord } from '../../src/storage/alarm-store';
import { LiveViews } from '../../src/viewer/live-views';
import { ViewerSession } from '../../src/viewer/viewer-session';
import { SyntheticH264Encoder } from '@schoolcam/protocol/h264/encoder/synthetic-encoder';
import { H264Packetizer } from '@schoolcam/protocol/h264/packetizer';
import type { TapPacket } from '../../src/fanout/fanout';
import { decodeMseFrame } from '../../src/viewer/mse-frame';
import { FakeAudit, FakeFanout, FakeSocket, alarmRecord, flush, silent } from './fakes';

/** `count` frames of a 15 fps camera as the fan-out's tap delivers them (RTP payloads, 90 kHz timestamps). */
function tapPackets(count: number, ts0 = 1000): TapPacket[] {
  const enc = new SyntheticH264Encoder({ width: 160, height: 96, fps: 15, gopSeconds: 1, name: 'MSE' });
  const pk = new H264Packetizer();
  const out: TapPacket[] = [];
  for (let i = 0; i < count; i++) {
    const payloads = pk.packetize(enc.encode(1_718_000_000_000 + i * 66).nalus);
    payloads.forEach((payload, k) => out.push({ payload, timestamp: ts0 + i * 6000, marker: k === payloads.length - 1 }));
  }
  return out;
}

const boxType = (b: Uint8Array): string => Buffer.from(b.subarray(4, 8)).toString('latin1');

const camera = (local: string, gatewayId: string, schoolId: string): CameraEntry => ({
  id: `${gatewayId}:${local}`,
  localId: local,
  gatewayId,
  schoolId,
  name: local,
  state: 'idle',
  reason: null,
  width: 640,
  height: 360,
  updatedAt: 0,
  health: null,
  registration: null,
});
const CAMERAS = [camera('vchod', 'gw-sok', 'zs-sokolov'), camera('dvur', 'gw-sok', 'zs-sokolov'), camera('vchod', 'gw-cheb', 'gym-cheb')];

let principal: Principal;
let session: SessionLookup;
let fanout: FakeFanout;
let audit: FakeAudit;
let socket: FakeSocket;
let viewer: ViewerSession;

function start(limits = { tilesPerSocket: 2, answerTimeoutMs: 1000 }): void {
  fanout = new FakeFanout();
  audit = new FakeAudit();
  socket = new FakeSocket();
  const liveViews = new LiveViews(fanout, audit, { perUser: 50, total: 50 }, silent);
  viewer = new ViewerSession(socket as unknown as WebSocket, principal.sessionId, principal.userId, '10.0.0.9', {
    liveViews,
    policy: new AccessPolicy(),
    cameras: { get: (id) => CAMERAS.find((c) => c.id === id), list: () => CAMERAS },
    openAlarms: () => [],
    audit,
    lookupSession: () => session,
    onRefused: () => undefined,
    limits,
    log: silent,
  });
}

beforeEach(() => {
  principal = { userId: 'u-it', username: 'it-sokolov', role: 'school_it', orgId: 'zs-sokolov', sessionId: 's-1' };
  session = { state: 'valid', principal, session: { id: 's-1', userId: 'u-it', csrfToken: 'x', address: null, createdAt: 0, lastSeenAt: 0, expiresAt: 0 } };
  start();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('viewer session', () => {
  it('answers a watch over MSE with the codec, then the tile\'s video as fMP4 frames (init segment first), under the same audit and cut as WebRTC', async () => {
    socket.receive({ type: 'watch', tile: 'm1', cameraId: 'gw-sok:vchod', transport: 'mse' });
    await flush();
    expect(socket.ofType('offer')).toEqual([]);
    expect(fanout.taps).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ kind: 'view.start', cameraId: 'gw-sok:vchod', detail: { transport: 'mse' } });
    fanout.taps[0].lease.deliver(tapPackets(3));
    expect(socket.ofType('mse')).toEqual([{ type: 'mse', tile: 'm1', codec: 'avc1.42e00a' }]);
    const frames = socket.binary.map((f) => decodeMseFrame(f)!);
    expect(frames.map((f) => f.tile)).toEqual(['m1', 'm1', 'm1', 'm1']);
    expect(frames.map((f) => boxType(f.fmp4))).toEqual(['ftyp', 'moof', 'moof', 'moof']);
    // An answer makes no sense for an MSE tile.
    socket.receive({ type: 'answer', tile: 'm1', sdp: 'v=0' });
    await flush();
    expect(socket.ofType('error').at(-1)).toMatchObject({ tile: 'm1', code: 'NO_OFFER' });
    socket.receive({ type: 'unwatch', tile: 'm1' });
    await flush();
    expect(fanout.taps[0].lease.released).toBe(1);
    fanout.taps[0].lease.deliver(tapPackets(1, 99_000));
    expect(socket.binary).toHaveLength(4);
  });

  it('pushes only the cameras in the account\'s scope', () => {
    viewer.sendCameras();
    const list = socket.ofType('cameras')[0].cameras as { id: string }[];
    expect(list.map((c) => c.id)).toEqual(['gw-sok:vchod', 'gw-sok:dvur']);
  });

  it('answers a watch of another school\'s camera with NOT_FOUND and no offer, and audits the refusal', async () => {
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-cheb:vchod' });
    await flush();
    expect(socket.ofType('error')).toEqual([{ type: 'error', tile: 't1', code: 'NOT_FOUND', message: 'camera not found' }]);
    expect(socket.ofType('offer')).toEqual([]);
    expect(fanout.calls).toHaveLength(0);
    expect(audit.entries).toEqual([expect.objectContaining({ kind: 'access.refused', cameraId: 'gw-cheb:vchod', detail: { code: 'NOT_FOUND', reason: 'out_of_scope' } })]);
  });

  it('answers FORBIDDEN to an admin, who may see the camera but not watch it', async () => {
    principal = { ...principal, role: 'admin', orgId: 'kvk' };
    session = { ...session, principal } as SessionLookup;
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-cheb:vchod' });
    await flush();
    expect(socket.ofType('error')[0]).toMatchObject({ code: 'FORBIDDEN' });
    expect(fanout.calls).toHaveLength(0);
  });

  it('holds the tile limit while tiles are still starting, however often one tile is re-watched', async () => {
    fanout.auto = false;
    for (let i = 0; i < 10; i++) socket.receive({ type: 'watch', tile: 'same', cameraId: 'gw-sok:vchod' });
    await flush();
    expect(fanout.calls).toHaveLength(2);
    expect(socket.ofType('error').every((e) => e.code === 'TOO_MANY_TILES')).toBe(true);
    expect(socket.ofType('error')).toHaveLength(8);
    for (const c of fanout.calls) c.resolve(c.lease);
    await flush();
    // The superseded start is released; only the last watch of the tile gets an offer.
    expect(fanout.calls.map((c) => c.lease.released)).toEqual([1, 0]);
    expect(socket.ofType('offer')).toHaveLength(1);
  });

  it('drops a tile whose browser never answers the offer, and tells the page why', async () => {
    vi.useFakeTimers();
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' });
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.ofType('offer')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1001);
    expect(fanout.calls[0].lease.released).toBe(1);
    expect(socket.ofType('ended')[0]).toMatchObject({ tile: 't1', cause: { kind: 'answer_timeout' } });
  });

  it('passes an answer on, and re-checks access at the answer: a role changed meanwhile ends the view', async () => {
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' });
    socket.receive({ type: 'watch', tile: 't2', cameraId: 'gw-sok:dvur' });
    await flush();
    socket.receive({ type: 'answer', tile: 't1', sdp: 'v=0 answer' });
    await flush();
    expect(fanout.calls[0].lease.answers).toEqual(['v=0 answer']);
    principal = { ...principal, orgId: 'gym-cheb' }; // moved to another school
    session = { ...session, principal } as SessionLookup;
    socket.receive({ type: 'answer', tile: 't2', sdp: 'v=0 answer' });
    await flush();
    expect(fanout.calls[1].lease.answers).toEqual([]);
    expect(fanout.calls[1].lease.released).toBe(1);
    expect(socket.ofType('ended')[0]).toMatchObject({ tile: 't2', cause: { kind: 'access_revoked' } });
  });

  it('refuses every message once the session has ended, and signs the page out', async () => {
    session = { state: 'expired' };
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' });
    await flush();
    expect(socket.ofType('error')[0]).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(socket.ofType('signed-out')[0]).toMatchObject({ cause: { kind: 'session_expired' } });
    expect(socket.closedWith).toBe(4401);
    expect(fanout.calls).toHaveLength(0);
  });

  it('answers malformed and unknown messages with BAD_MESSAGE and keeps the socket', async () => {
    socket.receive('not json');
    socket.receive({ type: 'consume', producerId: 'x' });
    socket.receive({ type: 'watch', tile: '../../etc', cameraId: 'gw-sok:vchod' });
    await flush();
    expect(socket.ofType('error').map((e) => e.code)).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE']);
    expect(socket.terminated).toBe(false);
  });

  it('releases every tile when the socket closes, and pings; a browser that stops answering is dropped', async () => {
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' });
    await flush();
    expect(viewer.heartbeat()).toBe(true);
    expect(socket.pings).toBe(1);
    expect(viewer.heartbeat()).toBe(false); // no pong came
    expect(socket.terminated).toBe(true);
    expect(fanout.calls[0].lease.released).toBe(1);
  });

  it('defers camera-list pushes while the browser is not reading', () => {
    socket.bufferedAmount = 2 * 1024 * 1024;
    viewer.sendCameras();
    expect(socket.ofType('cameras')).toHaveLength(0);
    socket.bufferedAmount = 0;
    viewer.flushDeferred();
    expect(socket.ofType('cameras')).toHaveLength(1);
  });
});

describe('viewer session keepalive', () => {
  it('signs the page out at the next heartbeat once the session has expired, cutting its views', async () => {
    socket.receive({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' });
    await flush();
    socket.emit('pong');
    session = { state: 'expired' };
    expect(viewer.heartbeat()).toBe(false);
    expect(socket.ofType('signed-out')[0]).toMatchObject({ cause: { kind: 'session_expired' } });
    expect(fanout.calls[0].lease.released).toBe(1);
  });

  it('pushes an alarm only when the account may see it, named by its camera, and re-checks the session at each push', () => {
    const alarm = (cameraId: string | null, schoolId: string): AlarmRecord =>
      alarmRecord(`a-${cameraId ?? schoolId}`, { kind: cameraId ? 'motion' : 'gateway_offline', gatewayId: cameraId?.split(':')[0] ?? 'gw-cheb', cameraId, schoolId });
    viewer.sendAlarm(alarm('gw-sok:vchod', 'zs-sokolov'), 'raised');
    viewer.sendAlarm(alarm('gw-cheb:vchod', 'gym-cheb'), 'raised');
    viewer.sendAlarm(alarm(null, 'gym-cheb'), 'raised');
    viewer.sendAlarm(alarm(null, 'zs-sokolov'), 'cleared');
    expect(socket.ofType('alarm').map((m) => [m.change, (m.alarm as { id: string; cameraName: string | null }).id, (m.alarm as { cameraName: string | null }).cameraName])).toEqual([
      ['raised', 'a-gw-sok:vchod', 'vchod'],
      ['cleared', 'a-zs-sokolov', null],
    ]);
    session = { state: 'expired' };
    viewer.sendAlarm(alarm('gw-sok:vchod', 'zs-sokolov'), 'acked');
    expect(socket.ofType('alarm')).toHaveLength(2);
  });
});
