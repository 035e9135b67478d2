import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import { H264Packetizer } from '@schoolcam/protocol/h264/packetizer';
import { RtpStreamSender } from '@schoolcam/protocol/webrtc/rtp-stream-sender';
import { type PeerOptions, VideoSendPeer } from '@schoolcam/protocol/webrtc/werift-peer';
import type { Camera } from '../camera/camera';

/** An offer the centre never answers is given up after this long. */
const ANSWER_TIMEOUT_MS = 15_000;

/** Who ended an uplink: the centre (stream.stop), the link going down, the gateway (shutdown, camera removed), its negotiation, or its peer connection. */
export type UplinkCloseCause = 'centre' | 'link' | 'gateway' | 'negotiation' | 'peer';

export interface UplinkEvents {
  close: [reason: string, cause: UplinkCloseCause];
}

/**
 * One camera relayed to the centre over WebRTC: the gateway offers a sendonly H.264
 * track and re-packetizes the camera's access units for it (no transcoding). It lives as long as
 * the centre wants the stream, not as long as the camera's connection: when the camera drops and
 * comes back, frames resume on the same stream (the {@link Camera} keeps one timeline; the
 * stream sender keeps sequence numbers running; SPS and PPS go in-band before the first IDR).
 */
export class WebRtcUplink extends EventEmitter<UplinkEvents> {
  private readonly packetizer = new H264Packetizer();
  private stream: RtpStreamSender | undefined;
  private connected = false;
  private closed = false;
  private releaseCamera: (() => void) | undefined;
  private answerTimer: NodeJS.Timeout | undefined;
  private readonly onFrame = (au: AccessUnit): void => this.send(au);
  /** Frames written to the peer. */
  framesSent = 0;

  private constructor(
    readonly streamId: string,
    private readonly camera: Camera,
    private readonly peer: VideoSendPeer,
    private readonly log: Logger,
  ) {
    super();
  }

  static async create(streamId: string, camera: Camera, peerOpts: PeerOptions, log: Logger): Promise<{ uplink: WebRtcUplink; offer: string }> {
    const { peer, offer } = await VideoSendPeer.offer(peerOpts);
    const uplink = new WebRtcUplink(streamId, camera, peer, log);
    try {
      uplink.releaseCamera = camera.acquire();
      camera.on('frame', uplink.onFrame);
      peer.onKeyframeRequest(() => camera.requestKeyframe());
      peer.onNack((seqs) => uplink.stream?.resend(seqs));
      peer.onState((state) => uplink.onConnectionState(state));
      uplink.answerTimer = setTimeout(() => uplink.close('no answer from the centre', 'negotiation'), ANSWER_TIMEOUT_MS);
      return { uplink, offer };
    } catch (err) {
      uplink.close('negotiation failed', 'negotiation');
      throw err;
    }
  }

  async accept(answerSdp: string): Promise<void> {
    clearTimeout(this.answerTimer);
    await this.peer.accept(answerSdp);
  }

  private onConnectionState(state: string): void {
    this.log.debug({ camera: this.camera.id, stream: this.streamId, state }, 'uplink peer state');
    if (state === 'connected') {
      // Media leaves on our own SRTP/UDP path (see protocol/webrtc); werift keeps ICE, DTLS and RTCP.
      this.stream = new RtpStreamSender(this.peer.mediaPath(), this.peer.sendParameters());
      this.connected = true;
      this.log.info({ camera: this.camera.id, stream: this.streamId }, 'uplink connected');
      this.fastStart();
    } else if (state === 'failed' || state === 'closed') {
      this.close(`peer ${state}`, 'peer');
    }
  }

  /**
   * Gives the centre something decodable at once: a fresh key frame when the camera
   * can make one (ONVIF SetSynchronizationPoint), else the cached GOP. Cached frames
   * are re-stamped one 90 kHz tick apart, ending at the newest one's time, so the
   * receiver decodes them in a burst instead of playing them out late.
   */
  private fastStart(): void {
    if (this.camera.keyframeOnDemand) {
      this.camera.requestKeyframe();
      return;
    }
    const gop = this.camera.gop.snapshot();
    const last = gop.at(-1);
    if (!last) return;
    gop.forEach((au, i) => this.send({ ...au, timestamp: (last.timestamp - (gop.length - 1 - i)) >>> 0 }));
  }

  private send(au: AccessUnit): void {
    if (!this.connected || this.closed) return;
    const ps = this.camera.parameterSets;
    this.packetizer.setParameterSets(ps.sps, ps.pps);
    const payloads = this.packetizer.packetize(au.nalus);
    payloads.forEach((p, i) => this.stream?.send(p, i === payloads.length - 1, au.timestamp));
    if (this.framesSent++ === 0) this.log.info({ camera: this.camera.id, keyframe: au.keyframe }, 'first frame sent');
  }

  /** Idempotent. */
  close(reason: string, cause: UplinkCloseCause): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.answerTimer);
    this.camera.off('frame', this.onFrame);
    this.releaseCamera?.();
    this.stream?.clear();
    void this.peer.close();
    this.log.info({ camera: this.camera.id, stream: this.streamId, reason }, 'uplink closed');
    this.emit('close', reason, cause);
  }
}
