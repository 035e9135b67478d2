import type { EndCause } from '../../../access/revocation';
import type { ViewerErrorCode } from '../../../viewer/viewer-messages';
import type { TileEvent } from '../stores/viewer-socket';
import type { TileTransport, TransportContext } from './tile-transport';

let handleSeq = 0;

/** End causes after which retrying cannot help: access is gone, not just the stream. */
const FINAL_CAUSES = new Set<EndCause['kind']>(['gateway_revoked', 'access_revoked', 'logout', 'session_expired', 'user_disabled', 'user_changed']);
/** Refusals that will not change by asking again. */
const FINAL_ERRORS = new Set<ViewerErrorCode>(['NOT_FOUND', 'FORBIDDEN', 'TOO_MANY_TILES', 'UNAUTHORIZED', 'SESSION_EXPIRED']);

/** How long to wait for ICE gathering before answering with what is there (non-trickle). */
const GATHER_TIMEOUT_MS = 2000;

/**
 * WebRTC: the centre offers one sendonly H.264 track per tile over the viewer socket, the
 * page answers (no trickle ICE). The receiver holds back nothing in its jitter buffer (the
 * centre also bounds the playout delay with the playout-delay RTP header extension): live
 * video at the lowest latency the network allows.
 */
export class WebRtcTransport implements TileTransport {
  readonly kind = 'webrtc' as const;
  private readonly handle = `t${++handleSeq}`;
  private pc: RTCPeerConnection | undefined;
  private closed = false;
  private opened = false;

  constructor(private readonly ctx: TransportContext) {}

  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.ctx.socket.bind(this.handle, {
      event: (ev) => this.onEvent(ev),
      down: () => this.fail('the connection to the centre dropped', true, false),
    });
    if (!this.ctx.socket.send({ type: 'watch', tile: this.handle, cameraId: this.ctx.cameraId, profile: this.ctx.profile })) {
      this.fail('not connected to the centre', true, false);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.socket.release(this.handle);
    if (this.opened) this.ctx.socket.send({ type: 'unwatch', tile: this.handle });
    this.pc?.close();
    this.pc = undefined;
    if (this.ctx.video.srcObject) this.ctx.video.srcObject = null;
  }

  async inbound(): Promise<Record<string, unknown> | null> {
    if (!this.pc) return null;
    let found: Record<string, unknown> | null = null;
    (await this.pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') found = r;
    });
    return found;
  }

  private onEvent(ev: TileEvent): void {
    if (this.closed) return;
    switch (ev.type) {
      case 'offer':
        this.answer(ev.sdp).catch((err: Error) => this.fail(err.message, true, false));
        return;
      case 'ended':
        this.fail(ev.reason, !FINAL_CAUSES.has(ev.cause.kind), false);
        return;
      case 'error': {
        const final = FINAL_ERRORS.has(ev.code);
        this.fail(ev.message, !final, ev.code === 'NOT_FOUND' || ev.code === 'FORBIDDEN');
        return;
      }
    }
  }

  private fail(reason: string, retry: boolean, refused: boolean): void {
    if (this.closed) return;
    this.close();
    this.ctx.events.ended(reason, { retry, refused });
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
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.fail('the video connection failed', true, false);
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
  }
}
