import type { AccessUnit } from '@schoolcam/protocol/h264/nal';

/**
 * The access units since the last key frame, so a new uplink can start decoding at
 * once instead of waiting up to a whole GOP for the camera's next IDR. Bounded: a
 * camera with a 10 s GOP at a high bitrate must not eat the gateway's memory.
 */
export class GopCache {
  private units: AccessUnit[] = [];
  private bytes = 0;

  constructor(
    private readonly maxUnits = 600,
    private readonly maxBytes = 24 * 1024 * 1024,
  ) {}

  push(au: AccessUnit): void {
    if (au.keyframe) {
      this.units = [];
      this.bytes = 0;
    } else if (this.units.length === 0) {
      return; // no key frame yet: nothing decodable to keep
    }
    const size = au.nalus.reduce((n, b) => n + b.length, 0);
    if (this.units.length >= this.maxUnits || this.bytes + size > this.maxBytes) {
      this.clear(); // GOP too long to keep; wait for the next key frame
      return;
    }
    this.units.push(au);
    this.bytes += size;
  }

  /** The cached GOP, oldest first (starts with a key frame), or empty. */
  snapshot(): readonly AccessUnit[] {
    return this.units.slice();
  }

  clear(): void {
    this.units = [];
    this.bytes = 0;
  }
}
