import type { AccessUnit } from '@schoolcam/protocol/h264/nal';

/** Frames kept for the rates: the last few seconds. */
const WINDOW_MS = 5000;

/**
 * Frame rate, bitrate and key-frame interval of one camera's stream over the last 5 s. Rates and
 * the key-frame interval are measured against RTP timestamps (the camera's own clock), so frames
 * that arrive in a burst after a network hiccup do not inflate them.
 */
export class StreamStats {
  private readonly frames: { at: number; ts: number; bytes: number }[] = [];
  private lastKeyTs: number | undefined;
  /** `Date.now()` of the last frame; undefined before the first. */
  lastFrameAt: number | undefined;
  keyframeIntervalMs: number | undefined;

  /**
   * One access unit. `requested`: a key frame we asked the camera for (ONVIF
   * SetSynchronizationPoint) — the interval it ends says nothing about the camera's own GOP.
   */
  record(au: AccessUnit, now = Date.now(), requested = false): void {
    let bytes = 0;
    for (const n of au.nalus) bytes += n.length;
    this.frames.push({ at: now, ts: au.timestamp, bytes });
    this.lastFrameAt = now;
    this.trim(now);
    if (au.keyframe) {
      if (this.lastKeyTs !== undefined && !requested) {
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
    const n = this.frames.length;
    if (n < 2) return { fps: 0, bitrateKbps: 0 };
    const spanMs = ((this.frames[n - 1].ts - this.frames[0].ts) >>> 0) / 90;
    // A new source's timeline or a timestamp jump: no sensible rate from these frames.
    if (spanMs <= 0 || spanMs > 2 * WINDOW_MS) return { fps: 0, bitrateKbps: 0 };
    // n frames cover n − 1 intervals; the bytes of the first frame belong before the span.
    let bytes = 0;
    for (let i = 1; i < n; i++) bytes += this.frames[i].bytes;
    return { fps: round1(((n - 1) * 1000) / spanMs), bitrateKbps: Math.round((bytes * 8) / spanMs) };
  }

  private trim(now: number): void {
    while (this.frames.length > 0 && now - this.frames[0].at > WINDOW_MS) this.frames.shift();
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
