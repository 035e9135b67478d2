/**
 * RBSP bit writer for H.264 syntax elements (ITU-T H.264 §7.2, §9.1) and the
 * emulation prevention step that turns an RBSP into a NAL unit payload (§7.4.1).
 */

/** Writes bits MSB-first into a growing buffer. */
export class BitWriter {
  private buf: Uint8Array;
  /** Bytes completed in {@link buf}. */
  private len = 0;
  /** Bits pending in the current byte (MSB-aligned in {@link acc}). */
  private accBits = 0;
  private acc = 0;

  /** @param capacity initial buffer size in bytes (grows as needed); default 256. */
  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this.len * 8 + this.accBits;
  }

  /** True when the next bit starts a new byte. */
  get byteAligned(): boolean {
    return this.accBits === 0;
  }

  /** Unsigned `u(n)`: the low `n` bits of `value`, 0 ≤ n ≤ 32, 0 ≤ value < 2^n. */
  u(n: number, value: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`u(n): n must be 0..32, got ${n}`);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** n) {
      throw new RangeError(`u(${n}): value ${value} out of range`);
    }
    for (let i = n - 1; i >= 0; i--) {
      // >>> treats value as uint32, so i = 31 works for values ≥ 2^31.
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.accBits === 8) this.flushByte();
    }
    return this;
  }

  /** One-bit flag, `u(1)`. */
  flag(value: boolean): this {
    return this.u(1, value ? 1 : 0);
  }

  /** Unsigned Exp-Golomb `ue(v)` (§9.1), 0 ≤ value ≤ 2^32 − 2. */
  ue(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xfffffffe) {
      throw new RangeError(`ue(v): value ${value} out of range`);
    }
    const x = value + 1;
    const bits = Math.floor(Math.log2(x)) + 1;
    this.u(bits - 1, 0);
    return this.u(bits, x);
  }

  /** Signed Exp-Golomb `se(v)` (§9.1.1): k > 0 → 2k − 1, k ≤ 0 → −2k. */
  se(value: number): this {
    if (!Number.isInteger(value) || value > 0x7fffffff || value < -0x7fffffff) {
      throw new RangeError(`se(v): value ${value} out of range`);
    }
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Zero bits up to the next byte boundary (e.g. `pcm_alignment_zero_bit`, §7.3.5). */
  alignZero(): this {
    while (this.accBits !== 0) this.u(1, 0);
    return this;
  }

  /** `rbsp_trailing_bits()` (§7.3.2.11): a stop bit 1, then zeros to the byte boundary. */
  trailingBits(): this {
    this.u(1, 1);
    return this.alignZero();
  }

  /**
   * Appends whole bytes. Fast path when byte-aligned (the case for I_PCM samples,
   * which follow `pcm_alignment_zero_bit`); otherwise written bit by bit.
   */
  bytes(src: Uint8Array): this {
    if (this.accBits !== 0) {
      for (let i = 0; i < src.length; i++) this.u(8, src[i]);
      return this;
    }
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
    return this;
  }

  /**
   * Appends `src[start, start + n)` when byte-aligned (I_PCM samples), without making a view
   * of it: the encoder copies thousands of 8- and 16-byte rows per frame.
   */
  bytesAt(src: Uint8Array, start: number, n: number): this {
    if (this.accBits !== 0) return this.bytes(src.subarray(start, start + n));
    this.ensure(n);
    const buf = this.buf;
    let o = this.len;
    for (let i = start; i < start + n; i++) buf[o++] = src[i];
    this.len = o;
    return this;
  }

  /** The RBSP written so far. Throws unless byte-aligned (call {@link trailingBits} first). */
  toRbsp(): Uint8Array {
    if (this.accBits !== 0) throw new Error('BitWriter.toRbsp(): not byte-aligned');
    return this.buf.subarray(0, this.len);
  }

  private flushByte(): void {
    this.ensure(1);
    this.buf[this.len++] = this.acc & 0xff;
    this.acc = 0;
    this.accBits = 0;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/**
 * Builds a NAL unit from its one-byte header and RBSP, inserting
 * `emulation_prevention_three_byte` (§7.4.1) wherever two zero bytes are
 * followed by a byte ≤ 0x03, so no start code prefix can appear inside it.
 * A final 0x03 is appended if the RBSP ends in 0x0000 (§7.4.1, cabac_zero_word case).
 * A valid RBSP never ends in a single 0x00 (it ends with the stop bit).
 */
export function rbspToNal(header: number, rbsp: Uint8Array): Uint8Array {
  const n = rbsp.length;
  // First pass counts escapes so the output is allocated once, at its exact size.
  let extra = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const b = rbsp[i];
    if (zeros >= 2 && b <= 3) {
      extra++;
      zeros = 0;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  // An RBSP only ends in zero bytes with a trailing cabac_zero_word (0x0000).
  const trailingEscape = zeros >= 2 ? 1 : 0;
  const out = new Uint8Array(1 + n + extra + trailingEscape);
  out[0] = header;
  if (extra === 0) {
    out.set(rbsp, 1);
  } else {
    let o = 1;
    zeros = 0;
    for (let i = 0; i < n; i++) {
      const b = rbsp[i];
      if (zeros >= 2 && b <= 3) {
        out[o++] = 3;
        zeros = 0;
      }
      out[o++] = b;
      zeros = b === 0 ? zeros + 1 : 0;
    }
  }
  if (trailingEscape) out[out.length - 1] = 3;
  return out;
}
