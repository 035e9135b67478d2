import { EventEmitter } from 'node:events';
import { type MessagePort, Worker } from 'node:worker_threads';
import { AppError } from '../errors';
import type { ShardEvent, ShardRequest, ShardResult } from './shard-messages';
import type { ShardWorkerData } from './shard-worker';

/** Requests that carry an `id` (they get a reply). */
type Asking = Extract<ShardRequest, { id: number }>;
/** A request without its `id`, which the host assigns. */
export type ShardQuery = Asking extends infer R ? (R extends Asking ? Omit<R, 'id'> : never) : never;

export interface ShardHostEvents {
  event: [ev: ShardEvent];
  /** The thread ended (crashed, or terminated on close). */
  exit: [err: Error | undefined];
}

/** The main thread's handle on one shard's worker thread: requests with replies, events, exit. */
export class ShardHost extends EventEmitter<ShardHostEvents> {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: ShardResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private alive = true;
  /** Settles when the thread reported ready; rejects if it died first. */
  readonly ready: Promise<void>;

  constructor(
    readonly index: number,
    data: ShardWorkerData,
  ) {
    super();
    // A large young generation: a shard allocates a datagram, a keystream and an HMAC per packet
    // per viewer, mostly short-lived. With the default (16 MB) it collected so often that garbage
    // collection held the event loop for 200–500 ms at p99 with 32 viewers; with 64 MB, 50–80 ms.
    this.worker = new Worker(new URL('./shard-worker-boot.mjs', import.meta.url), {
      workerData: data,
      stdout: false,
      stderr: false,
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    let markReady: () => void = () => undefined;
    let markFailed: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    this.ready.catch(() => undefined); // observed by whoever awaits it
    this.worker.on('message', (ev: ShardEvent) => {
      if (ev.type === 'ready') {
        markReady();
        return;
      }
      if (ev.type === 'reply' || ev.type === 'failed') {
        const w = this.waiting.get(ev.id);
        this.waiting.delete(ev.id);
        if (ev.type === 'reply') w?.resolve(ev.result);
        else w?.reject(new AppError(ev.code, ev.message, 503));
        return;
      }
      this.emit('event', ev);
    });
    let failure: Error | undefined;
    this.worker.on('error', (err) => {
      failure = err;
    });
    this.worker.on('exit', () => {
      this.alive = false;
      const err = failure ?? new Error('fan-out shard stopped');
      markFailed(err);
      for (const w of this.waiting.values()) w.reject(new AppError('FANOUT_RESTARTED', 'the fan-out shard carrying this stream restarted', 503));
      this.waiting.clear();
      this.emit('exit', failure);
    });
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Fire and forget; ports in `transfer` move to the shard. */
  post(req: ShardRequest, transfer: MessagePort[] = []): void {
    if (this.alive) this.worker.postMessage(req, transfer);
  }

  /** A request that is answered; rejects with the shard's typed failure, or if the shard dies first. */
  async request(query: ShardQuery): Promise<ShardResult> {
    await this.ready;
    if (!this.alive) throw new AppError('FANOUT_RESTARTED', 'the fan-out shard carrying this stream restarted', 503);
    const id = this.nextId++;
    return new Promise<ShardResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...query, id } as ShardRequest);
    });
  }

  /**
   * Ends the thread: the shard closes its peers, then the thread stops. Only a shard that does
   * not manage within `graceMs` is terminated outright (which risks what `stopAllSocketsNow` avoids).
   */
  async terminate(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (ev: ShardEvent) => {
      if (ev.type === 'closed') void this.worker.terminate();
    });
    this.worker.postMessage({ type: 'shutdown' } satisfies ShardRequest);
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
