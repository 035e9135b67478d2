import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BARCODE_BLACK,
  BARCODE_ROWS,
  BARCODE_WHITE,
  barcodeCellWidth,
  drawBarcode,
  readBarcode,
} from '../../src/h264/encoder/barcode';

const MAX_MS = 2 ** 48 - 1;

/** Limited-range grey luma → full-range RGBA, as a browser renders a decoded frame into a canvas. */
function toRgba(luma: Uint8Array): Uint8ClampedArray {
  const out = new Uint8ClampedArray(luma.length * 4);
  for (let i = 0; i < luma.length; i++) {
    const v = Math.round(((luma[i] - 16) * 255) / 219);
    out[i * 4] = v;
    out[i * 4 + 1] = v;
    out[i * 4 + 2] = v;
    out[i * 4 + 3] = 255;
  }
  return out;
}

function picture(width: number, height: number, fill: number): Uint8Array {
  return new Uint8Array(width * height).fill(fill);
}

describe('capture-time barcode', () => {
  it('reads back the exact capture time from luma and from RGBA, for any width 176..1920', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_MS }),
        fc.integer({ min: 176, max: 1920 }),
        fc.integer({ min: 16, max: 40 }),
        fc.integer({ min: 0, max: 255 }),
        (ms, width, height, background) => {
          const plane = picture(width, height, background);
          drawBarcode(plane, width, height, ms);
          expect(readBarcode(plane, width, height, 1)).toBe(ms);
          expect(readBarcode(toRgba(plane), width, height, 4)).toBe(ms);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a Date.now() value at 640 px, where cells are 8 px of luma 16 / 235', () => {
    const now = Date.now();
    const plane = picture(640, 360, 48);
    drawBarcode(plane, 640, 360, now);
    expect(barcodeCellWidth(640)).toBe(8);
    expect(new Set(plane.subarray(0, 640 * BARCODE_ROWS))).toEqual(new Set([BARCODE_BLACK, BARCODE_WHITE]));
    expect(plane[640 * BARCODE_ROWS]).toBe(48); // nothing drawn below the strip
    expect(readBarcode(plane, 640, 360, 1)).toBe(now);
  });

  it('does not depend on exact levels: a darker, compressed range still reads', () => {
    const plane = picture(320, 240, 128);
    drawBarcode(plane, 320, 240, 1_700_000_000_000);
    for (let i = 0; i < plane.length; i++) plane[i] = 40 + ((plane[i] * 3) >> 2); // 52 / 216
    expect(readBarcode(plane, 320, 240, 1)).toBe(1_700_000_000_000);
  });

  it('returns null for random noise, never a wrong number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 176, max: 1280 }), fc.nat(), (width, seed) => {
        let s = seed | 1;
        const rgba = new Uint8ClampedArray(width * BARCODE_ROWS * 4);
        for (let i = 0; i < rgba.length; i++) {
          s = (s * 1103515245 + 12345) >>> 0;
          rgba[i] = s >>> 24;
        }
        expect(readBarcode(rgba, width, BARCODE_ROWS, 4)).toBeNull();
        expect(readBarcode(rgba.subarray(0, width * BARCODE_ROWS), width, BARCODE_ROWS, 1)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('returns null for random black/white cells (markers and CRC-16 reject them)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }), (cells) => {
        const width = 640;
        const plane = new Uint8Array(width * BARCODE_ROWS);
        for (let y = 0; y < BARCODE_ROWS; y++) {
          for (let x = 0; x < width; x++) plane[y * width + x] = cells[x >> 3] ? BARCODE_WHITE : BARCODE_BLACK;
        }
        expect(readBarcode(plane, width, BARCODE_ROWS, 1)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it('returns null when any single cell is flipped', () => {
    const width = 400;
    const cw = barcodeCellWidth(width);
    const clean = picture(width, BARCODE_ROWS, 0);
    drawBarcode(clean, width, BARCODE_ROWS, 1_712_345_678_901);
    for (let cell = 0; cell < 74; cell++) {
      const plane = clean.slice();
      for (let y = 0; y < BARCODE_ROWS; y++) {
        for (let x = cell * cw; x < (cell + 1) * cw; x++) {
          const at = y * width + x;
          plane[at] = plane[at] === BARCODE_WHITE ? BARCODE_BLACK : BARCODE_WHITE;
        }
      }
      expect(readBarcode(plane, width, BARCODE_ROWS, 1), `cell ${cell}`).toBeNull();
    }
  });

  it('returns null for a flat picture, a too-small picture or a short pixel array', () => {
    expect(readBarcode(picture(640, 16, 128), 640, 16, 1)).toBeNull();
    expect(readBarcode(picture(64, 16, 128), 64, 16, 1)).toBeNull();
    const plane = picture(640, 16, 0);
    drawBarcode(plane, 640, 16, 5);
    expect(readBarcode(plane.subarray(0, 640 * 15), 640, 16, 1)).toBeNull();
  });

  it('refuses to draw what it could not read back', () => {
    expect(() => drawBarcode(picture(79, 16, 0), 79, 16, 1)).toThrow(RangeError);
    expect(() => drawBarcode(picture(640, 15, 0), 640, 15, 1)).toThrow(RangeError);
    expect(() => drawBarcode(picture(640, 16, 0), 640, 16, -1)).toThrow(RangeError);
    expect(() => drawBarcode(picture(640, 16, 0), 640, 16, 2 ** 48)).toThrow(RangeError);
    expect(() => drawBarcode(picture(640, 16, 0), 640, 16, Number.NaN)).toThrow(RangeError);
  });
});
