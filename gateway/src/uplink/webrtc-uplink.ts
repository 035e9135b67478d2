import { EventEmitter } from 'node:events';
import { MediaStreamTrack, type RTCPeerConnection } from 'werift';
import type { Logger } from 'pino';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import { H264Packetizer } from '@schoolcam/protocol/h264/packetizer';
import { RtpSequencer } from '@schoolcam/protocol/rtp/rtp-sequencer';
import { createPeer, gatheringComplete, localSdp, type PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
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
 * comes back, frames resume on the same track (the {@link Camera} keeps one timeline; the
 * sequencer keeps sequence numbers running; SPS and PPS go in-band before the first IDR).
 */
export class WebRtcUplink extends EventEmitter<UplinkEvents> {
  private readonly track = new MediaStreamTrack({ kind: 'video' });
  private readonly packetizer = new H264Packetizer();
  private readonly sequencer = new RtpSequencer(96);
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
    private readonly pc: RTCPeerConnection,
    private readonly log: Logger,
  ) {
    super();
  }

  static async create(streamId: string, camera: Camera, peerOpts: PeerOptions, log: Logger): Promise<{ uplink: WebRtcUplink; offer: string }> {
    const pc = createPeer(peerOpts);
    const uplink = new WebRtcUplink(streamId, camera, pc, log);
    try {
      uplink.releaseCamera = camera.acquire();
      camera.on('frame', uplink.onFrame);
      const transceiver = pc.addTransceiver(uplink.track, { direction: 'sendonly' });
      transceiver.sender.onPictureLossIndication.subscribe(() => camera.requestKeyframe());
      pc.connectionStateChange.subscribe((state) => uplink.onConnectionState(state));
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc);
      uplink.answerTimer = setTimeout(() => uplink.close('no answer from the centre', 'negotiation'), ANSWER_TIMEOUT_MS);
      return { uplink, offer: localSdp(pc, peerOpts) };
    } catch (err) {
      uplink.close('negotiation failed', 'negotiation');
      throw err;
    }
  }

  async accept(answerSdp: string): Promise<void> {
    clearTimeout(this.answerTimer);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  private onConnectionState(state: string): void {
    this.log.debug({ camera: this.camera.id, stream: this.streamId, state }, 'uplink peer state');
    if (state === 'connected') {
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
    for (const pkt of this.sequencer.packets(this.packetizer.packetize(au.nalus), au.timestamp)) this.track.writeRtp(pkt);
    if (this.framesSent++ === 0) this.log.info({ camera: this.camera.id, keyframe: au.keyframe }, 'first frame sent');
  }

  /** Idempotent. */
  close(reason: string, cause: UplinkCloseCause): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.answerTimer);
    this.camera.off('frame', this.onFrame);
    this.releaseCamera?.();
    this.track.stop();
    this.pc.close().catch(() => undefined);
    this.log.info({ camera: this.camera.id, stream: this.streamId, reason }, 'uplink closed');
    this.emit('close', reason, cause);
  }
}
