/**
 * One RTP packet of a camera's feed as the fan-out keeps it: parsed once when it arrives
 * from the upstream, then shared (never copied or changed) by every viewer it is sent
 * to, the GOP cache, and NACK histories.
 */
export interface FeedPacket {
  /** Position in the feed (0, 1, 2, …): tells a viewer which packets it has had. */
  readonly index: number;
  readonly payload: Buffer;
  /** 90 kHz, as the upstream stamped it. */
  readonly timestamp: number;
  readonly marker: boolean;
  /** First packet of an access unit that starts a key frame (SPS or IDR). */
  readonly keyframeStart: boolean;
}

/** Limits of a feed's GOP cache: a 10 s GOP at a high bitrate must not eat the centre's memory. */
export interface GopCacheLimits {
  /** Default 6 MiB. */
  maxBytes?: number;
  /** Default 6000 packets. */
  maxPackets?: number;
}

/**
 * The packets since the feed's last key frame, so a viewer joining a running stream can
 * start decoding at once — from a camera that cannot make a key frame on demand too —
 * instead of waiting up to a whole GOP. Too long a GOP is dropped until the next key frame.
 */
export class PacketGopCache {
  private list: FeedPacket[] = [];
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxPackets: number;

  constructor(limits: GopCacheLimits = {}) {
    this.maxBytes = limits.maxBytes ?? 6 * 1024 * 1024;
    this.maxPackets = limits.maxPackets ?? 6000;
  }

  push(p: FeedPacket): void {
    if (p.keyframeStart) this.clear();
    else if (this.list.length === 0) return; // nothing decodable to keep before a key frame
    if (this.list.length >= this.maxPackets || this.bytes + p.payload.length > this.maxBytes) {
      this.clear();
      return;
    }
    this.list.push(p);
    this.bytes += p.payload.length;
  }

  /** The cached GOP, oldest first, starting with a key frame; empty when there is none. */
  get packets(): readonly FeedPacket[] {
    return this.list;
  }

  get size(): number {
    return this.bytes;
  }

  clear(): void {
    this.list = [];
    this.bytes = 0;
  }
}
