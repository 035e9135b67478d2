import type { AccessUnit } from '@schoolcam/protocol/h264/nal';

/** Frames kept for the rates: the last few seconds. */
const WINDOW_MS = 5000;

/**
 * Frame rate, bitrate and key-frame interval of one camera's stream, measured on what arrives.
 * The key-frame interval is read from RTP timestamps (the camera's own clock), so network jitter
 * does not change it.
 */
export class StreamStats {
  private readonly frames: { at: number; bytes: number }[] = [];
  private lastKeyTs: number | undefined;
  /** `Date.now()` of the last frame; undefined before the first. */
  lastFrameAt: number | undefined;
  keyframeIntervalMs: number | undefined;

  record(au: AccessUnit, now = Date.now()): void {
    let bytes = 0;
    for (const n of au.nalus) bytes += n.length;
    this.frames.push({ at: now, bytes });
    this.lastFrameAt = now;
    this.trim(now);
    if (au.keyframe) {
      if (this.lastKeyTs !== undefined) {
        const ticks = (au.timestamp - this.lastKeyTs) >>> 0;
        // A wrap or a jump of more than an hour is a new timeline, not a GOP.
        if (ticks > 0 && ticks < 90_000 * 3600) this.keyframeIntervalMs = Math.round(ticks / 90);
      }
      this.lastKeyTs = au.timestamp;
    }
  }

  /** A new source: its timestamps start elsewhere. */
  restart(): void {
    this.lastKeyTs = undefined;
  }

  rates(now = Date.now()): { fps: number; bitrateKbps: number } {
    this.trim(now);
    if (this.frames.length < 2) return { fps: 0, bitrateKbps: 0 };
    const span = Math.max(now - this.frames[0].at, 1000 / 60);
    const bytes = this.frames.reduce((n, f) => n + f.bytes, 0);
    return { fps: round1((this.frames.length * 1000) / span), bitrateKbps: Math.round((bytes * 8) / span) };
  }

  private trim(now: number): void {
    while (this.frames.length > 0 && now - this.frames[0].at > WINDOW_MS) this.frames.shift();
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
