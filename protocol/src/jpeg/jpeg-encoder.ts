/**
 * Baseline sequential JPEG encoder (ITU-T T.81 §4.4, Annex F.1) writing JFIF 1.01 files,
 * from the planar I420 pictures the synthetic H.264 encoder draws.
 *
 * - 4:2:0 sampling: Y is 2x2, Cb and Cr 1x1, one interleaved scan of 16x16 MCUs (§A.2.3).
 * - Quantisation: the Annex K.1 example tables scaled by a quality as libjpeg does, so
 *   `quality` means what it means to `cjpeg -quality` and ffmpeg's users.
 * - Entropy coding: the Annex K.3 "typical" Huffman tables; no optimisation pass.
 * - Pictures whose size is not a multiple of 16 are padded by replicating the last
 *   column and row (§A.2.4 leaves the padding to the encoder; replication keeps the
 *   edge blocks free of the ringing a black border would cause).
 * - Range: H.264 pictures use limited-range samples (Y 16..235, C 16..240, BT.601
 *   §2.5.3); JFIF (§"YCbCr") uses the full 0..255 range. Samples are expanded on the way
 *   in, or a decoder would show black as dark grey and white as light grey.
 */

/** Options of {@link encodeJpegI420}. */
export interface JpegEncodeOptions {
  /** 1..100, libjpeg's scale. Default 80. */
  quality?: number;
  /**
   * Whether the input is limited range (16..235 luma) and must be expanded to JFIF's
   * full range. Default true: what H.264 encoders, ours included, produce.
   */
  limitedRange?: boolean;
}

/** Largest side T.81 can describe (16-bit fields in SOF). */
const MAX_SIDE = 65_535;

/** T.81 Figure A.6: zig-zag position → natural (row-major) index. */
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57,
  50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** T.81 Table K.1, natural order. */
const STD_LUMA_QT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56,
  68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** T.81 Table K.2, natural order. */
const STD_CHROMA_QT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** A Huffman table as DHT carries it: code counts per length 1..16, then symbols. */
interface HuffSpec {
  bits: readonly number[];
  values: readonly number[];
}

/** T.81 Table K.3. */
const DC_LUMA: HuffSpec = { bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
/** T.81 Table K.4. */
const DC_CHROMA: HuffSpec = { bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
/** T.81 Table K.5. */
const AC_LUMA: HuffSpec = {
  bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  values: [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1,
    0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56,
    0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85,
    0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6,
    0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa,
  ],
};
/** T.81 Table K.6. */
const AC_CHROMA: HuffSpec = {
  bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  values: [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42,
    0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19,
    0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55,
    0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
    0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
    0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa,
  ],
};

/** Code and length per symbol (T.81 Annex C, Figures C.1–C.3). */
interface HuffCodes {
  code: Uint16Array;
  size: Uint8Array;
}

function buildCodes(spec: HuffSpec): HuffCodes {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let next = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < spec.bits[len - 1]; i++) {
      const sym = spec.values[k++];
      code[sym] = next++;
      size[sym] = len;
    }
    next <<= 1;
  }
  return { code, size };
}

const DC_LUMA_CODES = buildCodes(DC_LUMA);
const DC_CHROMA_CODES = buildCodes(DC_CHROMA);
const AC_LUMA_CODES = buildCodes(AC_LUMA);
const AC_CHROMA_CODES = buildCodes(AC_CHROMA);

/** AAN scale factors: cos(k·π/16)·√2 for k > 0, 1 for k = 0 (libjpeg jfdctflt.c). */
const AAN_SCALE = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** Quantisation of one quality: the tables as DQT writes them and the float divisors. */
interface QuantTables {
  /** zig-zag order, for DQT */
  lumaZz: Uint8Array;
  chromaZz: Uint8Array;
  /** natural order, 1/(q·AAN scale·8): multiply a raw AAN output to quantise it */
  lumaDiv: Float32Array;
  chromaDiv: Float32Array;
}

const quantCache = new Map<number, QuantTables>();

/** libjpeg's jpeg_quality_scaling() + jpeg_add_quant_table() with force_baseline. */
function quantTables(quality: number): QuantTables {
  const cached = quantCache.get(quality);
  if (cached) return cached;
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  const make = (base: readonly number[]): { zz: Uint8Array; div: Float32Array } => {
    const natural = base.map((q) => Math.min(255, Math.max(1, Math.floor((q * scale + 50) / 100))));
    const zz = new Uint8Array(64);
    for (let k = 0; k < 64; k++) zz[k] = natural[ZIGZAG[k]]!;
    const div = new Float32Array(64);
    for (let row = 0; row < 8; row++) {
      for (let col = 0; col < 8; col++) div[row * 8 + col] = 1 / (natural[row * 8 + col] * AAN_SCALE[row] * AAN_SCALE[col] * 8);
    }
    return { zz, div };
  };
  const l = make(STD_LUMA_QT);
  const c = make(STD_CHROMA_QT);
  const tables = { lumaZz: l.zz, chromaZz: c.zz, lumaDiv: l.div, chromaDiv: c.div };
  quantCache.set(quality, tables);
  return tables;
}

