import WebSocket from 'ws';
import { SrtpError, type SrtpReceiver } from '../../protocol/src/srtp/srtp-context';
import { VideoRecvPeer } from '../../protocol/src/webrtc/werift-peer';

/**
 * A process of light WebRTC viewers for `bench:fanout`, driven by its parent over IPC.
 * Each viewer is a real endpoint — it signals on the centre's `/api/view`, runs ICE and
 * DTLS (werift) — but once connected it takes its RTP straight from the socket: it counts
 * packets and sequence gaps and authenticates and decrypts one packet in
 * {@link SAMPLE_EVERY} to prove the SRTP valid. That keeps the viewers' own cost small
 * and out of the centre's process.
 */

/** Parent → viewer process. */
export type ViewerCommand =
  /** `cookie`: the session cookie of a signed-in account allowed to watch the cameras (an operator's). */
  | { type: 'watch'; centreUrl: string; cookie: string; cameraIds: string[] }
  | { type: 'stats' }
  | { type: 'stop' };

/** One viewer's counters. */
export interface LightViewerStats {
  cameraId: string;
  state: 'signalling' | 'connecting' | 'receiving' | 'ended' | 'failed';
  received: number;
  /** Sequence numbers skipped (lost before reaching the socket or never sent). */
  gaps: number;
  /** Packets older than the newest seen (duplicates, reordering, retransmissions). */
  late: number;
  samplesOk: number;
  samplesBad: number;
  /** Times the centre ended the view and it watched again. */
  restarts: number;
}

/** Viewer process → parent. */
export type ViewerReport = { type: 'stats'; viewers: LightViewerStats[]; cpuUs: number } | { type: 'error'; message: string };

const TILES_PER_SOCKET = 30;
const SAMPLE_EVERY = 64;
/** How many viewers of this process negotiate at once. */
const CONCURRENT_SETUPS = 6;

class LightViewer {
  readonly stats: LightViewerStats;
  private peer: VideoRecvPeer | undefined;
  private srtp: SrtpReceiver | undefined;
  private lastSeq = -1;
  private tile = '';

  constructor(
    private readonly socket: ViewerSocket,
    cameraId: string,
  ) {
    this.stats = { cameraId, state: 'signalling', received: 0, gaps: 0, late: 0, samplesOk: 0, samplesBad: 0, restarts: 0 };
  }

  watch(tile: string): void {
    this.tile = tile;
    this.stats.state = 'signalling';
    this.lastSeq = -1;
    this.socket.send({ type: 'watch', tile, cameraId: this.stats.cameraId });
  }

  async onOffer(sdp: string): Promise<void> {
    const { peer, answer } = await VideoRecvPeer.answer(sdp, { loopbackOnly: true });
    this.peer = peer;
    this.stats.state = 'connecting';
    peer.onState((state) => {
      if (state === 'connected' && this.peer === peer && !this.srtp) {
        // A deep socket buffer: many viewers share this process, and a key frame reaches them all at once.
        this.srtp = peer.interceptRtp((d) => this.onSrtp(d), 4 << 20);
        this.stats.state = 'receiving';
      } else if (state === 'failed') {
        if (process.env.SCHOOLCAM_LOG_LEVEL === 'debug') console.error(`light viewer: peer failed (was ${this.stats.state})`);
        this.stats.state = 'failed';
      }
    });
    this.socket.send({ type: 'answer', tile: this.tile, sdp: answer });
  }

  ended(): void {
    void this.peer?.close();
    this.peer = undefined;
    this.srtp = undefined;
    this.stats.state = 'ended';
    this.stats.restarts++;
  }

  close(): void {
    void this.peer?.close();
  }

  private onSrtp(d: Buffer): void {
    const s = this.stats;
    s.received++;
    const seq = d.readUInt16BE(2);
    if (this.lastSeq >= 0) {
      const ahead = (seq - this.lastSeq) & 0xffff;
      if (ahead === 0 || ahead >= 0x8000) {
        s.late++;
        return;
      }
      s.gaps += ahead - 1;
    }
    this.lastSeq = seq;
    if (s.received % SAMPLE_EVERY === 1 && this.srtp) {
      try {
        const rtp = this.srtp.unprotect(d);
        // An H.264 payload (RFC 6184): a NAL unit type 1–23, STAP-A (24) or FU-A (28).
        const nal = rtp[12 + (rtp[0] & 0x0f) * 4 + (rtp[0] & 0x10 ? 4 + rtp.readUInt16BE(14 + (rtp[0] & 0x0f) * 4) * 4 : 0)] & 0x1f;
        if ((nal >= 1 && nal <= 24) || nal === 28) s.samplesOk++;
        else s.samplesBad++;
      } catch (err) {
        if (!(err instanceof SrtpError)) throw err;
        s.samplesBad++;
      }
    }
  }
}

