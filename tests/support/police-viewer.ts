import WebSocket from 'ws';
import { decodeMseFrame } from '../../control-center/src/viewer/mse-frame';
import { payloadStartsKeyframe } from '../../protocol/src/h264/depacketizer';
import { VideoRecvPeer } from '../../protocol/src/webrtc/werift-peer';

/** How a tile's view ended, as the page is told (`ended` on the viewer socket). */
export interface TileEnd {
  /** `performance.now()` when the client read the `ended` event. */
  at: number;
  cause: { kind: string; grantId?: string; grantEnd?: string };
}

/** One tile of a {@link PoliceViewer}: a live view as its client sees it. */
export interface ViewerTile {
  readonly tile: string;
  readonly transport: 'webrtc' | 'mse';
  /** RTP packets (WebRTC) or fMP4 segments (MSE) received so far. */
  received: number;
  /** Settles at the first packet or segment. */
  readonly flowing: Promise<number>;
  /** Settles with `performance.now()` once a whole key frame has arrived (WebRTC tiles with `keyframes`). */
  readonly keyframe: Promise<number>;
  /** Settles when the centre tells the page the view ended. */
  readonly ended: Promise<TileEnd>;
  /** Whether `ended` has settled. */
  isEnded: boolean;
}

interface TileState extends ViewerTile {
  peer?: VideoRecvPeer;
  flow(): void;
  gotKeyframe(at: number): void;
  end(e: TileEnd): void;
  fail(err: Error): void;
  offered(sdp: string): void;
}

/**
 * A police officer's dashboard reduced to its wire: one viewer socket on `/api/view` (the
 * session's cookie, the centre's Origin), tiles watched over WebRTC (a werift peer answering the
 * centre's offer) or MSE (fMP4 segments on the socket), every event the centre pushes recorded.
 * WebRTC tiles are light by default: once connected, RTP is counted straight off the socket,
 * not decrypted; with `keyframes` werift decrypts it and the first complete key frame is noted.
 */
export class PoliceViewer {
  readonly events: Record<string, unknown>[] = [];
  private readonly tiles = new Map<string, TileState>();
  private readonly listeners: ((ev: Record<string, unknown>) => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) {
        const f = decodeMseFrame(new Uint8Array(data));
        const t = f && this.tiles.get(f.tile);
        if (t) {
          t.received++;
          t.flow();
        }
        return;
      }
      const ev = JSON.parse(data.toString()) as Record<string, unknown>;
      this.events.push(ev);
      const t = typeof ev.tile === 'string' ? this.tiles.get(ev.tile) : undefined;
      if (t && ev.type === 'offer') t.offered(ev.sdp as string);
      else if (t && ev.type === 'ended') t.end({ at: performance.now(), cause: ev.cause as TileEnd['cause'] });
      else if (t && ev.type === 'error') t.fail(new Error(`tile ${t.tile}: ${String(ev.code)} ${String(ev.message)}`));
      for (const l of this.listeners) l(ev);
    });
  }

  static async open(centreUrl: string, cookie: string): Promise<PoliceViewer> {
    const ws = new WebSocket(`${centreUrl.replace(/^http/, 'ws')}/api/view`, { headers: { cookie, origin: centreUrl } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new PoliceViewer(ws);
  }

  /** Calls `cb` for every JSON event from now on. */
  onEvent(cb: (ev: Record<string, unknown>) => void): void {
    this.listeners.push(cb);
  }

  /** Watches a camera over WebRTC; settles once the answer is sent (rejects on the centre's refusal). */
  watchWebRtc(tile: string, cameraId: string, opts: { keyframes?: boolean } = {}): Promise<ViewerTile> {
    return this.watch(tile, cameraId, 'webrtc', opts.keyframes ?? false);
  }

  /** Watches a camera over MSE; settles once the request is sent. */
  watchMse(tile: string, cameraId: string): Promise<ViewerTile> {
    return this.watch(tile, cameraId, 'mse', false);
  }

  /** Closes the socket (the centre ends its views) and every peer. */
  async close(): Promise<void> {
    this.ws.terminate();
    await Promise.all([...this.tiles.values()].map((t) => t.peer?.close() ?? Promise.resolve()));
  }

  private watch(tile: string, cameraId: string, transport: 'webrtc' | 'mse', keyframes: boolean): Promise<ViewerTile> {
    let flow!: (at: number) => void;
    let keyframe!: (at: number) => void;
    let end!: (e: TileEnd) => void;
    let answered!: () => void;
    let refused!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      answered = resolve;
      refused = reject;
    });
    let lastTs = -1;
    let inKeyframe: number | undefined;
    const state: TileState = {
      tile,
      transport,
      received: 0,
      isEnded: false,
      flowing: new Promise<number>((r) => (flow = r)),
      keyframe: new Promise<number>((r) => (keyframe = r)),
      ended: new Promise<TileEnd>((r) => (end = r)),
      flow: () => flow(performance.now()),
      gotKeyframe: (at) => keyframe(at),
      end: (e) => {
        state.isEnded = true;
        void state.peer?.close();
        end(e);
      },
      fail: (err) => refused(err),
      offered: (sdp) => {
        void VideoRecvPeer.answer(sdp, { loopbackOnly: true }).then(({ peer, answer }) => {
          state.peer = peer;
          if (keyframes) {
            peer.onRtp((p) => {
              state.received++;
              state.flow();
              // A key frame is whole at the marker of the access unit it started.
              if (p.timestamp !== lastTs) inKeyframe = payloadStartsKeyframe(p.payload) ? p.timestamp : undefined;
              lastTs = p.timestamp;
              if (p.marker && inKeyframe === p.timestamp) state.gotKeyframe(performance.now());
            });
          } else {
            peer.onState((s) => {
              if (s !== 'connected') return;
              peer.interceptRtp(() => {
                state.received++;
                state.flow();
              }, 1 << 20);
            });
          }
          this.ws.send(JSON.stringify({ type: 'answer', tile, sdp: answer }));
          answered();
        }, refused);
      },
    };
    this.tiles.set(tile, state);
    this.ws.send(JSON.stringify({ type: 'watch', tile, cameraId, ...(transport === 'mse' ? { transport: 'mse' } : {}) }));
    if (transport === 'mse') answered();
    return ready.then(() => state);
  }
}