/** Limited → full range lookup tables (BT.601: Y' = (Y−16)·255/219, C' = (C−128)·255/224 + 128). */
const LUMA_FULL = new Uint8Array(256);
const CHROMA_FULL = new Uint8Array(256);
const IDENTITY = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  LUMA_FULL[v] = Math.min(255, Math.max(0, Math.round(((v - 16) * 255) / 219)));
  CHROMA_FULL[v] = Math.min(255, Math.max(0, Math.round(((v - 128) * 255) / 224 + 128)));
  IDENTITY[v] = v;
}

/**
 * Copies a plane into a `pw`×`ph` buffer through `lut`, replicating the last column
 * and row into the padding (T.81 §A.2.4 leaves its content to the encoder).
 */
function padPlane(
  src: Uint8Array,
  offset: number,
  w: number,
  h: number,
  pw: number,
  ph: number,
  lut: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(pw * ph);
  for (let y = 0; y < h; y++) {
    const s = offset + y * w;
    const d = y * pw;
    for (let x = 0; x < w; x++) out[d + x] = lut[src[s + x]]!;
    const last = out[d + w - 1];
    out.fill(last, d + w, d + pw);
  }
  for (let y = h; y < ph; y++) out.copyWithin(y * pw, (h - 1) * pw, h * pw);
  return out;
}

