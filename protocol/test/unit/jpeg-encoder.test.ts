import { describe, expect, it } from 'vitest';
import { SyntheticH264Encoder } from '../../src/h264/encoder/synthetic-encoder';
import { encodeJpegI420 } from '../../src/jpeg/jpeg-encoder';
import { runTool } from './ffmpeg-tool';

/** JPEG → raw planar frames through FFmpeg's own mjpeg decoder (the reference peer). */
function decodeJpeg(jpeg: Uint8Array, pixFmt: 'yuv420p' | 'yuvj420p'): ReturnType<typeof runTool> {
  return runTool(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', '-', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'],
    jpeg,
  );
}

async function probeJpeg(jpeg: Uint8Array): Promise<Record<string, string>> {
  const r = await runTool(
    'ffprobe',
    ['-v', 'error', '-f', 'image2pipe', '-i', '-', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,pix_fmt,width,height', '-of', 'default=noprint_wrappers=1'],
    jpeg,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return Object.fromEntries(
    r.stdout
      .toString()
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** PSNR in dB of one plane (8-bit peak 255) over `region` (default: whole plane). */
function planePsnr(a: Uint8Array, b: Uint8Array, offset: number, w: number, h: number, region: Region = { x0: 0, y0: 0, x1: w, y1: h }): number {
  let se = 0;
  let n = 0;
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      const d = a[offset + y * w + x] - b[offset + y * w + x];
      se += d * d;
      n++;
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}

/** PSNR of Y, Cb and Cr of two I420 frames. */
function i420Psnr(a: Uint8Array, b: Uint8Array, w: number, h: number): { y: number; cb: number; cr: number } {
  const cw = w / 2;
  const ch = h / 2;
  return {
    y: planePsnr(a, b, 0, w, h),
    cb: planePsnr(a, b, w * h, cw, ch),
    cr: planePsnr(a, b, w * h + cw * ch, cw, ch),
  };
}

/**
 * Limited-range gradients with a soft ripple: luma left→right and top→bottom, Cb along x,
 * Cr along y — every sample level of the H.264 range appears somewhere.
 */
function gradient(w: number, h: number): Uint8Array {
  const cw = w / 2;
  const ch = h / 2;
  const out = new Uint8Array(w * h + 2 * cw * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const ramp = (x / (w - 1)) * 0.7 + (y / (h - 1)) * 0.3;
      const ripple = 0.04 * Math.sin(x / 9) * Math.cos(y / 7);
      out[y * w + x] = Math.round(16 + 219 * Math.min(1, Math.max(0, ramp + ripple)));
    }
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      out[w * h + y * cw + x] = Math.round(16 + (224 * x) / Math.max(1, cw - 1));
      out[w * h + cw * ch + y * cw + x] = Math.round(240 - (224 * y) / Math.max(1, ch - 1));
    }
  }
  return out;
}

/** The simulator's own picture (name, clock, moving block, barcode) after a few frames. */
function syntheticPicture(w: number, h: number): Uint8Array {
  const enc = new SyntheticH264Encoder({ width: w, height: h, fps: 10, gopSeconds: 2, name: 'Gym 2' });
  const t0 = Date.UTC(2025, 8, 1, 8, 30, 0, 123);
  for (let i = 0; i < 3; i++) enc.encode(t0 + i * 100);
  return enc.lastFrameI420();
}

const SIZES: readonly [number, number][] = [
  [640, 360],
  [320, 180],
  [1280, 720],
  [100, 50],
];

const PICTURES = { gradient, synthetic: syntheticPicture } as const;

describe('encodeJpegI420', () => {
  for (const [w, h] of SIZES) {
    for (const [kind, draw] of Object.entries(PICTURES)) {
      it(`encodes a ${w}x${h} ${kind} picture that ffmpeg decodes cleanly with PSNR > 30 dB at quality 80`, async () => {
        const input = draw(w, h);
        const jpeg = encodeJpegI420(input, w, h);

        const probe = await probeJpeg(jpeg);
        expect(probe).toMatchObject({ codec_name: 'mjpeg', pix_fmt: 'yuvj420p', width: String(w), height: String(h) });

        // yuv420p output: ffmpeg maps the JPEG's full range back to H.264's limited
        // range, so the planes compare directly with the input.
        const r = await decodeJpeg(jpeg, 'yuv420p');
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBe(input.length);
        const psnr = i420Psnr(input, r.stdout, w, h);
        expect(psnr.y).toBeGreaterThan(30);
        expect(psnr.cb).toBeGreaterThan(30);
        expect(psnr.cr).toBeGreaterThan(30);
      });
    }
  }

  it('expands limited-range input so black decodes as 0 and white as 255 in the JFIF planes', async () => {
    const w = 64;
    const h = 32;
    const input = new Uint8Array((w * h * 3) / 2).fill(128);
    for (let y = 0; y < h; y++) input.fill(16, y * w, y * w + w / 2); // black left (Y=16)
    for (let y = 0; y < h; y++) input.fill(235, y * w + w / 2, (y + 1) * w); // white right (Y=235)
    const r = await decodeJpeg(encodeJpegI420(input, w, h), 'yuvj420p');
    expect(r.code).toBe(0);
    const at = (x: number, y: number): number => r.stdout[y * w + x];
    // Sample away from the edge, where quantisation ringing lives.
    expect(Math.abs(at(4, 16) - 0)).toBeLessThanOrEqual(2);
    expect(Math.abs(at(w - 5, 16) - 255)).toBeLessThanOrEqual(2);
    // Neutral chroma stays neutral.
    expect(Math.abs(r.stdout[w * h + 5] - 128)).toBeLessThanOrEqual(1);
  });

  it('passes full-range input through unchanged when limitedRange is false', async () => {
    const w = 32;
    const h = 16;
    const input = new Uint8Array((w * h * 3) / 2).fill(128);
    input.fill(0, 0, w * h);
    const r = await decodeJpeg(encodeJpegI420(input, w, h, { limitedRange: false }), 'yuvj420p');
    expect(r.code).toBe(0);
    expect(r.stdout[w * 8 + 8]).toBeLessThanOrEqual(1);
  });

  it('replicates the edges of a picture that is not a multiple of 16, so the last columns and rows stay accurate', async () => {
    const w = 100;
    const h = 50;
    const input = gradient(w, h);
    const r = await decodeJpeg(encodeJpegI420(input, w, h), 'yuv420p');
    expect(r.code).toBe(0);
    // The partial MCU column (x 96..99) and row (y 48..49): zero padding would ring here.
    expect(planePsnr(input, r.stdout, 0, w, h, { x0: 96, y0: 0, x1: w, y1: h })).toBeGreaterThan(30);
    expect(planePsnr(input, r.stdout, 0, w, h, { x0: 0, y0: 48, x1: w, y1: h })).toBeGreaterThan(30);
    // Chroma is 50x25: an odd number of rows, half an 8-row block at the bottom.
    const cw = w / 2;
    const ch = h / 2;
    expect(planePsnr(input, r.stdout, w * h, cw, ch, { x0: 48, y0: 0, x1: cw, y1: ch })).toBeGreaterThan(30);
    expect(planePsnr(input, r.stdout, w * h, cw, ch, { x0: 0, y0: 24, x1: cw, y1: ch })).toBeGreaterThan(30);
  });

  it('writes the Annex K tables unscaled at quality 50 and trades size for fidelity with quality', async () => {
    const w = 320;
    const h = 180;
    const input = syntheticPicture(w, h);
    const q50 = encodeJpegI420(input, w, h, { quality: 50 });
    // DQT: marker, length, Pq/Tq=0, 64 luma values in zig-zag order (T.81 Table K.1 starts 16 11 12 14 12 10).
    const dqt = Buffer.from(q50).indexOf(Buffer.from([0xff, 0xdb]));
    expect(dqt).toBeGreaterThan(0);
    expect([...q50.subarray(dqt + 4, dqt + 11)]).toEqual([0, 16, 11, 12, 14, 12, 10]);
    // Chroma table (Tq=1) after the 65 bytes of the luma table: K.2 starts 17 18 18 24 21 24.
    expect([...q50.subarray(dqt + 69, dqt + 76)]).toEqual([1, 17, 18, 18, 24, 21, 24]);

    const q30 = encodeJpegI420(input, w, h, { quality: 30 });
    const q95 = encodeJpegI420(input, w, h, { quality: 95 });
    expect(q30.length).toBeLessThan(q50.length);
    expect(q50.length).toBeLessThan(q95.length);
    const d30 = await decodeJpeg(q30, 'yuv420p');
    const d95 = await decodeJpeg(q95, 'yuv420p');
    expect(d30.stderr + d95.stderr).toBe('');
    expect(i420Psnr(input, d95.stdout, w, h).y).toBeGreaterThan(i420Psnr(input, d30.stdout, w, h).y);
  });

  it('frames the scan as a JFIF file: SOI, APP0 "JFIF", EOI', () => {
    const jpeg = encodeJpegI420(gradient(96, 64), 96, 64);
    expect([...jpeg.subarray(0, 4)]).toEqual([0xff, 0xd8, 0xff, 0xe0]);
    expect(Buffer.from(jpeg.subarray(6, 11)).toString('latin1')).toBe('JFIF\0');
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
  });

  it('rejects odd sizes, short buffers and qualities outside 1..100', () => {
    const ok = new Uint8Array((16 * 16 * 3) / 2);
    expect(() => encodeJpegI420(ok, 15, 16)).toThrow(RangeError);
    expect(() => encodeJpegI420(ok, 16, 0)).toThrow(RangeError);
    expect(() => encodeJpegI420(ok.subarray(1), 16, 16)).toThrow(/needs 384 bytes/);
    expect(() => encodeJpegI420(ok, 16, 16, { quality: 0 })).toThrow(RangeError);
    expect(() => encodeJpegI420(ok, 16, 16, { quality: 101 })).toThrow(RangeError);
    expect(encodeJpegI420(ok, 16, 16, { quality: 100 }).length).toBeGreaterThan(100);
  });
});
