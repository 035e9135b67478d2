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

  /** The next frame is an IDR (ONVIF SetSynchronizationPoint). */
  requestKeyframe(): void {
    this.encoder.requestKeyframe();
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    this.nextTick = Date.now();
    this.tick();
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