/** Growable output with T.81 §F.1.2.3 byte stuffing in the entropy-coded segment. */
class JpegWriter {
  buf: Uint8Array;
  pos = 0;
  private acc = 0;
  private nbits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  u16(v: number): void {
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  bytes(b: ArrayLike<number>): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Appends the low `n` (≤ 16) bits of `v`, MSB first; a 0xFF byte is followed by 0x00. */
  bits(v: number, n: number): void {
    this.acc = (this.acc << n) | v;
    this.nbits += n;
    while (this.nbits >= 8) {
      this.nbits -= 8;
      const b = (this.acc >>> this.nbits) & 0xff;
      this.buf[this.pos++] = b;
      if (b === 0xff) this.buf[this.pos++] = 0;
    }
    this.acc &= (1 << this.nbits) - 1;
  }

  /** Pads the last byte with 1-bits (T.81 §F.1.2.3). */
  flushBits(): void {
    if (this.nbits > 0) this.bits((1 << (8 - this.nbits)) - 1, 8 - this.nbits);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Per-encode scratch: one block of samples/coefficients and its quantised zig-zag form. */
const block = new Float32Array(64);
const quantised = new Int32Array(64);

/**
 * Forward DCT (Arai–Agui–Nakajima, as libjpeg's jfdctflt.c) of `block` in place, then
 * quantisation with `div` (which folds in the AAN output scaling) into `quantised`,
 * in zig-zag order.
 */
function fdctQuantise(div: Float32Array): void {
  const d = block;
  for (let row = 0; row < 64; row += 8) fdct8(d, row, 1);
  for (let col = 0; col < 8; col++) fdct8(d, col, 8);
  for (let k = 0; k < 64; k++) {
    const n = ZIGZAG[k];
    quantised[k] = Math.round(d[n] * div[n]);
  }
}

/** One 8-point AAN pass over `d[at]`, `d[at + step]`, … `d[at + 7·step]` (rows: step 1, columns: step 8). */
function fdct8(d: Float32Array, at: number, step: number): void {
  const i0 = at;
  const i1 = at + step;
  const i2 = at + 2 * step;
  const i3 = at + 3 * step;
  const i4 = at + 4 * step;
  const i5 = at + 5 * step;
  const i6 = at + 6 * step;
  const i7 = at + 7 * step;
  const t0 = d[i0] + d[i7];
  const t7 = d[i0] - d[i7];
  const t1 = d[i1] + d[i6];
  const t6 = d[i1] - d[i6];
  const t2 = d[i2] + d[i5];
  const t5 = d[i2] - d[i5];
  const t3 = d[i3] + d[i4];
  const t4 = d[i3] - d[i4];
  let t10 = t0 + t3;
  const t13 = t0 - t3;
  let t11 = t1 + t2;
  let t12 = t1 - t2;
  d[i0] = t10 + t11;
  d[i4] = t10 - t11;
  const z1 = (t12 + t13) * 0.707106781;
  d[i2] = t13 + z1;
  d[i6] = t13 - z1;
  t10 = t4 + t5;
  t11 = t5 + t6;
  t12 = t6 + t7;
  const z5 = (t10 - t12) * 0.382683433;
  const z2 = 0.5411961 * t10 + z5;
  const z4 = 1.306562965 * t12 + z5;
  const z3 = t11 * 0.707106781;
  const z11 = t7 + z3;
  const z13 = t7 - z3;
  d[i5] = z13 + z2;
  d[i3] = z13 - z2;
  d[i1] = z11 + z4;
  d[i7] = z11 - z4;
}

/** Loads the 8x8 block at `at` (stride `stride`) into `block`, level-shifted (T.81 §A.3.1). */
function loadBlock(plane: Uint8Array, at: number, stride: number): void {
  for (let r = 0, i = 0; r < 8; r++, at += stride) {
    for (let c = 0; c < 8; c++, i++) block[i] = plane[at + c] - 128;
  }
}

/** Huffman-codes `quantised` (T.81 §F.1.2.1 DC difference, §F.1.2.2 AC run/size); returns the DC. */
function encodeBlock(w: JpegWriter, prevDc: number, dc: HuffCodes, ac: HuffCodes): number {
  const q0 = quantised[0];
  // With 8-bit samples the DC fits 11 bits (T.81 Table F.1); clamping only guards rounding.
  const dcVal = q0 > 1023 ? 1023 : q0 < -1024 ? -1024 : q0;
  const diff = dcVal - prevDc;
  if (diff === 0) {
    w.bits(dc.code[0], dc.size[0]);
  } else {
    const a = diff < 0 ? -diff : diff;
    const nb = 32 - Math.clz32(a);
    w.bits(dc.code[nb], dc.size[nb]);
    w.bits(diff < 0 ? diff + (1 << nb) - 1 : diff, nb);
  }
  let run = 0;
  for (let k = 1; k < 64; k++) {
    let v = quantised[k];
    if (v === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      w.bits(ac.code[0xf0], ac.size[0xf0]); // ZRL
      run -= 16;
    }
    // Baseline AC magnitudes are at most 10 bits (T.81 Table F.2).
    if (v > 1023) v = 1023;
    else if (v < -1023) v = -1023;
    const a = v < 0 ? -v : v;
    const nb = 32 - Math.clz32(a);
    const sym = (run << 4) | nb;
    w.bits(ac.code[sym], ac.size[sym]);
    w.bits(v < 0 ? v + (1 << nb) - 1 : v, nb);
    run = 0;
  }
  if (run > 0) w.bits(ac.code[0], ac.size[0]); // EOB
  return dcVal;
}

function writeHuffmanTable(w: JpegWriter, tableClassAndId: number, spec: HuffSpec): void {
  w.byte(tableClassAndId);
  w.bytes(spec.bits);
  w.bytes(spec.values);
}

function writeHeaders(w: JpegWriter, width: number, height: number, q: QuantTables): void {
  w.u16(0xffd8); // SOI
  // APP0 JFIF 1.01, no units, 1:1 aspect, no thumbnail (JFIF 1.02 §"JFIF APP0 marker").
  w.u16(0xffe0);
  w.u16(16);
  w.bytes([0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0]);
  w.u16(1);
  w.u16(1);
  w.byte(0);
  w.byte(0);
  // DQT (§B.2.4.1): 8-bit tables 0 (luma) and 1 (chroma), zig-zag order.
  w.u16(0xffdb);
  w.u16(2 + 2 * 65);
  w.byte(0x00);
  w.bytes(q.lumaZz);
  w.byte(0x01);
  w.bytes(q.chromaZz);
  // SOF0 (§B.2.2): 8-bit, 3 components, Y 2x2 with table 0, Cb/Cr 1x1 with table 1.
  w.u16(0xffc0);
  w.u16(8 + 3 * 3);
  w.byte(8);
  w.u16(height);
  w.u16(width);
  w.byte(3);
  w.bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  // DHT (§B.2.4.2): DC 0/1 then AC 0/1.
  const specs: [number, HuffSpec][] = [
    [0x00, DC_LUMA],
    [0x01, DC_CHROMA],
    [0x10, AC_LUMA],
    [0x11, AC_CHROMA],
  ];
  w.u16(0xffc4);
  w.u16(2 + specs.reduce((n, [, s]) => n + 17 + s.values.length, 0));
  for (const [id, spec] of specs) writeHuffmanTable(w, id, spec);
  // SOS (§B.2.3): all three components, full spectrum, no successive approximation.
  w.u16(0xffda);
  w.u16(6 + 2 * 3);
  w.byte(3);
  w.bytes([1, 0x00, 2, 0x11, 3, 0x11]);
  w.bytes([0, 63, 0]);
}

/**
 * Encodes a planar I420 picture (Y plane, then Cb, then Cr; chroma (w/2)×(h/2))
 * as a baseline JFIF JPEG with 4:2:0 sampling.
 *
 * About 12–14 ms for 1280×720 and 3–7 ms for 640×360 on one core (see README); allocation is one padded copy of
 * the planes and the output.
 *
 * @throws {RangeError} for odd or out-of-range sizes, a too-short buffer, or a quality outside 1..100
 */
export function encodeJpegI420(i420: Uint8Array, width: number, height: number, opts: JpegEncodeOptions = {}): Uint8Array {
  const quality = opts.quality ?? 80;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`quality must be an integer in 1..100, got ${quality}`);
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 2 || v > MAX_SIDE - 1 || v % 2 !== 0) {
      throw new RangeError(`${name} must be an even integer in 2..${MAX_SIDE - 1}, got ${v}`);
    }
  }
  const cw = width / 2;
  const ch = height / 2;
  const needed = width * height + 2 * cw * ch;
  if (i420.length < needed) throw new RangeError(`I420 ${width}x${height} needs ${needed} bytes, got ${i420.length}`);

