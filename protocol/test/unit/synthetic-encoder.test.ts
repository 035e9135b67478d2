import { describe, expect, it } from 'vitest';
import { readBarcode } from '../../src/h264/encoder/barcode';
import { SyntheticH264Encoder, type EncodedFrame } from '../../src/h264/encoder/synthetic-encoder';
import { NalType, joinAnnexB, nalType } from '../../src/h264/nal';
import { decodeRaw, probeH264 } from './ffmpeg-tool';

interface Clip {
  annexB: Buffer;
  frames: EncodedFrame[];
  captureMs: number[];
  /** What the encoder rendered for each frame, I420 at the displayed size. */
  pictures: Uint8Array[];
}

/** Encodes `count` frames with irregular capture times, as a real capture loop produces them. */
function encodeClip(enc: SyntheticH264Encoder, count: number, start = 1_718_000_000_000): Clip {
  const frames: EncodedFrame[] = [];
  const captureMs: number[] = [];
  const pictures: Uint8Array[] = [];
  let t = start;
  for (let i = 0; i < count; i++) {
    t += Math.round(1000 / enc.fps) + ((i * 7) % 5) - 2;
    captureMs.push(t);
    frames.push(enc.encode(t));
    pictures.push(enc.lastFrameI420());
  }
  return { annexB: joinAnnexB(frames.flatMap((f) => f.nalus)), frames, captureMs, pictures };
}

/** Decodes with ffmpeg, asserting a clean decode, and returns one buffer per picture. */
async function decode(annexB: Buffer, width: number, height: number, pixFmt: 'yuv420p' | 'gray' = 'yuv420p'): Promise<Buffer[]> {
  const r = await decodeRaw(annexB, pixFmt);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const size = pixFmt === 'gray' ? width * height : width * height * 1.5;
  expect(r.stdout.length % size).toBe(0);
  const frames: Buffer[] = [];
  for (let at = 0; at < r.stdout.length; at += size) frames.push(r.stdout.subarray(at, at + size));
  return frames;
}

/** Decoded pictures must equal the rendered ones sample for sample (I_PCM and P_Skip are lossless). */
function expectBitExact(decoded: readonly Buffer[], clip: Clip, width: number): void {
  expect(decoded).toHaveLength(clip.pictures.length);
  decoded.forEach((frame, i) => {
    const want = clip.pictures[i];
    if (frame.equals(want)) return;
    const at = frame.findIndex((v, k) => v !== want[k]);
    throw new Error(`frame ${i} differs first at byte ${at} (row ${Math.floor(at / width)}): ${frame[at]} != ${want[at]}`);
  });
}

/** Capture times read from the luma plane of each decoded I420 picture. */
function barcodes(decoded: readonly Buffer[], width: number, height: number): (number | null)[] {
  return decoded.map((f) => readBarcode(f.subarray(0, width * height), width, height, 1));
}

function nalTypes(f: EncodedFrame): number[] {
  return f.nalus.map((n) => nalType(n));
}

