import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamLiveness } from '../../src/camera/camera';
import { CameraEventWatcher, type CameraNotice, type PullPointLike } from '../../src/events/camera-event-watcher';
import { Presence } from '../../src/events/presence';
import { OnvifError, type OnvifNotification } from '../../src/onvif/onvif-client';

const log = pino({ level: 'silent' });

/** A camera's pull point: the test queues what each pull returns, or fails it. */
class FakePullPoint implements PullPointLike {
  expiresAt: number;
  renewals = 0;
  closed = false;
  renewFails = false;
  private waiting: { resolve: (n: OnvifNotification[]) => void; reject: (e: Error) => void } | undefined;
  constructor(lifetimeMs = 120_000) {
    this.expiresAt = Date.now() + lifetimeMs;
  }
  pull(): Promise<OnvifNotification[]> {
    if (this.closed) return Promise.reject(new OnvifError('ONVIF_UNREACHABLE', 'pull point closed'));
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }
  deliver(...notes: OnvifNotification[]): void {
    this.waiting?.resolve(notes);
    this.waiting = undefined;
  }
  lose(): void {
    this.waiting?.reject(new OnvifError('ONVIF_BAD_REPLY', 'PullMessages: ONVIF SOAP Fault: ResourceUnknown'));
    this.waiting = undefined;
  }
  renew(): Promise<void> {
    this.renewals++;
    if (this.renewFails) return Promise.reject(new OnvifError('ONVIF_BAD_REPLY', 'Renew: ResourceUnknown'));
    this.expiresAt = Date.now() + 120_000;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    this.waiting?.reject(new OnvifError('ONVIF_UNREACHABLE', 'camera closed'));
    this.waiting = undefined;
    return Promise.resolve();
  }
}

const motion = (active: boolean, initialized = false): OnvifNotification => ({ kind: 'motion', topic: 'VideoSource/MotionAlarm', active, initialized, utcTime: '2026-01-09T10:00:00.000Z' });
const cellMotion = (active: boolean): OnvifNotification => ({ kind: 'motion', topic: 'RuleEngine/CellMotionDetector/Motion', active, initialized: false, utcTime: undefined });
const tamper = (active: boolean): OnvifNotification => ({ kind: 'tamper', topic: 'VideoSource/GlobalSceneChange/ImagingService', active, initialized: false, utcTime: undefined });

let points: FakePullPoint[];
let failNext: OnvifError | undefined;
let watcher: CameraEventWatcher;
let notices: CameraNotice[];
let liveness: StreamLiveness[];
const tick = async (ms = 0): Promise<void> => void (await vi.advanceTimersByTimeAsync(ms));

beforeEach(() => {
  vi.useFakeTimers({ now: 2_000_000 });
  points = [];
  failNext = undefined;
  notices = [];
  liveness = [];
  watcher = new CameraEventWatcher(
    'cam1',
    () => {
      if (failNext) {
        const e = failNext;
        return Promise.reject(e);
      }
      const p = new FakePullPoint();
      points.push(p);
      return Promise.resolve(p);
    },
    log,
    { random: () => 0.5 },
  );
  watcher.on('notice', (n) => notices.push(n));
  watcher.on('liveness', (l) => liveness.push(l));
});
afterEach(async () => {
  await watcher.close();
  vi.useRealTimers();
});

