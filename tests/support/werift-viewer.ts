import WebSocket from 'ws';
import { payloadStartsKeyframe } from '../../protocol/src/h264/depacketizer';
import { VideoRecvPeer } from '../../protocol/src/webrtc/werift-peer';

/** One RTP packet as a test viewer received it (after SRTP, werift's receiver and its NACKs). */
export interface ReceivedPacket {
  seq: number;
  ssrc: number;
  timestamp: number;
  /** First packet of an access unit that starts a key frame. */
  keyframe: boolean;
  at: number;
}

/**
 * A WebRTC viewer for tests that need to look at packets: it signals on the centre's
 * `/api/view` like the live page (a signed-in session's cookie, the centre's own Origin), answers with werift (ICE, DTLS, SRTP, RTCP receiver reports
 * and NACKs), and records every RTP packet. `dropRtp` loses packets on arrival, as a lossy
 * network would, so the NACK path can be exercised.
 */
export class TestViewer {
  readonly packets: ReceivedPacket[] = [];
  private lastTimestamp = -1;
  private lastMarker = true;

  private constructor(
    private readonly ws: WebSocket,
    readonly peer: VideoRecvPeer,
  ) {}

  /** `cookie`: the session cookie of an account allowed to watch (`CentreClient.cookie`). */
  static async watch(centreUrl: string, cookie: string, cameraId: string, dropRtp?: (seq: number) => boolean): Promise<TestViewer> {
    const ws = new WebSocket(`${centreUrl.replace(/^http/, 'ws')}/api/view`, { headers: { cookie, origin: centreUrl } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const offer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no offer within 15 s')), 15_000);
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { type: string; sdp?: string; message?: string };
        if (msg.type === 'offer' && msg.sdp) {
          clearTimeout(timer);
          resolve(msg.sdp);
        } else if (msg.type === 'error') {
          clearTimeout(timer);
          reject(new Error(msg.message));
        }
      });
      ws.send(JSON.stringify({ type: 'watch', tile: 't1', cameraId }));
    });
    const { peer, answer } = await VideoRecvPeer.answer(offer, { loopbackOnly: true, dropRtp });
    const viewer = new TestViewer(ws, peer);
    peer.onRtp((p) => {
      const auStart = viewer.lastMarker || p.timestamp !== viewer.lastTimestamp;
      viewer.lastMarker = p.marker;
      viewer.lastTimestamp = p.timestamp;
      viewer.packets.push({ seq: p.sequenceNumber, ssrc: p.ssrc, timestamp: p.timestamp, keyframe: auStart && payloadStartsKeyframe(p.payload), at: Date.now() });
    });
    ws.send(JSON.stringify({ type: 'answer', tile: 't1', sdp: answer }));
    return viewer;
  }

  /** Key frames that started after `since` (ms epoch). */
  keyframesSince(since: number): number {
    return this.packets.filter((p) => p.keyframe && p.at >= since).length;
  }

  async close(): Promise<void> {
    this.ws.terminate();
    await this.peer.close();
  }
}

/** Polls `check` every 50 ms until it holds, or fails after `timeoutMs` saying what was awaited. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
