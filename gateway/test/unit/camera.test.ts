import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import { checkLinkMessage } from '@schoolcam/protocol/link/link-messages';
import { Camera, type CameraOptions } from '../../src/camera/camera';
import { CameraSourceError, type CameraSource, type CameraSourceEvents, type SourceFailureKind } from '../../src/camera/camera-source';
import type { CameraConfig } from '../../src/config';

const log = pino({ level: 'silent' });
const cfg: CameraConfig = { id: 'cam1', name: 'Vchod', rtsp: { url: 'rtsp://10.0.0.5/main' } };

/** A camera stream the test drives by hand. */
class FakeSource extends EventEmitter<CameraSourceEvents> implements CameraSource {
  width: number | undefined = 640;
  height: number | undefined = 360;
  readonly parameterSets = {};
  keyframeOnDemand = false;
  readonly transport = 'tcp' as const;
  lastPacketAt = 0;
  keyframeRequests = 0;
  closed = false;

  requestKeyframe(): void {
    this.keyframeRequests++;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  frame(timestamp: number, keyframe = false): void {
    this.lastPacketAt = Date.now();
    this.emit('frame', { nalus: [Buffer.from([keyframe ? 0x65 : 0x41, 0x88, 0x84])], timestamp, keyframe });
  }

  die(kind: SourceFailureKind = 'unreachable'): void {
    this.emit('close', new CameraSourceError(kind, `camera went away (${kind})`));
  }
}

/** Scripted factory: each attempt takes the next outcome (the last repeats); attempt times are recorded. */
class FakeCameraNetwork {
  readonly attempts: number[] = [];
  readonly sources: FakeSource[] = [];
  outcome: () => 'ok' | SourceFailureKind = () => 'ok';

  readonly factory = (): Promise<CameraSource> => {
    this.attempts.push(Date.now());
    const o = this.outcome();
    if (o !== 'ok') return Promise.reject(new CameraSourceError(o, `attempt failed (${o})`));
    const s = new FakeSource();
    this.sources.push(s);
    return Promise.resolve(s);
  };