describe('camera event watcher (ONVIF pull point)', () => {
  it('forwards motion and tamper changes once each, however many topics report one change', async () => {
    watcher.start();
    await tick();
    points[0].deliver(motion(false, true), tamper(false));
    await tick();
    expect(notices).toEqual([]); // the state at subscription time is where we start
    points[0].deliver(motion(true), cellMotion(true));
    await tick();
    points[0].deliver(motion(true)); // the same state again is no new alarm
    await tick();
    points[0].deliver(tamper(true), motion(false), cellMotion(false));
    await tick();
    expect(notices).toEqual([
      { kind: 'motion', active: true, cameraTime: '2026-01-09T10:00:00.000Z' },
      { kind: 'tamper', active: true, cameraTime: undefined },
      { kind: 'motion', active: false, cameraTime: '2026-01-09T10:00:00.000Z' },
    ]);
  });

  it('renews before the termination time, again and again', async () => {
    watcher.start();
    await tick();
    expect(points[0].renewals).toBe(0);
    await tick(80_000); // two thirds of 120 s
    expect(points[0].renewals).toBe(1);
    await tick(80_000);
    expect(points[0].renewals).toBe(2);
    expect(points).toHaveLength(1);
  });

  it('re-creates a lost subscription after 1 s, and reports a change that happened while it was lost', async () => {
    watcher.start();
    await tick();
    points[0].deliver(motion(false, true));
    await tick();
    points[0].lose();
    await tick(999);
    expect(points).toHaveLength(1);
    await tick(1);
    expect(points).toHaveLength(2);
    expect(watcher.subscriptions).toBe(2);
    // Motion started during the gap: the new subscription's Initialized state says so.
    points[1].deliver(motion(true, true));
    await tick();
    expect(notices).toEqual([{ kind: 'motion', active: true, cameraTime: '2026-01-09T10:00:00.000Z' }]);
    // And the next change arrives on the new subscription.
    points[1].deliver(motion(false));
    await tick();
    expect(notices.at(-1)).toMatchObject({ kind: 'motion', active: false });
  });

  it('with the states kept from before a restart, a change that happened while the gateway was down is reported', async () => {
    const remembered: [string, boolean][] = [];
    const restarted = new CameraEventWatcher('cam1', () => Promise.resolve(new FakePullPoint()).then((p) => (points.push(p), p)), log, {
      known: new Map([['motion', true]]),
      remember: (kind, active) => remembered.push([kind, active]),
    });
    const got: CameraNotice[] = [];
    restarted.on('notice', (n) => got.push(n));
    restarted.start();
    await tick();
    points.at(-1)!.deliver(motion(false, true), tamper(false));
    await tick();
    expect(got).toEqual([{ kind: 'motion', active: false, cameraTime: '2026-01-09T10:00:00.000Z' }]);
    expect(remembered).toEqual([
      ['motion', false],
      ['tamper', false],
    ]);
    await restarted.close();
  });

  it('a failed renew drops the subscription and subscribes again', async () => {
    watcher.start();
    await tick();
    points[0].renewFails = true;
    await tick(80_000);
    expect(points[0].closed).toBe(true);
    await tick(1000);
    expect(points).toHaveLength(2);
  });

  it('retries a camera that does not answer with backoff, reporting it failing; a refusal still counts as alive', async () => {
    failNext = new OnvifError('ONVIF_UNREACHABLE', 'connect ECONNREFUSED');
    const statuses: string[] = [];
    watcher.on('status', (s) => statuses.push(s));
    watcher.start();
    await tick(1000 + 2000 + 5000);
    expect(statuses).toEqual(['failing']);
    expect(liveness.at(-1)).toBe('failing');
    failNext = new OnvifError('ONVIF_AUTH', 'not authorized');
    await tick(10_000);
    expect(liveness.at(-1)).toBe('ok');
    failNext = undefined;
    await tick(20_000);
    expect(points).toHaveLength(1);
    expect(statuses).toEqual(['failing', 'ok']);
  });

  it('close() unsubscribes and ends the loop', async () => {
    watcher.start();
    await tick();
    await watcher.close();
    expect(points[0].closed).toBe(true);
    await tick(60_000);
    expect(points).toHaveLength(1);
  });
});

describe('presence (online/offline)', () => {
  it('goes offline only when nothing is ok and something has failed for 10 s, and online at once', async () => {
    const p = new Presence(10_000);
    const changes: [boolean, boolean | undefined][] = [];
    p.on('change', (online, prev) => changes.push([online, prev]));
    p.set('events', 'ok');
    p.set('stream', 'inactive');
    expect(p.online).toBe(true);
    p.set('events', 'failing');
    await tick(9999);
    expect(p.online).toBe(true);
    p.set('stream', 'ok'); // the stream still flows: not offline
    await tick(20_000);
    expect(p.online).toBe(true);
    p.set('stream', 'failing');
    await tick(10_000);
    expect(p.online).toBe(false);
    p.set('events', 'ok');
    expect(changes).toEqual([
      [true, undefined],
      [false, true],
      [true, false],
    ]);
    p.close();
  });

  it('once closed, reports nothing more, even from a countdown already running', async () => {
    const p = new Presence(10_000);
    const changes: boolean[] = [];
    p.on('change', (online) => changes.push(online));
    p.set('events', 'failing');
    await tick(5000);
    p.close();
    p.set('stream', 'failing');
    await tick(60_000);
    expect(changes).toEqual([]);
    expect(p.online).toBeUndefined();
  });

  it('a camera that never answered is offline after 10 s; a signal that says nothing changes nothing', async () => {
    const p = new Presence(10_000);
    p.set('stream', 'inactive');
    await tick(60_000);
    expect(p.online).toBeUndefined();
    p.set('probe', 'failing');
    await tick(10_000);
    expect(p.online).toBe(false);
    p.close();
  });
});
