import type { RtpPacket } from '../rtp/rtp-packet';
import { type AccessUnit, NalType, containsIdr } from './nal';

/** Limits that keep a hostile or broken camera from exhausting memory. */
export const DEPACKETIZER_LIMITS = {
  /** NAL units in one access unit. */
  maxNalusPerFrame: 1024,
  /** Bytes in one access unit (a 4K I-frame from a real camera stays well below). */
  maxFrameBytes: 8 * 1024 * 1024,
} as const;

export class H264DepacketizeError extends Error {
  readonly code = 'H264_DEPACKETIZE';
}

/**
 * H.264 RTP depacketizer (RFC 6184): single NAL unit, STAP-A and FU-A packets into
 * access units. A unit is complete on the marker bit or when the timestamp changes
 * (some cameras never set the marker). Lost fragments drop the damaged NAL unit, not
 * the stream; the caller sees `lost` grow and can ask for a key frame.
 */
export class H264Depacketizer {
  private nalus: Buffer[] = [];
  private bytes = 0;
  private timestamp: number | undefined;
  private fuParts: Buffer[] | undefined;
  private fuBytes = 0;
  private lastSeq: number | undefined;
  /** Packets found missing by sequence number. */
  lost = 0;

  /** Bytes held for the access unit (and the FU-A NAL unit) being assembled; never above {@link DEPACKETIZER_LIMITS}. */
  get bufferedBytes(): number {
    return this.bytes + (this.fuParts ? this.fuBytes : 0);
  }

  /**
   * Feeds one RTP packet; returns the access units it completed (zero, one, or two
   * when a timestamp change closes the previous unit and the marker closes this one).
   * Throws `H264DepacketizeError` on malformed payloads or exceeded limits.
   */
  push(pkt: RtpPacket): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (this.lastSeq !== undefined) {
      const gap = (pkt.sequenceNumber - this.lastSeq - 1) & 0xffff;
      if (gap !== 0 && gap < 0x8000) {
        this.lost += gap;
        this.fuParts = undefined; // a fragment went missing: the NAL unit is unusable
      }
    }
    this.lastSeq = pkt.sequenceNumber;
    if (this.timestamp !== undefined && pkt.timestamp !== this.timestamp && this.nalus.length > 0) {
      out.push(this.finish());
    }
    this.timestamp = pkt.timestamp;
    this.consume(pkt.payload);
    if (pkt.marker && this.nalus.length > 0) out.push(this.finish());
    return out;
  }

  private consume(payload: Buffer): void {
    if (payload.length < 1) throw new H264DepacketizeError('empty RTP payload');
    const type = payload[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      this.add(payload);
    } else if (type === NalType.StapA) {
      let off = 1;
      while (off < payload.length) {
        if (off + 2 > payload.length) throw new H264DepacketizeError('truncated STAP-A size');
        const size = payload.readUInt16BE(off);
        off += 2;
        if (size === 0 || off + size > payload.length) throw new H264DepacketizeError(`STAP-A unit of ${size} bytes runs past the packet`);
        this.add(payload.subarray(off, off + size));
        off += size;
      }
    } else if (type === NalType.FuA) {
      if (payload.length < 3) throw new H264DepacketizeError('truncated FU-A');
      const fuHeader = payload[1];
      const start = (fuHeader & 0x80) !== 0;
      const end = (fuHeader & 0x40) !== 0;
      if (start) {
        const header = Buffer.of((payload[0] & 0xe0) | (fuHeader & 0x1f));
        this.fuParts = [header];
        this.fuBytes = 1;
      } else if (!this.fuParts) {
        return; // middle of a NAL unit whose start we never saw
      }
      const part = payload.subarray(2);
      this.fuBytes += part.length;
      if (this.fuBytes > DEPACKETIZER_LIMITS.maxFrameBytes) {
        this.fuParts = undefined;
        throw new H264DepacketizeError(`FU-A NAL unit exceeds ${DEPACKETIZER_LIMITS.maxFrameBytes} bytes`);
      }
      this.fuParts.push(part);
      if (end) {
        const nal = Buffer.concat(this.fuParts, this.fuBytes);
        this.fuParts = undefined;
        this.add(nal);
      }
    } else {
      throw new H264DepacketizeError(`unsupported NAL/packet type ${type} (packetization-mode 1 only)`);
    }
  }

  private add(nal: Buffer): void {
    if (this.nalus.length >= DEPACKETIZER_LIMITS.maxNalusPerFrame) {
      this.reset();
      throw new H264DepacketizeError(`more than ${DEPACKETIZER_LIMITS.maxNalusPerFrame} NAL units in one access unit`);
    }
    if (this.bytes + nal.length > DEPACKETIZER_LIMITS.maxFrameBytes) {
      this.reset();
      throw new H264DepacketizeError(`access unit exceeds ${DEPACKETIZER_LIMITS.maxFrameBytes} bytes`);
    }
    // Copy: the RTP buffer is reused by some transports.
    this.nalus.push(Buffer.from(nal));
    this.bytes += nal.length;
  }

  private finish(): AccessUnit {
    const au: AccessUnit = { nalus: this.nalus, timestamp: this.timestamp!, keyframe: containsIdr(this.nalus) };
    this.nalus = [];
    this.bytes = 0;
    return au;
  }

  private reset(): void {
    this.nalus = [];
    this.bytes = 0;
    this.fuParts = undefined;
  }
}

/**
 * True when an RTP payload (RFC 6184, packetization-mode 1) begins a key frame: it carries
 * an SPS or an IDR slice at its start — a single NAL unit of that type, a STAP-A holding one,
 * or the first FU-A fragment of an IDR slice. Called on the first packet of an access unit,
 * this tells a relay where a decodable GOP starts without depacketizing anything.
 */
export function payloadStartsKeyframe(payload: Uint8Array): boolean {
  if (payload.length < 2) return false;
  const type = payload[0] & 0x1f;
  if (type === NalType.Sps || type === NalType.IdrSlice) return true;
  if (type === NalType.FuA) return (payload[1] & 0x80) !== 0 && (payload[1] & 0x1f) === NalType.IdrSlice;
  if (type !== NalType.StapA) return false;
  for (let off = 1; off + 2 < payload.length; ) {
    const size = (payload[off] << 8) | payload[off + 1];
    const t = payload[off + 2] & 0x1f;
    if (t === NalType.Sps || t === NalType.IdrSlice) return true;
    off += 2 + size;
  }
  return false;
}
