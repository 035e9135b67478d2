import { signal } from '@preact/signals';
import { readBarcode } from '@schoolcam/protocol/h264/encoder/barcode';
import type { ViewerSocket } from '../stores/viewer-socket';
import type { EndCause } from '../../../access/revocation';
import type { Ending, TileStats } from './tile-stats';
import { MseTransport } from './mse-transport';
import type { FallbackReason, StreamChoice, TileTransport, TransportFactory, TransportKind } from './tile-transport';
import { WebRtcTransport } from './webrtc-transport';

export type TileState = 'connecting' | 'playing' | 'frozen' | 'retrying' | 'refused' | 'ended';

/** Retry delays after a view ends under the tile: 1 s doubling to 15 s, with jitter; reset after 10 s of playing. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;
const STABLE_MS = 10_000;
/** No decoded frame for this long while playing: the tile says the picture stopped. */
const FROZEN_MS = 2500;
/** Barcode rows at the top of each simulator frame. */
const BARCODE_ROWS = 16;

/** Every player on the page, for `window.schoolcam`. */
export const players = new Set<TilePlayer>();

/** Views the centre ended for good on this page, oldest first (diagnostics and tests; at most 200). */
export const endings: Ending[] = [];

/**
 * Set once a tile of this page had to fall back: WebRTC does not connect from here, so the
 * page's new tiles start on MSE directly instead of each waiting for WebRTC to fail.
 */
let preferMse = false;

const defaultTransports: TransportFactory = (kind, ctx) => (kind === 'mse' ? new MseTransport(ctx) : new WebRtcTransport(ctx));

export interface TilePlayerOptions {
  cameraId: string;
  profile: StreamChoice;
  video: HTMLVideoElement;
  socket: ViewerSocket;
  /** Read the simulator's capture-time barcode from every frame (`?diag=1`). */
  diag: boolean;
  /** Makes the transports (default: WebRTC, MSE as the fallback). */
  transport?: TransportFactory;
}

/**
 * One tile's player: opens the camera through a transport, shows its state, and recovers
 * on its own — after a camera reboot, a gateway's reconnect or a centre restart — with
 * backoff, never a page reload. Stops for good only when access is refused or withdrawn.
 * Where WebRTC cannot connect it switches on its own to the MSE fallback, and stays there.
 */
export class TilePlayer {
  readonly state = signal<TileState>('connecting');
  /** Why the tile is not playing, for people (tooltip). */
  readonly detail = signal('');
  /** Why the centre ended the view for good (a police grant ended…), once it did. */
  readonly endCause = signal<EndCause | null>(null);
  /** When the next attempt starts, while retrying. */
  readonly retryAt = signal<number | null>(null);
  /** How the video comes: `webrtc`, or `mse` after a fallback (the tile tells the person). */
  readonly transportKind = signal<TransportKind>(preferMse ? 'mse' : 'webrtc');
  /** Why the tile left WebRTC, if it did (`null` also when it started on MSE because an earlier tile fell back). */
  private fallback: FallbackReason | null = null;
  stats: TileStats;
  private transport: TileTransport | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: number | undefined;
  private frozenTimer: number | undefined;
  private disposed = false;
  private waitingForSocket: (() => void) | undefined;
  private readonly canvas = document.createElement('canvas');
  private readonly makeTransport: TransportFactory;
  private frameCallback: number | undefined;

  constructor(private readonly opts: TilePlayerOptions) {
    this.makeTransport = opts.transport ?? defaultTransports;
    this.stats = this.freshStats(0);
    players.add(this);
    this.frameCallback = opts.video.requestVideoFrameCallback(this.onFrame);
    this.open();
  }

  get cameraId(): string {
    return this.opts.cameraId;
  }

  get profile(): StreamChoice {
    return this.opts.profile;
  }

  /** Receiver statistics of the current attempt. */
  inbound(): Promise<Record<string, unknown> | null> {
    return this.transport?.inbound() ?? Promise.resolve(null);
  }

