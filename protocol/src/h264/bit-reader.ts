/**
 * RBSP bit reader for H.264 syntax elements (ITU-T H.264 §7.2, §9.1).
 *
 * Every read is bounds-checked: input comes from the network (SDP
 * `sprop-parameter-sets`, RTP payloads), so running off the end is an
 * {@link H264ParseError}, never a silent zero.
 */

/** Raised for malformed or oversized H.264 input. `code` is stable for error mapping. */
export class H264ParseError extends Error {
  readonly code = 'H264_PARSE';

  constructor(message: string) {
    super(message);
    this.name = 'H264ParseError';
  }
}

/**
 * Removes emulation prevention bytes (§7.4.1: `0x000003` → `0x0000`) from a
 * NAL unit or part of one, giving the RBSP. Returns the input unchanged (no
 * copy) when it holds no escapes.
 */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const n = nal.length;
  let first = -1;
  for (let i = 2; i < n; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = new Uint8Array(n);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      // The escape byte itself; the byte after it is data (§7.3.1 emulation_prevention_three_byte).
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}

/** Reads bits MSB-first from an RBSP (emulation prevention already removed). */
export class BitReader {
  private readonly data: Uint8Array;
  private pos = 0;
  private readonly end: number;

  /** @param rbsp RBSP bytes; use {@link BitReader.fromNal} for escaped NAL payloads. */
  constructor(rbsp: Uint8Array) {
    this.data = rbsp;
    this.end = rbsp.length * 8;
  }

  /** Reader over a NAL unit (header included) after removing emulation prevention bytes. */
  static fromNal(nal: Uint8Array): BitReader {
    return new BitReader(unescapeRbsp(nal));
  }

  /** Bit offset of the next read. */
  get bitPosition(): number {
    return this.pos;
  }

  /** Bits not yet read. */
  get bitsLeft(): number {
    return this.end - this.pos;
  }

  /** True when the next read starts on a byte boundary. */
  get byteAligned(): boolean {
    return (this.pos & 7) === 0;
  }

  /** One bit, `u(1)`. */
  bit(): number {
    if (this.pos >= this.end) throw new H264ParseError(`read past end of RBSP (${this.data.length} bytes)`);
    const p = this.pos++;
    return (this.data[p >>> 3] >>> (7 - (p & 7))) & 1;
  }

  /** Boolean flag, `u(1)`. */
  flag(): boolean {
    return this.bit() === 1;
  }

  /** Unsigned `u(n)`, 0 ≤ n ≤ 32. */
  u(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`u(n): n must be 0..32, got ${n}`);
    if (n > this.end - this.pos) {
      throw new H264ParseError(`u(${n}) past end of RBSP at bit ${this.pos} of ${this.end}`);
    }
    let v = 0;
    for (let i = 0; i < n; i++) {
      // Multiplication instead of << keeps 32-bit values unsigned.
      v = v * 2 + this.bit();
    }
    return v;
  }

  /** Skips `n` bits (bounds-checked). */
  skip(n: number): void {
    if (n < 0 || n > this.end - this.pos) throw new H264ParseError(`skip(${n}) past end of RBSP`);
    this.pos += n;
  }

  /** Unsigned Exp-Golomb `ue(v)` (§9.1). Values above 2^32 − 2 are rejected as malformed. */
  ue(): number {
    let leadingZeros = 0;
    while (this.bit() === 0) {
      leadingZeros++;
      // §9.1: codeNum is at most 2^32 − 2, i.e. 31 leading zeros; more means garbage.
      if (leadingZeros > 31) throw new H264ParseError('Exp-Golomb code longer than 32 bits');
    }
    return 2 ** leadingZeros - 1 + this.u(leadingZeros);
  }

  /** Signed Exp-Golomb `se(v)` (§9.1.1). */
  se(): number {
    const k = this.ue();
    // 0 - x rather than -x: codeNum 0 must give +0, not -0.
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2;
  }

  /** `more_rbsp_data()` (§7.2): true while anything but the stop bit and alignment zeros is left. */
  moreRbspData(): boolean {
    if (this.pos >= this.end) return false;
    let last = this.data.length - 1;
    while (last >= 0 && this.data[last] === 0) last--;
    if (last < 0) return false;
    const byte = this.data[last];
    let stopBit = last * 8 + 7;
    for (let b = byte; (b & 1) === 0; b >>>= 1) stopBit--;
    return this.pos < stopBit;
  }
}
