import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Backoff } from '../camera/backoff';
import type { StreamLiveness } from '../camera/camera';
import { OnvifError, type OnvifNotification } from '../onvif/onvif-client';

/** What the watcher needs of a pull-point subscription (the ONVIF adapter's `OnvifPullPoint`, or a fake). */
export interface PullPointLike {
  /** Our clock (ms) at which the camera drops the subscription unless renewed. */
  readonly expiresAt: number;
  pull(): Promise<OnvifNotification[]>;
  renew(): Promise<void>;
  close(): Promise<void>;
}

export type PullPointFactory = () => Promise<PullPointLike>;

/** A motion or tamper change the camera reported. */
export interface CameraNotice {
  kind: 'motion' | 'tamper';
  active: boolean;
  cameraTime: string | undefined;
}

export interface EventWatcherEvents {
  notice: [notice: CameraNotice];
  /** `ok` while subscribed and pulling; `failing` (with why) while it cannot. */
  status: [status: 'ok' | 'failing', reason: string | undefined];
  /** Whether the pull says the camera is alive: only no answer at all counts as `failing`. */
  liveness: [signal: StreamLiveness];
}

export interface EventWatcherOptions {
  /** Delays before re-creating a lost subscription; default 1 s, 2 s, 5 s, 10 s, 20 s, 30 s. */
  backoffStepsMs?: readonly number[];
  random?: () => number;
  /** The states last heard before this watcher existed (kept across gateway restarts). */
  known?: ReadonlyMap<'motion' | 'tamper', boolean>;
  /** Told every state the camera reports, to keep for the next start. */
  remember?: (kind: 'motion' | 'tamper', active: boolean) => void;
}

/**
 * The ONVIF events of one camera (ONVIF Core §9.1 pull point): subscribe, long-poll, renew before
 * the termination time (at two thirds of what is left, at least 5 s ahead), and, when the
 * subscription is lost (camera reboot, `ResourceUnknownFault`, a failed renew) or the camera
 * stops answering, subscribe again with backoff.
 *
 * Motion and tamper are properties: a notice goes out when the state changes. A re-subscription
 * starts with the camera's current state (`Initialized`): a change that happened while the
 * subscription was lost — or while the gateway was down, with `known` states kept across
 * restarts — is reported then, and an unchanged state is not reported twice.
 */
export class CameraEventWatcher extends EventEmitter<EventWatcherEvents> {
  private current: PullPointLike | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly backoff: Backoff;
  private readonly last: Map<'motion' | 'tamper', boolean>;
  private readonly remember: ((kind: 'motion' | 'tamper', active: boolean) => void) | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private statusNow: 'ok' | 'failing' | undefined;
  /** Subscriptions made (the first, and every re-creation). */
  subscriptions = 0;

  constructor(
    readonly cameraId: string,
    private readonly factory: PullPointFactory,
    private readonly log: Logger,
    opts: EventWatcherOptions = {},
  ) {
    super();
    this.backoff = new Backoff(opts.backoffStepsMs, 0.2, opts.random);
    this.last = new Map(opts.known ?? []);
    this.remember = opts.remember;
  }

  get status(): 'ok' | 'failing' | undefined {
    return this.statusNow;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the loop, unsubscribing (best effort). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.waitTimer);
    this.wake?.();
    const pp = this.current;
    this.current = undefined;
    await pp?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let pp: PullPointLike | undefined;
      try {
        pp = await this.factory();
        if (this.closed) {
          await pp.close();
          return;
        }
        this.current = pp;
        this.subscriptions++;
        this.log.info({ camera: this.cameraId, subscriptions: this.subscriptions }, 'subscribed to camera events');
        this.setStatus('ok', undefined, 'ok');
        this.armRenew(pp);
        for (;;) {
          const notes = await pp.pull();
          if (this.closed || this.current !== pp) break;
          // A pull that came back proves the subscription and the camera: the next loss starts at 1 s.
          this.backoff.reset();
          this.setStatus('ok', undefined, 'ok');
          this.handle(notes);
        }
      } catch (err) {
        if (this.closed) return;
        const unreachable = err instanceof OnvifError && (err.code === 'ONVIF_UNREACHABLE' || err.code === 'ONVIF_TIMEOUT');
        const reason = err instanceof Error ? err.message : String(err);
        this.log.warn({ camera: this.cameraId, err: reason }, 'camera event subscription lost; subscribing again');
        this.setStatus('failing', reason, unreachable ? 'failing' : 'ok');
      } finally {
        clearTimeout(this.renewTimer);
        if (pp && this.current === pp) this.current = undefined;
        if (pp && !this.closed) void pp.close();
      }
      if (!this.closed) await this.sleep(this.backoff.next());
    }
  }

  private armRenew(pp: PullPointLike): void {
    clearTimeout(this.renewTimer);
    const left = pp.expiresAt - Date.now();
    const wait = Math.max(0, Math.min(left - 5000, (left * 2) / 3));
    this.renewTimer = setTimeout(() => {
      pp.renew().then(
        () => {
          if (this.current === pp && !this.closed) this.armRenew(pp);
        },
        (err: unknown) => {
          if (this.current !== pp || this.closed) return;
          // The subscription cannot be kept: drop it; the pull in flight fails and the loop subscribes again.
          this.log.warn({ camera: this.cameraId, err: err instanceof Error ? err.message : String(err) }, 'renewing the event subscription failed');
          this.current = undefined;
          void pp.close();
        },
      );
    }, wait);
  }

  private handle(notes: readonly OnvifNotification[]): void {
    // One change arrives as several topics in one batch (a camera's MotionAlarm and its cell
    // motion detector): the last state of each kind in the batch is the one that counts.
    const batch = new Map<'motion' | 'tamper', OnvifNotification>();
    for (const n of notes) {
      if (n.kind === 'other' || n.active === undefined) continue;
      const prev = batch.get(n.kind);
      // Keep the camera's timestamp from whichever topic of the same change carried one.
      batch.set(n.kind, n.utcTime === undefined && prev?.active === n.active ? { ...n, utcTime: prev.utcTime } : n);
    }
    for (const [kind, n] of batch) {
      const before = this.last.get(kind);
      this.last.set(kind, n.active!);
      if (before === n.active) continue;
      this.remember?.(kind, n.active!);
      // The first state we ever hear is where we start, not a change (only a motion starting is
      // news even then); after that an Initialized message reports a change that happened while
      // we were not subscribed.
      if (before === undefined && (n.initialized || !n.active)) continue;
      this.emit('notice', { kind, active: n.active!, cameraTime: n.utcTime });
    }
  }

  private setStatus(status: 'ok' | 'failing', reason: string | undefined, liveness: StreamLiveness): void {
    this.emit('liveness', liveness);
    if (status === this.statusNow) return;
    this.statusNow = status;
    this.emit('status', status, reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.waitTimer = setTimeout(resolve, ms);
    });
  }
}