describe('SyntheticH264Encoder decoded by ffmpeg', () => {
  it('640x360 @15 fps, GOP 1 s: every frame decodes bit-exactly with its capture time in the barcode', async () => {
    const enc = new SyntheticH264Encoder({ width: 640, height: 360, fps: 15, gopSeconds: 1, name: 'Gym Camera 2' });
    const clip = encodeClip(enc, 40);

    const keyframes = clip.frames.flatMap((f, i) => (f.keyframe ? [i] : []));
    expect(keyframes).toEqual([0, 15, 30]);
    for (const f of clip.frames) {
      expect(nalTypes(f)).toEqual(f.keyframe ? [NalType.Sps, NalType.Pps, NalType.IdrSlice] : [NalType.NonIdrSlice]);
      // nal_ref_idc ≠ 0: every picture is a reference for the next P frame.
      expect(f.nalus.at(-1)![0] & 0x60).not.toBe(0);
      // I_PCM costs 384 bytes per macroblock; only the barcode, clock and block may change.
      if (!f.keyframe) expect(f.nalus[0].length).toBeLessThan(12_000);
    }

    const decoded = await decode(clip.annexB, 640, 360);
    expect(decoded).toHaveLength(40);
    expectBitExact(decoded, clip, 640);
    expect(barcodes(decoded, 640, 360)).toEqual(clip.captureMs);
    // Something below the barcode (clock, moving block) changes in every frame.
    for (let i = 1; i < decoded.length; i++) {
      expect(decoded[i].subarray(640 * 16).equals(decoded[i - 1].subarray(640 * 16)), `frame ${i}`).toBe(false);
    }
    // Converted to full-range grey (as a canvas shows it: black 0, white 255) it still reads.
    const gray = await decode(clip.annexB, 640, 360, 'gray');
    expect(gray.map((f) => readBarcode(f, 640, 360, 1))).toEqual(clip.captureMs);

    expect(await probeH264(clip.annexB)).toMatchObject({
      codec_name: 'h264',
      profile: 'Constrained Baseline',
      width: '640',
      height: '360',
    });
  });

  it.each([
    [320, 240],
    [200, 120], // width not a multiple of 16: cropped on the right
    [1920, 1080],
  ])('%ix%i decodes at its exact size with every capture time readable', async (width, height) => {
    const enc = new SyntheticH264Encoder({ width, height, fps: 25, gopSeconds: 0.2, name: `cam ${width}` });
    const clip = encodeClip(enc, 12);
    expect(clip.frames.filter((f) => f.keyframe)).toHaveLength(3);
    const decoded = await decode(clip.annexB, width, height);
    expect(decoded).toHaveLength(12);
    expectBitExact(decoded, clip, width);
    expect(barcodes(decoded, width, height)).toEqual(clip.captureMs);
    expect(await probeH264(clip.annexB)).toMatchObject({ width: String(width), height: String(height) });
  });

  it('requestKeyframe() makes the next frame an IDR that a new viewer can start decoding from', async () => {
    const enc = new SyntheticH264Encoder({ width: 320, height: 240, fps: 15, gopSeconds: 10, name: 'sync point' });
    const before = encodeClip(enc, 5);
    expect(before.frames.map((f) => f.keyframe)).toEqual([true, false, false, false, false]);
    enc.requestKeyframe();
    const after = encodeClip(enc, 4, before.captureMs.at(-1));
    expect(after.frames.map((f) => f.keyframe)).toEqual([true, false, false, false]);
    expect(nalTypes(after.frames[0])).toEqual([NalType.Sps, NalType.Pps, NalType.IdrSlice]);
    // Two IDRs back to back must carry different idr_pic_id (§7.4.3).
    enc.requestKeyframe();
    const again = encodeClip(enc, 2, after.captureMs.at(-1));
    expect(again.frames.map((f) => f.keyframe)).toEqual([true, false]);
    enc.requestKeyframe();
    const third = encodeClip(enc, 1, again.captureMs.at(-1));

    const whole = Buffer.concat([before.annexB, after.annexB, again.annexB, third.annexB]);
    const all = await decode(whole, 320, 240);
    expectBitExact(all, { ...before, pictures: [...before.pictures, ...after.pictures, ...again.pictures, ...third.pictures] }, 320);
    expect(barcodes(all, 320, 240)).toEqual([
      ...before.captureMs,
      ...after.captureMs,
      ...again.captureMs,
      ...third.captureMs,
    ]);
    // Joining at the requested IDR, without anything before it.
    const joined = await decode(after.annexB, 320, 240);
    expectBitExact(joined, after, 320);
    expect(barcodes(joined, 320, 240)).toEqual(after.captureMs);
  });

  it('setGop() changes the IDR interval from the next frame on', () => {
    const enc = new SyntheticH264Encoder({ width: 320, height: 240, fps: 10, gopSeconds: 1, name: 'gop' });
    encodeClip(enc, 3);
    enc.setGop(0.5);
    const clip = encodeClip(enc, 8);
    expect(clip.frames.map((f) => f.keyframe)).toEqual([false, false, true, false, false, false, false, true]);
  });

  it('rejects sizes, rates and time zones it cannot encode', () => {
    const ok = { width: 640, height: 360, fps: 15, gopSeconds: 1, name: 'x' };
    expect(() => new SyntheticH264Encoder({ ...ok, width: 641 })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, width: 64 })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, height: 0 })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, fps: 0 })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, gopSeconds: -1 })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, width: 8192, height: 4320, fps: 60 })).toThrow(/level/);
    expect(() => new SyntheticH264Encoder({ ...ok, timeZone: 'Mars/Olympus_Mons' })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, bitrateKbps: -1 })).toThrow(RangeError);
    expect(() => new SyntheticH264Encoder({ ...ok, bitrateKbps: Number.NaN })).toThrow(RangeError);
    const prague = new SyntheticH264Encoder({ ...ok, timeZone: 'Europe/Prague' });
    expect(prague.encode(0).keyframe).toBe(true);
    expect(() => prague.encode(Number.NaN)).toThrow(RangeError);
    expect(() => prague.encode(-1)).toThrow(RangeError);
    expect(prague.frames).toBe(1);
  });
});

describe('SyntheticH264Encoder with a bitrate', () => {
  it('reaches the asked average bitrate with a noise band, every frame still bit-exact when ffmpeg decodes it', async () => {
    const enc = new SyntheticH264Encoder({ width: 640, height: 360, fps: 15, gopSeconds: 1, name: 'Busy', bitrateKbps: 800 });
    const clip = encodeClip(enc, 60);
    const bytes = clip.frames.slice(15).reduce((n, f) => n + f.nalus.reduce((m, b) => m + b.length, 0), 0);
    const kbps = (bytes * 8) / (45 / 15) / 1000;
    expect(kbps).toBeGreaterThan(700);
    expect(kbps).toBeLessThan(900);
    // Key frames stay a few times a P frame, as a real camera's do.
    const idr = clip.frames[15].nalus.reduce((m, b) => m + b.length, 0);
    const p = clip.frames[16].nalus.reduce((m, b) => m + b.length, 0);
    expect(idr / p).toBeLessThan(12);
    const decoded = await decode(clip.annexB, 640, 360);
    expectBitExact(decoded, clip, 640);
    expect(barcodes(decoded, 640, 360)).toEqual(clip.captureMs);
  });

  it('spends about the bitrate asked for at 720p15 with a 4 s GOP as the benches run it (a busy scene), and nothing extra without one', () => {
    const spend = (bitrateKbps: number | undefined): number => {
      const enc = new SyntheticH264Encoder({ width: 1280, height: 720, fps: 15, gopSeconds: 4, name: 'busy', ...(bitrateKbps ? { bitrateKbps } : {}) });
      let bytes = 0;
      const t0 = Date.UTC(2026, 0, 9);
      for (let i = 0; i < 15 * 12; i++) {
        const f = enc.encode(t0 + (i * 1000) / 15);
        if (i >= 15 * 4) for (const n of f.nalus) bytes += n.length; // after it settled
      }
      return (bytes * 8) / 8 / 1000; // kbit/s over the last 8 s
    };
    const still = spend(undefined);
    const busy = spend(2500);
    expect(still).toBeLessThan(1500);
    expect(busy).toBeGreaterThan(2500 * 0.85);
    expect(busy).toBeLessThan(2500 * 1.15);
  });
});
