import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import type { CameraInventory, CameraState } from '@schoolcam/protocol/link/link-messages';
import type { CameraConfig } from '../config';
import type { CameraSource } from './camera-source';
import { GopCache } from './gop-cache';

export interface CameraEvents {
  state: [inventory: CameraInventory];
  frame: [au: AccessUnit];
}

export type CameraSourceFactory = (cfg: CameraConfig, log: Logger) => Promise<CameraSource>;

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * One configured camera: pulled only while someone watches it (start on the first
 * consumer, stop a linger after the last leaves), retried with backoff while it fails
 * and is still wanted.
 */
export class Camera extends EventEmitter<CameraEvents> {
  private source: CameraSource | undefined;
  private starting: Promise<void> | undefined;
  private consumers = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private state: CameraState = 'idle';
  private reason: string | undefined;
  private width: number | undefined;
  private height: number | undefined;
  private closed = false;
  readonly gop = new GopCache();

  constructor(
    readonly config: CameraConfig,
    private readonly factory: CameraSourceFactory,
    private readonly lingerMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  get id(): string {
    return this.config.id;
  }

  get running(): boolean {
    return this.source !== undefined;
  }

  get keyframeOnDemand(): boolean {
    return this.source?.keyframeOnDemand ?? false;
  }

  get parameterSets(): { sps?: Buffer; pps?: Buffer } {
    return this.source?.parameterSets ?? {};
  }

  inventory(): CameraInventory {
    const inv: CameraInventory = { id: this.config.id, name: this.config.name, state: this.state };
    if (this.reason) inv.reason = this.reason.slice(0, 500);
    if (this.width) inv.width = this.width;
    if (this.height) inv.height = this.height;
    return inv;
  }

  /** Registers a consumer; returns its release function (call once). */
  acquire(): () => void {
    if (this.closed) throw new Error('camera closed');
    this.consumers++;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (!this.source && !this.starting && !this.retryTimer) this.start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.consumers--;
      if (this.consumers === 0 && !this.closed) {
        this.lingerTimer = setTimeout(() => this.stop(), this.lingerMs);
      }
    };
  }

  requestKeyframe(): void {
    this.source?.requestKeyframe();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lingerTimer);
    clearTimeout(this.retryTimer);
    await this.starting?.catch(() => undefined);
    await this.source?.close();
    this.source = undefined;
  }

  private start(): void {
    this.setState('starting');
    this.starting = this.factory(this.config, this.log)
      .then((source) => {
        this.starting = undefined;
        if (this.closed || this.consumers === 0) {
          void source.close();
          if (!this.closed) this.setState('idle');
          return;
        }
        this.source = source;
        this.retryMs = RETRY_MIN_MS;
        this.width = source.width ?? this.width;
        this.height = source.height ?? this.height;
        source.on('frame', (au) => {
          this.gop.push(au);
          this.emit('frame', au);
        });
        source.once('close', (err) => {
          if (this.source !== source) return;
          this.source = undefined;
          this.gop.clear();
          if (err) this.fail(err);
          else this.setState('idle');
        });
        this.setState('streaming');
      })
      .catch((err: Error) => {
        this.starting = undefined;
        this.fail(err);
      });
  }

  private fail(err: Error): void {
    this.log.warn({ camera: this.id, reason: err.message }, 'camera failing');
    this.setState('failing', err.message);
    if (this.closed || this.consumers === 0) return;
    const wait = this.retryMs * (0.75 + Math.random() * 0.5);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && this.consumers > 0 && !this.source && !this.starting) this.start();
    }, wait);
  }

  private stop(): void {
    this.lingerTimer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const source = this.source;
    this.source = undefined;
    this.gop.clear();
    if (source) void source.close();
    if (this.state !== 'failing') this.setState('idle');
  }

  private setState(state: CameraState, reason?: string): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.emit('state', this.inventory());
  }
}
