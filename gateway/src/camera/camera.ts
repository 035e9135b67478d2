import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import { linkReason, type CameraInventory, type CameraState } from '@schoolcam/protocol/link/link-messages';
import type { CameraConfig } from '../config';
import { Backoff, DEFAULT_BACKOFF_STEPS_MS } from './backoff';
import { CameraSourceError, type CameraSource, type SourceFailureKind } from './camera-source';
import { GopCache } from './gop-cache';
import { StreamStats } from './stream-stats';

export interface CameraEvents {
  /** The stream state or its reason changed. */
  state: [inventory: CameraInventory];
  /** One access unit, on the camera's continuous timeline (see {@link Camera}). */
  frame: [au: AccessUnit];
  /** Whether the stream is a sign of life (`ok`), of a dead camera (`failing`), or says nothing (`inactive`). */
  liveness: [signal: StreamLiveness];
}

export type StreamLiveness = 'ok' | 'failing' | 'inactive';

export type CameraSourceFactory = (cfg: CameraConfig, log: Logger) => Promise<CameraSource>;

export interface CameraOptions {
  /** Keep pulling this long after the last consumer left. */
  lingerMs: number;
  /** No RTP for this long marks the camera `stalled` and reconnects. Default 4500 ms: flagged within 5 s of its last packet. */
  stallMs?: number;
  /** Reconnect delays (jittered ±20 %); default 1 s, 2 s, 5 s, 10 s, 20 s, 30 s. */
  backoffStepsMs?: readonly number[];
  /**
   * Can the camera be reached at all (a TCP connect to its port)? While a camera that stopped
   * answering waits for its next attempt, this runs every `probeIntervalMs` for the first
   * `probeWindowMs` of the outage, and an answer brings the attempt forward: a rebooted camera is
   * streaming again within ~1 s of answering, yet it gets no RTSP or ONVIF request in between.
   */
  probe?: () => Promise<boolean>;
  /** Default 500 ms. */
  probeIntervalMs?: number;
  /** Default 60 000 ms. */
  probeWindowMs?: number;
  /** For tests. */
  random?: () => number;
}

/** A camera asked for again after this long without an attempt starts its backoff afresh. */
const BACKOFF_FORGET_MS = 60_000;

/**
 * One registered camera: pulled only while someone watches it (start on the first consumer, stop
 * a linger after the last leaves).
 *
 * It survives what cameras do. A stream that dies (reboot, dropped session) or stalls (no RTP for
 * `stallMs`) is reconnected underneath its consumers, who stay attached: frames simply resume.
 * Attempts follow a jittered backoff kept per camera — consumers coming and going (a page
 * retrying, the centre restarting an uplink) never cause an attempt before the backoff allows it.
 *
 * Frames leave on one continuous timeline: each new source's RTP timestamps are shifted to follow
 * the last frame sent, by the wall-clock time in between, and nothing of a new source is passed on
 * before its first key frame. A relayed track therefore continues across reconnects.
 */
export class Camera extends EventEmitter<CameraEvents> {
  private source: CameraSource | undefined;
  private starting: Promise<void> | undefined;
  private consumers = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private stallCheck: NodeJS.Immediate | undefined;
  private readonly backoff: Backoff;
  private nextAttemptAt = 0;
  private lastAttemptAt = 0;
  private lastFailure: SourceFailureKind | undefined;
  private outageSince: number | undefined;
  private state: CameraState = 'idle';
  private reason: string | undefined;
  private width: number | undefined;
  private height: number | undefined;
  private sourceOpenedAt = 0;
  private awaitingKeyframe = true;
  private provenSinceAttempt = false;
  /** Timeline: output timestamp = source timestamp + offset (mod 2^32). */
  private tsOffset = 0;
  private tsFresh = true;
  private lastOutTs: number | undefined;
  private lastOutAt = 0;
  private liveness: StreamLiveness = 'inactive';
  /** When we last asked the camera for a key frame (its answer is no measure of its GOP). */
  private keyframeRequestedAt = 0;
  private closed = false;
  private readonly stallMs: number;
  readonly gop = new GopCache();
  readonly stats = new StreamStats();
  /** Times a running stream was lost (died or stalled) and had to be reconnected. */
  reconnects = 0;
  /** The transport of the current (or last) source. */
  transport: 'tcp' | 'udp' | undefined;

  constructor(
    readonly config: CameraConfig,
    private readonly factory: CameraSourceFactory,
    private readonly opts: CameraOptions,
    private readonly log: Logger,
  ) {
    super();
    this.stallMs = opts.stallMs ?? 4500;
    this.backoff = new Backoff(opts.backoffStepsMs ?? DEFAULT_BACKOFF_STEPS_MS, 0.2, opts.random);
  }

  get id(): string {
    return this.config.id;
  }

  get running(): boolean {
    return this.source !== undefined;
  }

