/**
 * Capture-time barcode: a strip of black/white cells across the top of the
 * picture carrying the wall-clock capture time, so an end-to-end test (or the
 * latency bench in a browser) can read "when was this frame captured" from the
 * decoded pixels alone and compare it with Date.now().
 *
 * Dependency-free on purpose (no Node Buffer, no imports): it is bundled with
 * esbuild into a browser page that reads frames via canvas getImageData.
 *
 * Layout (left to right, cell i spans x ∈ [i·w, (i+1)·w), w = floor(width / 80)):
 *
 *   | start 6 | capture ms, 48 bits MSB first | CRC-16 16 | stop 4 | black … |
 *
 * All {@link BARCODE_ROWS} rows of a cell have the same value, black = luma 16,
 * white = luma 235 (limited range, BT.601/709 §"nominal" levels, so RGB after
 * conversion is ≈0 and ≈255). The strip is exactly one macroblock row tall so the
 * encoder only re-codes macroblocks of that row whose cells changed; the
 * fast-changing low bits sit next to the CRC to keep that set small.
 */

/** Height of the strip in rows: one macroblock row. */
export const BARCODE_ROWS = 16;
/** The picture width is divided into this many cells. */
export const BARCODE_CELLS = 80;
/** Luma of a 0 cell (limited-range black). */
export const BARCODE_BLACK = 16;
/** Luma of a 1 cell (limited-range white). */
export const BARCODE_WHITE = 235;
/** Smallest picture width that gives cells at least one pixel wide. */
export const BARCODE_MIN_WIDTH = BARCODE_CELLS;

const START = [1, 0, 1, 1, 0, 1];
const STOP = [0, 1, 1, 0];
const DATA_BITS = 48;
const CRC_BITS = 16;
/** Cells actually carrying the code; the rest of the strip is black. */
export const BARCODE_CODE_CELLS = START.length + DATA_BITS + CRC_BITS + STOP.length;

/** Largest encodable capture time (exclusive): 2^48 ms ≈ year 10889. */
const MAX_MS = 2 ** DATA_BITS;
/** Rows sampled when reading; both must agree, so a half-drawn or torn strip is rejected. */
const SAMPLE_ROWS = [4, 11];
/** Minimum black/white contrast (8-bit) for a read to be trusted. */
const MIN_CONTRAST = 64;

/** Width in pixels of one cell for a picture `width` pixels wide. */
export function barcodeCellWidth(width: number): number {
  return Math.floor(width / BARCODE_CELLS);
}

/**
 * Draws the barcode for `captureMs` into the top {@link BARCODE_ROWS} rows of a
 * luma plane (stride = width). Fractional milliseconds are floored.
 *
 * @throws {RangeError} when the plane is smaller than 80x16 or `captureMs` is
 *   not in [0, 2^48).
 */
export function drawBarcode(plane: Uint8Array, width: number, height: number, captureMs: number): void {
  if (width < BARCODE_MIN_WIDTH || height < BARCODE_ROWS || plane.length < width * BARCODE_ROWS) {
    throw new RangeError(`barcode needs a plane of at least ${BARCODE_MIN_WIDTH}x${BARCODE_ROWS}, got ${width}x${height}`);
  }
  if (!Number.isFinite(captureMs) || captureMs < 0 || captureMs >= MAX_MS) {
    throw new RangeError(`captureMs ${captureMs} is outside [0, 2^48)`);
  }
  const bits = encodeBits(Math.floor(captureMs));
  const cw = barcodeCellWidth(width);
  // Draw the first row, then copy it down: every row of the strip is identical.
  plane.fill(BARCODE_BLACK, 0, width);
  for (let i = 0; i < bits.length; i++) {
    if (bits[i]) plane.fill(BARCODE_WHITE, i * cw, (i + 1) * cw);
  }
  const first = plane.subarray(0, width);
  for (let y = 1; y < BARCODE_ROWS; y++) plane.set(first, y * width);
}

/**
 * Reads the capture time from a decoded picture.
 *
 * @param pixels a luma plane (`channels` 1) or RGBA canvas data (`channels` 4, as
 *   from getImageData on a frame drawn at its native size); stride = width·channels
 * @returns the capture time in ms, or null when there is no valid code (markers,
 *   contrast or CRC do not check out). Never a wrong number for noise, save with
 *   the odds of passing two marker sets, a contrast test and a CRC-16 by chance.
 */
export function readBarcode(pixels: ArrayLike<number>, width: number, height: number, channels: 1 | 4): number | null {
  if (width < BARCODE_MIN_WIDTH || height < BARCODE_ROWS) return null;
  if (pixels.length < width * BARCODE_ROWS * channels) return null;
  const cw = barcodeCellWidth(width);
  const n = BARCODE_CODE_CELLS;
  const samples = new Array<number>(n * SAMPLE_ROWS.length);
  let min = 255;
  let max = 0;
  for (let r = 0; r < SAMPLE_ROWS.length; r++) {
    const rowStart = SAMPLE_ROWS[r] * width;
    for (let i = 0; i < n; i++) {
      const v = sampleLuma(pixels, (rowStart + i * cw + (cw >> 1)) * channels, channels);
      samples[r * n + i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const contrast = max - min;
  if (contrast < MIN_CONTRAST) return null;
  const mid = (min + max) / 2;
  // Samples near the midpoint are ambiguous: a real strip is bimodal, noise is not.
  const margin = contrast / 4;
  const bits = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let bit = -1;
    for (let r = 0; r < SAMPLE_ROWS.length; r++) {
      const v = samples[r * n + i];
      if (Math.abs(v - mid) < margin) return null;
      const b = v > mid ? 1 : 0;
      if (bit !== -1 && b !== bit) return null;
      bit = b;
    }
    bits[i] = bit;
  }
  for (let i = 0; i < START.length; i++) if (bits[i] !== START[i]) return null;
  const stopAt = n - STOP.length;
  for (let i = 0; i < STOP.length; i++) if (bits[stopAt + i] !== STOP[i]) return null;
  let ms = 0;
  for (let i = 0; i < DATA_BITS; i++) ms = ms * 2 + bits[START.length + i];
  let crc = 0;
  for (let i = 0; i < CRC_BITS; i++) crc = crc * 2 + bits[START.length + DATA_BITS + i];
  return crc === crc16(msBytes(ms)) ? ms : null;
}

function encodeBits(ms: number): number[] {
  const bits: number[] = [...START];
  for (let i = DATA_BITS - 1; i >= 0; i--) bits.push(Math.floor(ms / 2 ** i) % 2);
  const crc = crc16(msBytes(ms));
  for (let i = CRC_BITS - 1; i >= 0; i--) bits.push((crc >>> i) & 1);
  bits.push(...STOP);
  return bits;
}

/** The 48-bit value as 6 big-endian bytes (no BigInt, no DataView: plain arithmetic). */
function msBytes(ms: number): number[] {
  const out = new Array<number>(6);
  let v = ms;
  for (let i = 5; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xffff). */
function crc16(bytes: readonly number[]): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function sampleLuma(pixels: ArrayLike<number>, at: number, channels: 1 | 4): number {
  if (channels === 1) return pixels[at];
  // BT.601 weights in 8.8 fixed point; for the grey strip any weighting gives the same answer.
  return (77 * pixels[at] + 150 * pixels[at + 1] + 29 * pixels[at + 2]) >> 8;
}
