import { signal } from '@preact/signals';
import { decodeMseFrame } from '../../../viewer/mse-frame';
import { CLOSE_SIGNED_OUT } from '../../../viewer/viewer-close';
import type { ViewerEvent, ViewerRequest } from '../../../viewer/viewer-messages';

/** A signalling event for one tile. */
export type TileEvent = Extract<ViewerEvent, { type: 'offer' | 'mse' | 'ended' }> | (Extract<ViewerEvent, { type: 'error' }> & { tile: string });

/** What a tile hears from the socket: its own signalling events, its MSE video, and the socket going down. */
export interface TileChannel {
  event(ev: TileEvent): void;
  /** fMP4 bytes of the tile's MSE view (binary frames, see `mse-frame.ts`). */
  data?(fmp4: Uint8Array<ArrayBuffer>): void;
  /** The socket closed: every view on it is gone at the centre. */
  down(): void;
}

export interface ViewerSocketHandlers {
  /** Every event that is not for one tile (camera lists, alarms, sign-out). */
  event(ev: ViewerEvent): void;
  /** The socket closed with the session ended (4401), or the centre refused the upgrade: check the session. */
  lost(signedOut: boolean): void;
}

/** Reconnect delays after the socket drops (centre restart, network): 1 s doubling to 10 s, with jitter. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;

/**
 * The page's one `/api/view` socket: the camera list, live-view signalling for every tile,
 * and pushes. Opened with the session cookie; reconnects on its own with backoff, and tiles
 * re-open their views when it is back.
 */
export class ViewerSocket {
  /** `open` while the centre is reachable; the shell shows a banner otherwise. */
  readonly state = signal<'connecting' | 'open' | 'down'>('connecting');
  private ws: WebSocket | undefined;
  private readonly tiles = new Map<string, TileChannel>();
  private readonly openListeners = new Set<() => void>();
  private retryMs = RETRY_MIN_MS;
  private retryTimer: number | undefined;
  private stopped = false;

  constructor(private readonly handlers: ViewerSocketHandlers) {
    this.connect();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(msg: ViewerRequest): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(msg));
    return true;
  }

  /** Routes a tile handle's events to `channel` until {@link release}. */
  bind(handle: string, channel: TileChannel): void {
    this.tiles.set(handle, channel);
  }

  release(handle: string): void {
    this.tiles.delete(handle);
  }

  /** Called every time the socket (re)opens; returns an unsubscribe function. */
  onOpen(cb: () => void): () => void {
    this.openListeners.add(cb);
    return () => this.openListeners.delete(cb);
  }

  /** Reconnect now (after the page learnt the centre is back). */
  retryNow(): void {
    if (this.stopped || this.ws) return;
    window.clearTimeout(this.retryTimer);
    this.connect();
  }

  close(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close();
    for (const ch of [...this.tiles.values()]) ch.down();
    this.tiles.clear();
  }

  private connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // The session cookie goes with the upgrade; the centre checks it and the page's Origin.
    const ws = new WebSocket(`${proto}//${location.host}/api/view`);
    // MSE views' video comes as binary frames on this socket.
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.state.value = this.state.value === 'down' ? 'down' : 'connecting';
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = RETRY_MIN_MS;
      this.state.value = 'open';
      for (const cb of [...this.openListeners]) cb();
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') {
        const frame = decodeMseFrame(new Uint8Array(m.data as ArrayBuffer));
        if (frame) this.tiles.get(frame.tile)?.data?.(frame.fmp4);
        return;
      }
      let ev: ViewerEvent;
      try {
        ev = JSON.parse(m.data) as ViewerEvent;
      } catch {
        return;
      }
      this.dispatch(ev);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      for (const ch of [...this.tiles.values()]) ch.down();
      if (this.stopped) return;
      this.state.value = 'down';
      if (close.code === CLOSE_SIGNED_OUT) {
        this.handlers.lost(true);
        return;
      }
      // Refused before opening: perhaps the session is gone. The handler checks and calls retryNow() or ends the session.
      if (!opened) this.handlers.lost(false);
      const wait = this.retryMs * (0.75 + Math.random() * 0.5);
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
      this.retryTimer = window.setTimeout(() => {
        if (!this.stopped && !this.ws) this.connect();
      }, wait);
    };
  }

  private dispatch(ev: ViewerEvent): void {
    if ((ev.type === 'offer' || ev.type === 'mse' || ev.type === 'ended' || ev.type === 'error') && ev.tile !== undefined) {
      this.tiles.get(ev.tile)?.event({ ...ev, tile: ev.tile });
      if (ev.type !== 'error' || this.tiles.has(ev.tile)) return;
    }
    this.handlers.event(ev);
  }
}
