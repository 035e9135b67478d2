import type { TileEvent } from '../stores/viewer-socket';
import { SocketTransport } from './socket-transport';
import type { FallbackReason, StreamChoice, TransportContext } from './tile-transport';

/** How long to wait for ICE gathering before answering with what is there (non-trickle). */
const GATHER_TIMEOUT_MS = 2000;
/** Not connected this long after the answer (and ICE not through either): the network keeps WebRTC out. */
export const ICE_CONNECT_TIMEOUT_MS = 5000;

/**
 * WebRTC: the centre offers one sendonly H.264 track per tile over the viewer socket, the
 * page answers (no trickle ICE). The receiver holds back nothing in its jitter buffer (the
 * centre also bounds the playout delay with the playout-delay RTP header extension): live
 * video at the lowest latency the network allows. Where it never connects (ICE fails, or is
 * not through {@link ICE_CONNECT_TIMEOUT_MS} after the answer) it reports `unreachable`
 * rather than `ended`, so the tile can fall back.
 */
export class WebRtcTransport extends SocketTransport {
  readonly kind = 'webrtc' as const;
  readonly profile: StreamChoice;
  private pc: RTCPeerConnection | undefined;
  private connectTimer: number | undefined;

  constructor(ctx: TransportContext) {
    super(ctx);
    this.profile = ctx.profile;
  }

  async inbound(): Promise<Record<string, unknown> | null> {
    if (!this.pc) return null;
    let found: Record<string, unknown> | null = null;
    (await this.pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') found = r;
    });
    return found;
  }

  protected release(): void {
    window.clearTimeout(this.connectTimer);
    this.pc?.close();
    this.pc = undefined;
    if (this.ctx.video.srcObject) this.ctx.video.srcObject = null;
  }

  protected onMedia(ev: Exclude<TileEvent, { type: 'ended' | 'error' }>): void {
    if (ev.type !== 'offer') return;
    this.answer(ev.sdp).catch((err: Error) => this.fail(err.message, true, false));
  }

  private unreachable(reason: FallbackReason): void {
    if (this.closed) return;
    this.close();
    this.ctx.events.unreachable(reason);
  }

  private async answer(sdp: string): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    pc.ontrack = (ev) => {
      // Live video: no extra hold-back in the jitter buffer.
      (ev.receiver as RTCRtpReceiver & { jitterBufferTarget?: number | null }).jitterBufferTarget = 0;
      this.ctx.video.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
      void this.ctx.video.play().catch(() => undefined);
      this.ctx.events.media();
    };
    let connected = false;
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === 'connected') {
        connected = true;
        window.clearTimeout(this.connectTimer);
      }
      // Never connected: the network keeps WebRTC out (UDP blocked); once connected, a failure is the stream's.
      if (pc.connectionState === 'failed') {
        if (connected) this.fail('the video connection failed', true, false);
        else this.unreachable('webrtc_failed');
      }
    };
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const timer = window.setTimeout(resolve, GATHER_TIMEOUT_MS);
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') {
            window.clearTimeout(timer);
            resolve();
          }
        });
      });
    }
    if (this.closed || this.pc !== pc) return;
    this.ctx.socket.send({ type: 'answer', tile: this.handle, sdp: pc.localDescription!.sdp });
    this.connectTimer = window.setTimeout(() => {
      // ICE through but DTLS slow (a busy centre) is not a blocked network: leave that to 'failed'.
      const iceUp = pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';
      if (this.pc === pc && pc.connectionState !== 'connected' && !iceUp) this.unreachable('webrtc_timeout');
    }, ICE_CONNECT_TIMEOUT_MS);
  }
}
