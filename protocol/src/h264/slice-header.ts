import { BitReader, H264ParseError } from './bit-reader';

/** `slice_type` values (ITU-T H.264 Table 7-6); 5–9 mean the same as 0–4 for every slice of the picture. */
export type SliceKind = 'P' | 'B' | 'I' | 'SP' | 'SI';

const KINDS: readonly SliceKind[] = ['P', 'B', 'I', 'SP', 'SI'];

/**
 * The kind of a coded slice (NAL types 1 and 5), from the start of its header (§7.3.3:
 * `first_mb_in_slice`, `slice_type`). Undefined for other NAL types or a header too short or
 * malformed to read; never throws.
 */
export function sliceKind(nal: Uint8Array): SliceKind | undefined {
  const type = nal[0] & 0x1f;
  if ((type !== 1 && type !== 5) || nal.length < 2) return undefined;
  try {
    // The first two fields fit in a few bytes; unescaping more would cost a copy of the whole slice.
    const r = BitReader.fromNal(nal.subarray(0, Math.min(nal.length, 16)));
    r.skip(8);
    r.ue(); // first_mb_in_slice
    const sliceType = r.ue();
    return sliceType <= 9 ? KINDS[sliceType % 5] : undefined;
  } catch (err) {
    if (err instanceof H264ParseError) return undefined;
    throw err;
  }
}