  const limited = opts.limitedRange ?? true;
  const mcuCols = Math.ceil(width / 16);
  const mcuRows = Math.ceil(height / 16);
  const pw = mcuCols * 16;
  const cpw = mcuCols * 8;
  const y = padPlane(i420, 0, width, height, pw, mcuRows * 16, limited ? LUMA_FULL : IDENTITY);
  const cb = padPlane(i420, width * height, cw, ch, cpw, mcuRows * 8, limited ? CHROMA_FULL : IDENTITY);
  const cr = padPlane(i420, width * height + cw * ch, cw, ch, cpw, mcuRows * 8, limited ? CHROMA_FULL : IDENTITY);

  const q = quantTables(quality);
  // A typical q80 picture takes ~1 bit per pixel; the writer grows if this is short.
  const w = new JpegWriter(1024 + ((width * height) >> 2));
  writeHeaders(w, width, height, q);

  // Worst case per MCU: 6 blocks × (DC 11+11 bits + 63 × (16+10) bits) × 2 for stuffing.
  const MCU_WORST_BYTES = 6 * 2 * Math.ceil((22 + 63 * 26) / 8);
  let dcY = 0;
  let dcCb = 0;
  let dcCr = 0;
  for (let my = 0; my < mcuRows; my++) {
    for (let mx = 0; mx < mcuCols; mx++) {
      w.ensure(MCU_WORST_BYTES);
      const yAt = my * 16 * pw + mx * 16;
      loadBlock(y, yAt, pw);
      fdctQuantise(q.lumaDiv);
      dcY = encodeBlock(w, dcY, DC_LUMA_CODES, AC_LUMA_CODES);
      loadBlock(y, yAt + 8, pw);
      fdctQuantise(q.lumaDiv);
      dcY = encodeBlock(w, dcY, DC_LUMA_CODES, AC_LUMA_CODES);
      loadBlock(y, yAt + 8 * pw, pw);
      fdctQuantise(q.lumaDiv);
      dcY = encodeBlock(w, dcY, DC_LUMA_CODES, AC_LUMA_CODES);
      loadBlock(y, yAt + 8 * pw + 8, pw);
      fdctQuantise(q.lumaDiv);
      dcY = encodeBlock(w, dcY, DC_LUMA_CODES, AC_LUMA_CODES);
      const cAt = my * 8 * cpw + mx * 8;
      loadBlock(cb, cAt, cpw);
      fdctQuantise(q.chromaDiv);
      dcCb = encodeBlock(w, dcCb, DC_CHROMA_CODES, AC_CHROMA_CODES);
      loadBlock(cr, cAt, cpw);
      fdctQuantise(q.chromaDiv);
      dcCr = encodeBlock(w, dcCr, DC_CHROMA_CODES, AC_CHROMA_CODES);
    }
  }
  w.ensure(8);
  w.flushBits();
  w.u16(0xffd9); // EOI
  return w.result();
}
