import { EventEmitter } from 'node:events';
import type { StreamLiveness } from '../camera/camera';

export type PresenceSignal = 'stream' | 'events' | 'probe';

export interface PresenceEvents {
  /** `online` changed (the first `true` from unknown is not a change worth an event, but is emitted). */
  change: [online: boolean, previous: boolean | undefined];
}

/**
 * Whether a camera is there at all, from everything that talks to it: its stream, its ONVIF event
 * pull, and a light probe for cameras that have neither running. Any signal that is `ok` makes the
 * camera online at once; it goes offline only when no signal is `ok` and at least one has been
 * `failing` for `offlineAfterMs` (a camera rebooting in a few seconds is not an alarm). Signals
 * that are `inactive` (a stream nobody watches) say nothing.
 */
export class Presence extends EventEmitter<PresenceEvents> {
  private readonly signals = new Map<PresenceSignal, StreamLiveness>();
  private timer: NodeJS.Timeout | undefined;
  private value: boolean | undefined;
  private closed = false;

  constructor(private readonly offlineAfterMs = 10_000) {
    super();
  }

  /** undefined until some signal has said something. */
  get online(): boolean | undefined {
    return this.value;
  }

  set(signal: PresenceSignal, liveness: StreamLiveness): void {
    if (this.closed) return;
    this.signals.set(signal, liveness);
    this.evaluate();
  }

  /** Stops judging: no timer, no more changes. Idempotent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private evaluate(): void {
    const values = [...this.signals.values()];
    if (values.includes('ok')) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.setOnline(true);
      return;
    }
    if (!values.includes('failing')) {
      clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.value === false || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = [...this.signals.values()];
      if (!now.includes('ok') && now.includes('failing')) this.setOnline(false);
    }, this.offlineAfterMs);
  }

  private setOnline(online: boolean): void {
    if (online === this.value) return;
    const previous = this.value;
    this.value = online;
    this.emit('change', online, previous);
  }
}