  get streamState(): CameraState {
    return this.state;
  }

  get stateReason(): string | undefined {
    return this.reason;
  }

  get keyframeOnDemand(): boolean {
    return this.source?.keyframeOnDemand ?? false;
  }

  get parameterSets(): { sps?: Buffer; pps?: Buffer } {
    return this.source?.parameterSets ?? {};
  }

  /** Picture size as last learned from the camera's SPS. */
  get size(): { width: number | undefined; height: number | undefined } {
    return { width: this.width, height: this.height };
  }

  /** When the next attempt may start (0: now), for tests and health. */
  get nextAttempt(): number {
    return this.nextAttemptAt;
  }

  inventory(): CameraInventory {
    const inv: CameraInventory = { id: this.config.id, name: this.config.name, state: this.state };
    if (this.reason) inv.reason = linkReason(this.reason);
    // A camera may announce any size in its SPS; the link accepts what a real picture can be.
    if (validDimension(this.width) && validDimension(this.height)) {
      inv.width = this.width;
      inv.height = this.height;
    }
    return inv;
  }

  /** Registers a consumer; returns its release function (call once). */
  acquire(): () => void {
    if (this.closed) throw new Error('camera closed');
    this.consumers++;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.ensureRunning();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.consumers--;
      if (this.consumers === 0 && !this.closed) {
        this.lingerTimer = setTimeout(() => this.stop(), this.opts.lingerMs);
      }
    };
  }

  requestKeyframe(): void {
    if (!this.source) return;
    this.keyframeRequestedAt = Date.now();
    this.source.requestKeyframe();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    clearTimeout(this.lingerTimer);
    await this.starting?.catch(() => undefined);
    const source = this.source;
    this.source = undefined;
    await source?.close();
    this.setLiveness('inactive');
  }

  private get wanted(): boolean {
    return !this.closed && this.consumers > 0;
  }

  /** Starts an attempt now if the backoff allows, else makes sure one is scheduled. */
  private ensureRunning(): void {
    if (!this.wanted || this.source || this.starting || this.retryTimer) return;
    const now = Date.now();
    if (this.lastAttemptAt > 0 && now - this.lastAttemptAt > BACKOFF_FORGET_MS && now >= this.nextAttemptAt) this.backoff.reset();
    const wait = this.nextAttemptAt - now;
    if (wait <= 0) {
      this.attempt();
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.stopProbing();
      if (this.wanted && !this.source && !this.starting) this.attempt();
    }, wait);
    this.startProbing();
  }

  private attempt(): void {
    this.stopProbing();
    this.lastAttemptAt = Date.now();
    this.provenSinceAttempt = false;
    if (this.state === 'idle') this.setState('starting');
    // Through a promise: a factory that throws instead of rejecting fails the attempt, not the gateway.
    const started = Promise.resolve()
      .then(() => this.factory(this.config, this.log))
      .then(
      (source) => this.onSource(source),
      (err: Error) => {
        if (this.starting !== started) return;
        this.starting = undefined;
        this.fail(err);
      },
    );
    this.starting = started;
  }

  private onSource(source: CameraSource): void {
    this.starting = undefined;
    if (!this.wanted) {
      void source.close();
      if (!this.closed && this.state === 'starting') this.setState('idle');
      return;
    }
    this.source = source;
    this.sourceOpenedAt = Date.now();
    this.transport = source.transport;
    this.awaitingKeyframe = true;
    this.tsFresh = true;
    this.stats.restart();
    this.width = source.width ?? this.width;
    this.height = source.height ?? this.height;
    source.on('frame', (au) => {
      if (this.source === source) this.onFrame(source, au);
    });
    source.once('close', (err) => {
      if (this.source !== source) return;
      this.detach();
      if (err) {
        this.reconnects++;
        this.fail(err);
      } else if (this.wanted) {
        this.reconnects++;
        this.fail(new CameraSourceError('bad-stream', 'the camera ended the stream'));
      } else {
        this.setState('idle');
      }
    });
    // A new session may start mid-GOP; ask for a key frame rather than wait for the next one.
    this.requestKeyframe();
    this.armStallTimer();
  }

  private onFrame(source: CameraSource, au: AccessUnit): void {
    const now = Date.now();
    if (this.awaitingKeyframe) {
      if (!au.keyframe) return;
      this.awaitingKeyframe = false;
    }
    if (!this.provenSinceAttempt) {
      // Video flows again: the camera has proved itself, the next outage starts at 1 s.
      this.provenSinceAttempt = true;
      this.backoff.reset();
      this.nextAttemptAt = 0;
      this.outageSince = undefined;
      this.lastFailure = undefined;
    }
    this.width = source.width ?? this.width;
    this.height = source.height ?? this.height;
    if (this.tsFresh) {
      this.tsFresh = false;
      // Follow on from the last frame sent, by the wall-clock time in between (90 kHz).
      this.tsOffset = this.lastOutTs === undefined ? 0 : (this.lastOutTs + Math.max(1, Math.round((now - this.lastOutAt) * 90)) - au.timestamp) >>> 0;
    }
    const out: AccessUnit = this.tsOffset === 0 ? au : { ...au, timestamp: (au.timestamp + this.tsOffset) >>> 0 };
    this.lastOutTs = out.timestamp;
    this.lastOutAt = now;
    this.stats.record(out, now, au.keyframe && source.keyframeOnDemand && now - this.keyframeRequestedAt < 2000);
    if (this.state !== 'streaming') this.setState('streaming');
    this.setLiveness('ok');
    this.gop.push(out);
    this.emit('frame', out);
  }

  /** One timer per source, re-armed to the last packet's time + stallMs: exact, and cheap at any frame rate. */
  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    const source = this.source;
    if (!source) return;
    const last = Math.max(source.lastPacketAt, this.sourceOpenedAt);
    const wait = last + this.stallMs - Date.now();
    if (wait > 0) {
      this.stallTimer = setTimeout(() => this.armStallTimer(), wait);
      return;
    }
    // A busy event loop runs expired timers before it reads the sockets: look again after the
    // pending I/O (setImmediate runs after the poll phase), so queued packets are not taken for silence.
    this.stallTimer = undefined;
    const check = setImmediate(() => {
      if (this.source !== source) return;
      if (Math.max(source.lastPacketAt, this.sourceOpenedAt) + this.stallMs > Date.now()) {
        this.armStallTimer();
        return;
      }
      this.stall(source, last);
    });
    this.stallCheck = check;
  }

  private stall(source: CameraSource, last: number): void {
    this.stallCheck = undefined;
    this.log.warn({ camera: this.id, silentMs: Date.now() - last }, 'camera stalled; reconnecting');
    this.detach();
    void source.close();
    this.reconnects++;
    this.fail(new CameraSourceError('stalled', `no video from the camera for ${(this.stallMs / 1000).toFixed(1)} s`));
  }

  /** Drops the current source without closing it (the caller does). */
  private detach(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    clearImmediate(this.stallCheck);
    this.stallCheck = undefined;
    this.source = undefined;
    this.gop.clear();
  }

  private fail(err: Error): void {
    const kind: SourceFailureKind = err instanceof CameraSourceError ? err.kind : 'bad-stream';
    this.lastFailure = kind;
    this.outageSince ??= Date.now();
    this.log.warn({ camera: this.id, kind, reason: err.message }, kind === 'stalled' ? 'camera stalled' : 'camera failing');
    this.setState(kind === 'stalled' ? 'stalled' : 'failing', err.message);
    // Silence or no answer is a sign of a dead camera; a refusal or a bad stream is a camera alive.
    this.setLiveness(kind === 'unreachable' || kind === 'stalled' ? 'failing' : 'ok');
    if (this.closed) return;
    this.nextAttemptAt = Date.now() + this.backoff.next();
    this.ensureRunning();
  }

  private startProbing(): void {
    const probe = this.opts.probe;
    if (!probe || this.probeTimer || this.lastFailure !== 'unreachable') return;
    const interval = this.opts.probeIntervalMs ?? 500;
    const tick = (): void => {
      this.probeTimer = undefined;
      if (!this.retryTimer || !this.wanted) return;
      if (Date.now() - (this.outageSince ?? 0) > (this.opts.probeWindowMs ?? 60_000)) return;
      probe().then(
        (answered) => {
          if (!this.retryTimer || !this.wanted) return;
          if (!answered) {
            this.probeTimer = setTimeout(tick, interval);
            return;
          }
          this.log.info({ camera: this.id }, 'camera answers again; reconnecting now');
          clearTimeout(this.retryTimer);
          this.retryTimer = undefined;
          if (!this.source && !this.starting) this.attempt();
        },
        () => {
          if (this.retryTimer && this.wanted) this.probeTimer = setTimeout(tick, interval);
        },
      );
    };
    this.probeTimer = setTimeout(tick, interval);
  }

  private stopProbing(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    clearImmediate(this.stallCheck);
    this.stallCheck = undefined;
    this.stopProbing();
  }

  /** The linger ran out: stop pulling. The backoff (and the time of the next attempt) stays. */
  private stop(): void {
    this.lingerTimer = undefined;
    this.clearTimers();
    const source = this.source;
    this.detach();
    if (source) void source.close();
    this.setLiveness('inactive');
    if (this.state === 'streaming' || this.state === 'starting') this.setState('idle');
  }

  private setState(state: CameraState, reason?: string): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.emit('state', this.inventory());
  }

  private setLiveness(signal: StreamLiveness): void {
    if (signal === this.liveness) return;
    this.liveness = signal;
    this.emit('liveness', signal);
  }
}

function validDimension(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 16384;
}
