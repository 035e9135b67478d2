/** H.264 NAL unit helpers (ITU-T H.264 §7.3.1, Annex B). NAL units are passed without start codes. */

export const NalType = {
  NonIdrSlice: 1,
  IdrSlice: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
  StapA: 24,
  FuA: 28,
} as const;

export function nalType(nal: Uint8Array): number {
  return nal[0] & 0x1f;
}

/**
 * One coded picture: the NAL units of a frame, in decoding order, and its
 * 90 kHz RTP timestamp.
 */
export interface AccessUnit {
  nalus: Buffer[];
  /** 90 kHz clock, as carried in RTP. */
  timestamp: number;
  /** True when the unit holds an IDR slice. */
  keyframe: boolean;
}

export function containsIdr(nalus: readonly Uint8Array[]): boolean {
  return nalus.some((n) => nalType(n) === NalType.IdrSlice);
}

/** Splits an Annex B byte stream (00 00 01 / 00 00 00 01 start codes) into NAL units. */
export function splitAnnexB(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let start = -1;
  const n = stream.length;
  while (i + 2 < n) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && stream[end - 1] === 0) end--; // trailing_zero_8bits / 4-byte start code
        if (end > start) out.push(stream.subarray(start, end));
      }
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0 && start < n) out.push(stream.subarray(start));
  return out;
}

/** Joins NAL units into an Annex B byte stream with 4-byte start codes. */
export function joinAnnexB(nalus: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const nal of nalus) {
    parts.push(START_CODE, nal);
  }
  return Buffer.concat(parts);
}

const START_CODE = Buffer.from([0, 0, 0, 1]);
