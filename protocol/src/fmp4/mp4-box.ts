/**
 * ISO BMFF (ISO/IEC 14496-12) box writing: a box is a 32-bit size, a four-character type and
 * its payload; a full box adds a version byte and 24 bits of flags (§4.2). Only what the
 * fMP4 muxer needs.
 */

/** A box with `payload` (byte arrays and child boxes, concatenated). */
export function box(type: string, ...payload: readonly Uint8Array[]): Buffer {
  let size = 8;
  for (const p of payload) size += p.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(size, 0);
  out.write(type, 4, 4, 'latin1');
  let at = 8;
  for (const p of payload) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A full box (§4.2): version and flags before the payload. */
export function fullBox(type: string, version: number, flags: number, ...payload: readonly Uint8Array[]): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, head, ...payload);
}

/** Big-endian unsigned integers of 8, 16, 32 bits, written one after another. */
export function u8(...values: readonly number[]): Buffer {
  return Buffer.from(values.map((v) => v & 0xff));
}

export function u16(...values: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, i * 2));
  return b;
}

export function u32(...values: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export function u64(value: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(value);
  return b;
}

export function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}

/** The unity transformation matrix of `mvhd`/`tkhd` (§8.2.2). */
export const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

/** One box found by {@link readBoxes}: its type and payload (the bytes after the 8-byte header). */
export interface ParsedBox {
  type: string;
  payload: Buffer;
}

/**
 * The boxes laid end to end in `buf` (no recursion). Stops with an error at a box whose size
 * runs past the buffer; 64-bit sizes and size 0 (to the end) are not produced by the muxer
 * and are refused. For tests and diagnostics.
 */
export function readBoxes(buf: Buffer): ParsedBox[] {
  const out: ParsedBox[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 8 > buf.length) throw new Error(`truncated box header at ${at}`);
    const size = buf.readUInt32BE(at);
    if (size < 8 || at + size > buf.length) throw new Error(`box at ${at} has a bad size ${size}`);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), payload: buf.subarray(at + 8, at + size) });
    at += size;
  }
  return out;
}
