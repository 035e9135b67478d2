import { SyntheticH264Encoder } from '@schoolcam/protocol/h264/encoder/synthetic-encoder';
import { H264Packetizer } from '@schoolcam/protocol/h264/packetizer';
import { RtpSequencer } from '@schoolcam/protocol/rtp/rtp-sequencer';
import { buildH264Sdp } from '@schoolcam/protocol/sdp/sdp';
import type { RtspMediaSource } from '@schoolcam/protocol/rtsp/rtsp-server';

export interface VideoStreamOptions {
  name: string;
  width: number;
  height: number;
  fps: number;
  gopSeconds: number;
  /** Average bitrate to aim for, kbit/s (see `SyntheticEncoderOptions.bitrateKbps`). Default 0. */
  bitrateKbps?: number;
}

type RtpListener = (trackId: number, packet: Buffer) => void;

/**
 * One encoder shared by every RTSP client of a profile, as in a real camera. It runs
 * only while someone is subscribed (a fleet of hundreds of idle cameras costs nothing),
 * ticks on a drift-corrected timer, and stamps each frame with the wall-clock time it
 * is encoded at — the barcode in the picture and the RTP timestamp agree.
 */
export class VideoStream implements RtspMediaSource {
  private encoder: SyntheticH264Encoder;
  private readonly packetizer = new H264Packetizer();
  private readonly sequencer = new RtpSequencer(96);
  private readonly listeners = new Set<RtpListener>();
  private timer: NodeJS.Timeout | undefined;
  private nextTick = 0;
  private readonly epochMs = Date.now();
  /** Frames produced since start (for the control API and tests). */
  framesSent = 0;
  /** While true, frames are still encoded (the clock runs) but no RTP is sent. */
  stalled = false;

  constructor(private opts: VideoStreamOptions) {
    // Throws on sizes the encoder cannot make, before the camera opens any port.
    this.encoder = new SyntheticH264Encoder(opts);
  }

  get width(): number {
    return this.opts.width;
  }

  get height(): number {
    return this.opts.height;
  }

  get fps(): number {
    return this.opts.fps;
  }

  get clients(): number {
    return this.listeners.size;
  }

  describe(): string {
    return buildH264Sdp({ sps: this.encoder.sps, pps: this.encoder.pps, sessionName: this.opts.name.replace(/[^\x20-\x7e]/g, '?') });
  }

  subscribe(_trackIds: number[], onRtp: RtpListener): () => void {
    this.listeners.add(onRtp);
    if (!this.timer) this.start();
    return () => {
      this.listeners.delete(onRtp);
      if (this.listeners.size === 0) this.stop();
    };
  }

  get gopSeconds(): number {
    return this.opts.gopSeconds;
  }

  /** The next frame is an IDR (ONVIF SetSynchronizationPoint). */
  requestKeyframe(): void {
    this.encoder.requestKeyframe();
  }

  /**
   * Changes the picture size, frame rate or GOP while clients play, as a camera does when
   * an installer edits its encoder settings: a new size or rate starts a new sequence (new
   * SPS/PPS in-band with the next IDR); a new GOP applies from the next frame.
   */
  reconfigure(change: Partial<Pick<VideoStreamOptions, 'width' | 'height' | 'fps' | 'gopSeconds'>>): void {
    const next = { ...this.opts, ...change };
    const newSequence = next.width !== this.opts.width || next.height !== this.opts.height || next.fps !== this.opts.fps;
    const encoder = newSequence ? new SyntheticH264Encoder(next) : this.encoder; // validates before anything changes
    if (!newSequence) encoder.setGop(next.gopSeconds);
    this.opts = next;
    this.encoder = encoder;
  }

  /** The current picture as I420 (for JPEG snapshots); renders one when the stream is idle. */
  snapshotI420(): { i420: Uint8Array; width: number; height: number } {
    if (!this.timer) this.encoder.encode(Date.now());
    return { i420: this.encoder.lastFrameI420(), width: this.opts.width, height: this.opts.height };
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    // An encoder starting from idle begins with an IDR: nothing before it was sent.
    this.encoder.requestKeyframe();
    this.nextTick = Date.now();
    // Not synchronously: subscribe() runs inside the RTSP server's PLAY handling, and the
    // first packets must follow the PLAY reply on the wire, not precede it.
    this.timer = setTimeout(this.tick, 0);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    const now = Date.now();
    const frame = this.encoder.encode(now);
    const ts = Math.round((now - this.epochMs) * 90);
    if (!this.stalled) {
      for (const pkt of this.sequencer.packets(this.packetizer.packetize(frame.nalus), ts)) {
        for (const l of this.listeners) l(0, pkt);
      }
      this.framesSent++;
    }
    const interval = 1000 / this.opts.fps;
    this.nextTick += interval;
    // After a long pause (debugger, overloaded host) skip ahead instead of bursting.
    if (this.nextTick < now - interval * 5) this.nextTick = now + interval;
    this.timer = setTimeout(this.tick, Math.max(0, this.nextTick - Date.now()));
  };
}