  /** Stops for good (the tile was emptied, re-used or left the page). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    players.delete(this);
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.frozenTimer);
    this.waitingForSocket?.();
    if (this.frameCallback !== undefined) this.opts.video.cancelVideoFrameCallback(this.frameCallback);
    this.transport?.close();
    this.transport = undefined;
  }

  /** Stops watching but keeps the tile (diagnostics: measuring a fresh start); {@link restart} resumes. */
  stop(): void {
    if (this.disposed) return;
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.frozenTimer);
    this.waitingForSocket?.();
    this.waitingForSocket = undefined;
    this.transport?.close();
    this.setState('ended', 'stopped');
  }

  /** Starts a fresh attempt now, with fresh figures. */
  restart(): void {
    if (this.disposed) return;
    window.clearTimeout(this.retryTimer);
    this.retryMs = RETRY_MIN_MS;
    this.open();
  }

  /** Tries again now (the user asked, or the camera came back). */
  retryNow(): void {
    if (this.disposed || this.state.value === 'playing') return;
    window.clearTimeout(this.retryTimer);
    this.open();
  }

  private freshStats(retries: number): TileStats {
    return {
      cameraId: this.opts.cameraId,
      state: 'connecting',
      // The MSE fallback always carries the main stream.
      profile: this.transportKind.value === 'mse' ? 'main' : this.opts.profile,
      transport: this.transportKind.value,
      fallback: this.fallback,
      openedAt: performance.timeOrigin + performance.now(),
      firstFrameAt: null,
      lastFrameAt: null,
      frames: 0,
      width: 0,
      height: 0,
      latencies: [],
      barcodes: 0,
      retries,
    };
  }

  private setState(state: TileState, detail = ''): void {
    this.state.value = state;
    this.stats.state = state;
    this.detail.value = detail;
    if (state !== 'retrying') this.retryAt.value = null;
  }

  private open(): void {
    if (this.disposed) return;
    this.retryAt.value = null;
    this.transport?.close();
    const retries = this.transport ? this.stats.retries + 1 : this.stats.retries;
    this.stats = this.freshStats(retries);
    this.setState('connecting');
    if (!this.opts.socket.isOpen) {
      // The centre is away (restarting): start as soon as the socket is back.
      this.waitingForSocket?.();
      this.waitingForSocket = this.opts.socket.onOpen(() => {
        this.waitingForSocket?.();
        this.waitingForSocket = undefined;
        this.open();
      });
      return;
    }
    const transport = this.makeTransport(this.transportKind.value, {
      cameraId: this.opts.cameraId,
      profile: this.opts.profile,
      video: this.opts.video,
      socket: this.opts.socket,
      events: {
        media: () => undefined,
        ended: (reason, { retry, refused, cause }) => {
          if (this.transport !== transport) return;
          this.ended(reason, retry, refused, cause);
        },
        unreachable: (reason) => {
          if (this.transport !== transport) return;
          this.fallBack(reason);
        },
      },
    });
    this.transport = transport;
    transport.open();
  }

  /** WebRTC could not connect: the same camera over MSE, now and for this page's next tiles. */
  private fallBack(reason: FallbackReason): void {
    if (this.transportKind.value === 'mse' || !MseTransport.supported()) {
      this.ended(reason === 'webrtc_timeout' ? 'the video connection timed out' : 'the video connection failed', true, false);
      return;
    }
    preferMse = true;
    this.fallback = reason;
    this.transportKind.value = 'mse';
    this.open();
  }

  private ended(reason: string, retry: boolean, refused: boolean, cause?: EndCause): void {
    window.clearTimeout(this.frozenTimer);
    if (!retry) {
      // The last frame stays in the element otherwise: a stopped view shows no picture.
      this.opts.video.srcObject = null;
      this.opts.video.removeAttribute('src');
      this.endCause.value = cause ?? null;
      endings.push({ cameraId: this.opts.cameraId, at: Date.now(), lastFrameAt: this.stats.lastFrameAt, causeKind: cause?.kind ?? null, reason });
      if (endings.length > 200) endings.shift();
      this.setState(refused ? 'refused' : 'ended', reason);
      return;
    }
    const wait = Math.round(this.retryMs * (0.75 + Math.random() * 0.5));
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.setState('retrying', reason);
    this.retryAt.value = Date.now() + wait;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.open(), wait);
  }

  private readonly onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
    if (this.disposed) return;
    this.frameCallback = this.opts.video.requestVideoFrameCallback(this.onFrame);
    if (!this.transport || this.state.value === 'retrying' || this.state.value === 'ended' || this.state.value === 'refused') return;
    const s = this.stats;
    s.frames++;
    s.width = meta.width;
    s.height = meta.height;
    const at = performance.timeOrigin + now;
    if (s.firstFrameAt === null) s.firstFrameAt = at;
    s.lastFrameAt = at;
    if (this.state.value !== 'playing') this.setState('playing');
    if (s.frames > 1 && at - s.firstFrameAt > STABLE_MS) this.retryMs = RETRY_MIN_MS;
    window.clearTimeout(this.frozenTimer);
    this.frozenTimer = window.setTimeout(() => {
      if (this.state.value === 'playing') this.setState('frozen');
    }, FROZEN_MS);
    if (this.opts.diag) this.readLatency(meta.width, at);
  };

  /** Reads the simulator's capture-time barcode from the top rows of the frame (diagnostics only). */
  private readLatency(width: number, at: number): void {
    if (this.canvas.width !== width) {
      this.canvas.width = width;
      this.canvas.height = BARCODE_ROWS;
    }
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    ctx.drawImage(this.opts.video, 0, 0, width, BARCODE_ROWS, 0, 0, width, BARCODE_ROWS);
    const captured = readBarcode(ctx.getImageData(0, 0, width, BARCODE_ROWS).data, width, BARCODE_ROWS, 4);
    if (captured === null) return;
    this.stats.barcodes++;
    this.stats.latencies.push(at - captured);
    if (this.stats.latencies.length > 3000) this.stats.latencies.shift();
  }
}
