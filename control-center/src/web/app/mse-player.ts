/**
 * The page's MSE fallback player: fMP4 segments from the viewer socket into a `<video>` through
 * Media Source Extensions, kept at the live edge. Used where WebRTC cannot connect (UDP blocked).
 */

/** Behind the newest frame by more than this, the player jumps to it (a stall, a busy tab). */
const MAX_LAG_S = 0.5;
/**
 * Behind by more than this (frames that came in a burst after a late one), it plays a little
 * faster until it is back: MSE has no jitter buffer of its own to shrink, and a seek for every
 * small lag would stutter.
 */
const CATCH_UP_LAG_S = 0.12;
const CATCH_UP_RATE = 1.15;
/** Where a jump lands: just before the newest frame, so the next one plays on without a stall. */
const JUMP_TO_LAG_S = 0.05;
/** Media older than this behind the playhead is removed (MSE keeps it otherwise). */
const KEEP_BEHIND_S = 10;

export class MsePlayer {
  private readonly source = new MediaSource();
  private readonly url: string;
  private buffer: SourceBuffer | undefined;
  private codec: string | undefined;
  private readonly queue: Uint8Array<ArrayBuffer>[] = [];
  private closed = false;

  constructor(private readonly video: HTMLVideoElement) {
    this.url = URL.createObjectURL(this.source);
    video.srcObject = null;
    video.src = this.url;
    this.source.addEventListener('sourceopen', () => this.open(), { once: true });
  }

  /** True when this browser can play the codec through MSE. */
  static supports(codec: string): boolean {
    return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(mime(codec));
  }

  /** The codec of the init segment that follows. */
  setCodec(codec: string): void {
    if (this.buffer && this.codec !== codec) this.buffer.changeType(mime(codec));
    this.codec = codec;
    this.open();
  }

  append(fmp4: Uint8Array<ArrayBuffer>): void {
    if (this.closed) return;
    this.queue.push(fmp4);
    this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.video.removeAttribute('src');
    this.video.load();
    URL.revokeObjectURL(this.url);
  }

  private open(): void {
    if (this.buffer || !this.codec || this.source.readyState !== 'open' || this.closed) return;
    this.buffer = this.source.addSourceBuffer(mime(this.codec));
    this.buffer.addEventListener('updateend', () => {
      this.followLive();
      this.pump();
    });
    this.pump();
    void this.video.play().catch(() => undefined);
  }

  private pump(): void {
    const b = this.buffer;
    if (!b || b.updating || this.closed) return;
    const ranges = b.buffered;
    if (ranges.length > 0 && this.video.currentTime - ranges.start(0) > KEEP_BEHIND_S * 2) {
      b.remove(ranges.start(0), this.video.currentTime - KEEP_BEHIND_S);
      return;
    }
    const next = this.queue.shift();
    if (!next) return;
    try {
      b.appendBuffer(next);
    } catch {
      // QuotaExceeded or a closed source: drop this segment; the next key frame recovers.
    }
  }

  /** Live video: play the newest frames, not the backlog (and step over gaps left by skipped frames). */
  private followLive(): void {
    const r = this.video.buffered;
    if (r.length === 0) return;
    const start = r.start(r.length - 1);
    const end = r.end(r.length - 1);
    const t = this.video.currentTime;
    if (t < start || end - t > MAX_LAG_S) this.video.currentTime = Math.max(start, end - JUMP_TO_LAG_S);
    const rate = end - this.video.currentTime > CATCH_UP_LAG_S ? CATCH_UP_RATE : 1;
    if (this.video.playbackRate !== rate) this.video.playbackRate = rate;
    if (this.video.paused) void this.video.play().catch(() => undefined);
  }
}

function mime(codec: string): string {
  return `video/mp4; codecs="${codec}"`;
}
