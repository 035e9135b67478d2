import { randomBytes } from 'node:crypto';

/** One tt:Message notification (ONVIF Core §9.3, message format). */
export interface OnvifEventMessage {
  /** concrete topic with the `tns1:` prefix, e.g. `tns1:VideoSource/MotionAlarm` */
  topic: string;
  /** the camera's clock when it happened, ms since the epoch */
  utcMs: number;
  /** set for property events (motion and tamper states are properties) */
  propertyOperation?: 'Initialized' | 'Changed' | 'Deleted';
  /** tt:Source SimpleItems, name → value, in order */
  source: ReadonlyArray<readonly [string, string]>;
  /** tt:Data SimpleItems */
  data: ReadonlyArray<readonly [string, string]>;
}

export interface PullPointManagerOptions {
  /** live subscriptions at most; default 10 (GetServiceCapabilities MaxPullPoints) */
  maxSubscriptions?: number;
  /** messages queued per subscription; the oldest go first when full; default 100 */
  maxQueue?: number;
  /** host clock in ms; default Date.now */
  now?: () => number;
}

export interface PullPointSubscription {
  readonly id: string;
  /** host clock ms after which the subscription no longer exists */
  expiresAt: number;
  /** messages dropped because the queue was full */
  dropped: number;
}

export type PullResult = { ok: true; messages: OnvifEventMessage[]; subscription: PullPointSubscription } | { ok: false };

interface Waiter {
  limit: number;
  timer: NodeJS.Timeout;
  finish: (result: PullResult) => void;
}

interface Entry extends PullPointSubscription {
  filter: (topic: string) => boolean;
  queue: OnvifEventMessage[];
  waiter: Waiter | undefined;
}

/**
 * The pull-point subscriptions of one camera (ONVIF Core §9.1 "real-time pull point notification
 * interface"): a bounded queue per subscription, long-polled by PullMessages. Expired subscriptions
 * are removed when next looked at; there is no sweeper timer, and the only timers are those of
 * pending long-polls, which {@link PullPointManager.close} ends.
 */
export class PullPointManager {
  readonly #max: number;
  readonly #maxQueue: number;
  readonly #now: () => number;
  readonly #subs = new Map<string, Entry>();
  #closed = false;

  constructor(opts: PullPointManagerOptions = {}) {
    this.#max = opts.maxSubscriptions ?? 10;
    this.#maxQueue = opts.maxQueue ?? 100;
    this.#now = opts.now ?? Date.now;
  }

  get maxSubscriptions(): number {
    return this.#max;
  }

  /** Live subscriptions (expired ones are swept first). */
  get size(): number {
    this.#sweep();
    return this.#subs.size;
  }

  /**
   * Create a subscription living `ttlMs`, with `initial` messages already queued (ONVIF Core §9.6:
   * property events start with their current state, PropertyOperation="Initialized").
   * Undefined when there is no room.
   */
  create(ttlMs: number, filter: (topic: string) => boolean, initial: readonly OnvifEventMessage[] = []): PullPointSubscription | undefined {
    this.#sweep();
    if (this.#closed || this.#subs.size >= this.#max) return undefined;
    // Unguessable: the address is the only thing naming a subscription besides the credentials.
    const id = randomBytes(12).toString('hex');
    const entry: Entry = { id, expiresAt: this.#now() + ttlMs, dropped: 0, filter, queue: [], waiter: undefined };
    this.#subs.set(id, entry);
    for (const m of initial) this.#enqueue(entry, m);
    return entry;
  }

  get(id: string): PullPointSubscription | undefined {
    return this.#live(id);
  }

  /** Set a new time to live; the subscription, or undefined if it is gone. */
  renew(id: string, ttlMs: number): PullPointSubscription | undefined {
    const entry = this.#live(id);
    if (entry !== undefined) entry.expiresAt = this.#now() + ttlMs;
    return entry;
  }

  /** Unsubscribe. A pending PullMessages on it is answered as for an unknown subscription. */
  remove(id: string): boolean {
    const entry = this.#live(id);
    if (entry === undefined) return false;
    this.#delete(entry);
    return true;
  }

  /**
   * Queue messages for every subscription whose filter takes their topic. A batch (the two
   * motion topics of one change) reaches a waiting PullMessages in one reply. `onlyId` limits
   * delivery to one subscription (its SetSynchronizationPoint).
   */
  publish(messages: OnvifEventMessage | readonly OnvifEventMessage[], onlyId?: string): void {
    this.#sweep();
    const batch: readonly OnvifEventMessage[] = Array.isArray(messages) ? messages : [messages as OnvifEventMessage];
    for (const entry of this.#subs.values()) {
      if (onlyId !== undefined && entry.id !== onlyId) continue;
      let queued = false;
      for (const m of batch) {
        if (!entry.filter(m.topic)) continue;
        this.#enqueue(entry, m);
        queued = true;
      }
      const waiter = entry.waiter;
      if (queued && waiter !== undefined) waiter.finish(this.#take(entry, waiter.limit));
    }
  }

  /**
   * PullMessages: answer at once with queued messages, else wait up to `timeoutMs` for one.
   * A second pull on the same subscription answers the first with what it has (nothing).
   * `signal` (the HTTP request going away) ends the wait.
   */
  pull(id: string, timeoutMs: number, limit: number, signal?: AbortSignal): Promise<PullResult> {
    const entry = this.#live(id);
    if (entry === undefined) return Promise.resolve({ ok: false });
    if (entry.queue.length > 0 || timeoutMs <= 0 || this.#closed) return Promise.resolve(this.#take(entry, limit));
    entry.waiter?.finish({ ok: true, messages: [], subscription: entry });
    return new Promise<PullResult>((resolve) => {
      const onAbort = (): void => waiter.finish({ ok: true, messages: [], subscription: entry });
      const waiter: Waiter = {
        limit,
        timer: setTimeout(() => waiter.finish(this.#take(entry, limit)), timeoutMs),
        finish: (result) => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          if (entry.waiter === waiter) entry.waiter = undefined;
          resolve(result);
        },
      };
      entry.waiter = waiter;
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Fault injection "lose event subscriptions": every subscription vanishes. Returns how many. */
  dropAll(): number {
    const n = this.#subs.size;
    for (const entry of [...this.#subs.values()]) this.#delete(entry);
    return n;
  }

  /** End every pending long-poll and forget all subscriptions. Idempotent. */
  close(): void {
    this.#closed = true;
    this.dropAll();
  }

  #take(entry: Entry, limit: number): PullResult {
    const messages = entry.queue.splice(0, Math.max(1, limit));
    return { ok: true, messages, subscription: entry };
  }

  #enqueue(entry: Entry, message: OnvifEventMessage): void {
    entry.queue.push(message);
    if (entry.queue.length > this.#maxQueue) {
      entry.queue.shift();
      entry.dropped++;
    }
  }

  #delete(entry: Entry): void {
    this.#subs.delete(entry.id);
    entry.queue.length = 0;
    entry.waiter?.finish({ ok: false });
  }

  #live(id: string): Entry | undefined {
    const entry = this.#subs.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#delete(entry);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.#now();
    for (const entry of [...this.#subs.values()]) if (entry.expiresAt <= now) this.#delete(entry);
  }
}