  get last(): FakeSource {
    return this.sources[this.sources.length - 1];
  }
}

function makeCamera(net: FakeCameraNetwork, opts: Partial<CameraOptions> = {}): Camera {
  // random() = 0.5: jitter factor exactly 1, so the schedule is the nominal one.
  return new Camera(cfg, net.factory, { lingerMs: 10_000, random: () => 0.5, ...opts }, log);
}

/** Lets promise callbacks of the fake factory run. */
const settle = async (): Promise<void> => void (await vi.advanceTimersByTimeAsync(0));

/** The camera sends 15 fps for `ms`. */
async function play(source: FakeSource, ms: number, from = 0): Promise<void> {
  for (let t = 0; t < ms; t += 66) {
    source.frame(from + t * 90, t === 0);
    await vi.advanceTimersByTimeAsync(Math.min(66, ms - t));
  }
}

let cameras: Camera[] = [];
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(async () => {
  for (const c of cameras) await c.close();
  cameras = [];
  vi.useRealTimers();
});
const track = (c: Camera): Camera => (cameras.push(c), c);

describe('camera state machine', () => {
  it('a camera that is down when first asked is retried at 1 s, 2 s, 5 s, 10 s, 20 s, then every 30 s', async () => {
    const net = new FakeCameraNetwork();
    net.outcome = () => 'unreachable';
    const cam = track(makeCamera(net));
    const states: string[] = [];
    cam.on('state', (inv) => states.push(inv.state));
    cam.acquire();
    await settle();
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 5000 + 10_000 + 20_000 + 30_000 + 30_000);
    const gaps = net.attempts.slice(1).map((t, i) => t - net.attempts[i]);
    expect(gaps).toEqual([1000, 2000, 5000, 10_000, 20_000, 30_000, 30_000]);
    expect(states).toEqual(['starting', 'failing']);
    expect(cam.inventory()).toMatchObject({ state: 'failing', reason: 'attempt failed (unreachable)' });
  });

  it('jitters each delay by at most ±20 %', async () => {
    for (const r of [0, 0.999]) {
      const net = new FakeCameraNetwork();
      net.outcome = () => 'unreachable';
      const cam = track(makeCamera(net, { random: () => r }));
      cam.acquire();
      await settle();
      await vi.advanceTimersByTimeAsync(3000);
      const first = net.attempts[1] - net.attempts[0];
      expect(first).toBeGreaterThanOrEqual(800);
      expect(first).toBeLessThanOrEqual(1200);
      expect(first).not.toBe(1000);
    }
  });

  it('viewers coming and going (a page retrying, the centre restarting an uplink) never bring an attempt forward', async () => {
    const net = new FakeCameraNetwork();
    net.outcome = () => 'unreachable';
    const cam = track(makeCamera(net, { lingerMs: 0 }));
    let release = cam.acquire();
    await settle();
    await vi.advanceTimersByTimeAsync(1000 + 2000); // attempts at 0, 1 s, 3 s: the next is due 5 s later
    expect(net.attempts).toHaveLength(3);
    // A page reloading every 200 ms for 4 s: release, linger out, acquire again.
    for (let i = 0; i < 20; i++) {
      release();
      await vi.advanceTimersByTimeAsync(100);
      release = cam.acquire();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(net.attempts).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(net.attempts).toHaveLength(4);
    expect(net.attempts[3] - net.attempts[2]).toBe(5000);
  });

  it('a stream that dies is reconnected underneath its consumer, whose frames continue on one timeline from the first key frame', async () => {
    const net = new FakeCameraNetwork();
    const cam = track(makeCamera(net));
    const got: AccessUnit[] = [];
    cam.on('frame', (au) => got.push(au));
    cam.acquire();
    await settle();
    const first = net.last;
    for (let i = 0; i < 5; i++) {
      first.frame(90_000 + i * 6000, i === 0);
      await vi.advanceTimersByTimeAsync(66);
    }
    expect(cam.streamState).toBe('streaming');
    first.die('unreachable');
    expect(cam.streamState).toBe('failing');
    await vi.advanceTimersByTimeAsync(1000); // backoff 1 s, then the camera is back
    const second = net.last;
    expect(second).not.toBe(first);
    // The rebooted camera's clock starts elsewhere, and its first frames are not decodable alone.
    second.frame(7_000_000, false);
    second.frame(7_006_000, false);
    await vi.advanceTimersByTimeAsync(100);
    second.frame(7_012_000, true);
    await vi.advanceTimersByTimeAsync(66);
    second.frame(7_018_000, false);
    expect(got).toHaveLength(7);
    expect(got[5].keyframe).toBe(true);
    // The gap on the output timeline is the wall-clock gap (66 + 1000 + 100 ms), at 90 kHz.
    const gap = (got[5].timestamp - got[4].timestamp) >>> 0;
    expect(gap).toBe(Math.round((66 + 1000 + 100) * 90));
    expect((got[6].timestamp - got[5].timestamp) >>> 0).toBe(6000);
    expect(cam.streamState).toBe('streaming');
    expect(cam.reconnects).toBe(1);
  });

  it('no RTP for 4.5 s marks the camera stalled (flagged within 5 s of its last packet), closes the session and reconnects', async () => {
    const net = new FakeCameraNetwork();
    const cam = track(makeCamera(net));
    const changes: { state: string; at: number }[] = [];
    cam.on('state', (inv) => changes.push({ state: inv.state, at: Date.now() }));
    cam.acquire();
    await settle();
    const s = net.last;
    s.frame(0, true);
    for (let i = 1; i <= 15; i++) {
      await vi.advanceTimersByTimeAsync(66);
      s.frame(i * 6000);
    }
    const lastPacket = Date.now();
    await vi.advanceTimersByTimeAsync(4499);
    expect(cam.streamState).toBe('streaming');
    await vi.advanceTimersByTimeAsync(2); // the timer at 4.5 s, then the check after pending I/O
    expect(cam.streamState).toBe('stalled');
    const stalled = changes.find((c) => c.state === 'stalled')!;
    expect(stalled.at - lastPacket).toBeLessThanOrEqual(5000);
    expect(s.closed).toBe(true);
    expect(cam.inventory().reason).toMatch(/no video/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(net.sources).toHaveLength(2);
    net.last.frame(50, true);
    expect(cam.streamState).toBe('streaming');
  });

  it('a rebooted camera is reconnected within a second of answering again, with no RTSP attempt while it was down beyond the backoff', async () => {
    const net = new FakeCameraNetwork();
    let up = true;
    net.outcome = () => (up ? 'ok' : 'unreachable');
    let probes = 0;
    const cam = track(
      makeCamera(net, {
        probe: () => {
          probes++;
          return Promise.resolve(up);
        },
      }),
    );
    cam.acquire();
    await settle();
    net.last.frame(0, true);
    // Reboot: the stream drops, the camera is gone for 7.3 s.
    up = false;
    net.last.die('unreachable');
    await vi.advanceTimersByTimeAsync(7300);
    const attemptsWhileDown = net.attempts.length - 1;
    expect(attemptsWhileDown).toBe(2); // at 1 s and 3 s; the next is due at 8 s: the backoff decides, not the probes
    expect(probes).toBeGreaterThan(5);
    up = true;
    const back = Date.now();
    await vi.advanceTimersByTimeAsync(600);
    expect(net.attempts.at(-1)! - back).toBeLessThanOrEqual(500);
    net.last.frame(123, true);
    expect(cam.streamState).toBe('streaming');
  });

  it('probes only a camera that stopped answering, not one that refused the password', async () => {
    const net = new FakeCameraNetwork();
    net.outcome = () => 'auth';
    let probes = 0;
    const cam = track(makeCamera(net, { probe: () => (probes++, Promise.resolve(true)) }));
    cam.acquire();
    await settle();
    await vi.advanceTimersByTimeAsync(8000);
    expect(probes).toBe(0);
    expect(net.attempts.map((t) => t - net.attempts[0])).toEqual([0, 1000, 3000, 8000]);
    expect(cam.inventory()).toMatchObject({ state: 'failing' });
  });

  it('linger: keeps pulling for lingerMs after the last consumer leaves, then stops and shows idle', async () => {
    const net = new FakeCameraNetwork();
    const cam = track(makeCamera(net, { lingerMs: 3000 }));
    const release = cam.acquire();
    await settle();
    net.last.frame(0, true);
    release();
    release(); // twice is once
    await play(net.last, 2999);
    expect(cam.running).toBe(true);
    // Coming back within the linger reuses the running source.
    const again = cam.acquire();
    await play(net.last, 5000);
    expect(net.sources).toHaveLength(1);
    again();
    await vi.advanceTimersByTimeAsync(3000);
    expect(cam.running).toBe(false);
    expect(net.sources[0].closed).toBe(true);
    expect(cam.streamState).toBe('idle');
  });

  it('a proven stream resets the backoff: the next outage starts again at 1 s', async () => {
    const net = new FakeCameraNetwork();
    let fail = 3;
    net.outcome = () => (fail-- > 0 ? 'unreachable' : 'ok');
    const cam = track(makeCamera(net));
    cam.acquire();
    await settle();
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 5000);
    expect(net.sources).toHaveLength(1);
    net.last.frame(0, true);
    net.last.die('unreachable');
    const lost = Date.now();
    await vi.advanceTimersByTimeAsync(1000);
    expect(net.attempts.at(-1)! - lost).toBe(1000);
  });

  it('reports only picture sizes the link accepts, whatever the SPS claims', async () => {
    const net = new FakeCameraNetwork();
    const cam = track(makeCamera(net));
    cam.acquire();
    await settle();
    net.last.width = 65_535;
    net.last.height = 65_535;
    net.last.frame(0, true);
    const inv = cam.inventory();
    expect(inv.width).toBeUndefined();
    expect(() => checkLinkMessage({ type: 'camera.state', camera: inv })).not.toThrow();
  });

  it('asks a new session for a key frame, and a factory that throws fails the attempt instead of the process', async () => {
    const net = new FakeCameraNetwork();
    const cam = track(makeCamera(net));
    cam.acquire();
    await settle();
    expect(net.last.keyframeRequests).toBe(1);
    const throwing = track(
      new Camera(
        cfg,
        () => {
          throw new Error('sync throw');
        },
        { lingerMs: 0, random: () => 0.5 },
        log,
      ),
    );
    throwing.acquire();
    await settle();
    expect(throwing.streamState).toBe('failing');
  });
});