/** One signalling socket carrying up to {@link TILES_PER_SOCKET} viewers, as one operator's page does. */
class ViewerSocket {
  private readonly ws: WebSocket;
  private readonly ready: Promise<void>;
  readonly byTile = new Map<string, LightViewer>();
  /** Viewers this socket carries (a viewer between two views holds no tile but keeps its place). */
  viewers = 0;
  private seq = 0;

  /** Opens `/api/view` as the page does: with the session cookie, from the centre's own origin. */
  constructor(centreUrl: string, cookie: string) {
    this.ws = new WebSocket(`${centreUrl.replace(/^http/, 'ws')}/api/view`, { headers: { cookie, origin: centreUrl } });
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data: Buffer) => this.onMessage(JSON.parse(data.toString()) as { type: string; tile?: string; sdp?: string }));
  }

  async add(cameraId: string): Promise<LightViewer> {
    this.viewers++;
    await this.ready;
    const viewer = new LightViewer(this, cameraId);
    const tile = `v${++this.seq}`;
    this.byTile.set(tile, viewer);
    const offered = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (viewer.stats.state !== 'signalling') {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    viewer.watch(tile);
    await offered;
    return viewer;
  }

  send(msg: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private onMessage(msg: { type: string; tile?: string; sdp?: string }): void {
    const viewer = msg.tile ? this.byTile.get(msg.tile) : undefined;
    if (!viewer) return;
    if (msg.type === 'offer' && msg.sdp) {
      viewer.onOffer(msg.sdp).catch((err: Error) => {
        if (process.env.SCHOOLCAM_LOG_LEVEL === 'debug') console.error(`light viewer: answer failed: ${err.message}`);
        viewer.stats.state = 'failed';
      });
    } else if (msg.type === 'ended' || msg.type === 'error') {
      if (process.env.SCHOOLCAM_LOG_LEVEL === 'debug') console.error(`light viewer: ${msg.type}: ${JSON.stringify(msg)}`);
      // As the live page does: the view ended under it (a restarted shard, a camera that came back), watch again.
      viewer.ended();
      this.byTile.delete(msg.tile!);
      setTimeout(() => {
        const tile = `v${++this.seq}`;
        this.byTile.set(tile, viewer);
        viewer.watch(tile);
      }, 1000);
    }
  }

  close(): void {
    for (const v of this.byTile.values()) v.close();
    this.ws.terminate();
  }
}

const sockets: ViewerSocket[] = [];
const viewers: LightViewer[] = [];

async function watch(centreUrl: string, cookie: string, cameraIds: string[]): Promise<void> {
  const queue = [...cameraIds];
  const socketFor = (): ViewerSocket => {
    let s = sockets.at(-1);
    if (!s || s.viewers >= TILES_PER_SOCKET) {
      s = new ViewerSocket(centreUrl, cookie);
      sockets.push(s);
    }
    return s;
  };
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) viewers.push(await socketFor().add(id));
  };
  await Promise.all(Array.from({ length: CONCURRENT_SETUPS }, worker));
}

function reply(msg: ViewerReport): void {
  process.send?.(msg);
}

process.on('message', (cmd: ViewerCommand) => {
  switch (cmd.type) {
    case 'watch':
      watch(cmd.centreUrl, cmd.cookie, cmd.cameraIds).then(
        () => reply(statsReport()),
        (err: Error) => reply({ type: 'error', message: err.message }),
      );
      return;
    case 'stats':
      reply(statsReport());
      return;
    case 'stop':
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 200);
      return;
  }
});
// The parent going away ends the viewers too: nothing is left running.
process.on('disconnect', () => process.exit(0));

function statsReport(): ViewerReport {
  const u = process.cpuUsage();
  return { type: 'stats', viewers: viewers.map((v) => ({ ...v.stats })), cpuUs: u.user + u.system };
}
