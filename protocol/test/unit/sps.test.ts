import { describe, expect, it } from 'vitest';
import { SyntheticH264Encoder } from '../../src/h264/encoder/synthetic-encoder';
import { NalType, nalType, splitAnnexB } from '../../src/h264/nal';
import { H264ParseError, parseSps } from '../../src/h264/sps';
import { runTool } from './ffmpeg-tool';

/** SPS of a short libx264 clip of the ffmpeg test pattern. */
async function x264Sps(size: string, pixFmt: string, extra: readonly string[]): Promise<Buffer> {
  const r = await runTool('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-v', 'error'],
    ...['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', '0.2'],
    // testsrc is RGB; without an explicit format libx264 picks 4:4:4, which only High 4:4:4 allows.
    ...['-pix_fmt', pixFmt, '-c:v', 'libx264', ...extra, '-f', 'h264', '-'],
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const sps = splitAnnexB(r.stdout).find((n) => nalType(n) === NalType.Sps);
  if (!sps) throw new Error(`no SPS in libx264 output for ${size} ${extra.join(' ')}`);
  return sps;
}

describe('parseSps', () => {
  it.each([
    [640, 360, '42e016'],
    [320, 240, '42e00c'],
    [176, 144, '42e00a'],
    [1280, 720, '42e01f'],
    [1920, 1080, '42e028'],
  ])('parses the synthetic encoder SPS for %ix%i at 15 fps', (width, height, profileLevelId) => {
    const enc = new SyntheticH264Encoder({ width, height, fps: 15, gopSeconds: 1, name: 'sps' });
    const info = parseSps(enc.sps);
    expect(info).toEqual({ profileIdc: 66, constraintFlags: 0xe0, levelIdc: parseInt(profileLevelId.slice(4), 16), width, height, profileLevelId });
    expect(enc.profileLevelId).toBe(profileLevelId);
  });

  // Real encoder output covers what ours never emits: High profile chroma/bit-depth
  // fields, scaling lists, 4:4:4 crop units, field coding and POC type 0.
  it.each([
    ['1280x720', 'yuv420p', ['-profile:v', 'high'], 100, 1280, 720],
    ['320x240', 'yuv420p', ['-profile:v', 'baseline'], 66, 320, 240],
    ['1920x1080', 'yuv420p', ['-profile:v', 'high', '-x264-params', 'cqm=jvt'], 100, 1920, 1080],
    ['720x576', 'yuv420p', ['-profile:v', 'high', '-x264-params', 'interlaced=1'], 100, 720, 576],
    ['250x130', 'yuv444p', ['-profile:v', 'high444'], 244, 250, 130],
  ] as const)('parses a libx264 SPS: %s %s %j', async (size, pixFmt, extra, profileIdc, width, height) => {
    const sps = await x264Sps(size, pixFmt, extra);
    const info = parseSps(sps);
    expect(info).toMatchObject({ profileIdc, width, height });
    expect(info.profileLevelId).toBe(sps.subarray(1, 4).toString('hex'));
  });

  it('rejects what is not a well-formed SPS with H264ParseError', () => {
    const { sps } = new SyntheticH264Encoder({ width: 640, height: 360, fps: 15, gopSeconds: 1, name: 'x' });
    const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
    const cases: Uint8Array[] = [pps, new Uint8Array(0), new Uint8Array(2000).fill(0x67), Buffer.from([0xe7, 0x42, 0xe0, 0x1e, 0xda])];
    // Truncations before frame cropping end inside a field the parser needs (VUI is not parsed).
    for (let len = 0; len < 8; len++) cases.push(sps.subarray(0, len));
    for (const input of cases) {
      let caught: unknown;
      try {
        parseSps(input);
      } catch (e) {
        caught = e;
      }
      expect(caught, `input ${Buffer.from(input).toString('hex').slice(0, 40)}`).toBeInstanceOf(H264ParseError);
      expect((caught as H264ParseError).code).toBe('H264_PARSE');
    }
  });

  it('rejects frame cropping that removes the whole picture', () => {
    // Baseline, level 3, 1x1 MB, crop_right 8 (16 px in 4:2:0 units): width 0.
    // 0x67 42 00 1e | ue0 ue0 ue2 ue0 ue0 0 1 1 1 | crop 1 ue8 ue0 ue0 ue0 | vui 0 | stop
    const bits = '1' + '1' + '011' + '1' + '1' + '1' + '1' + '1' + '1' + '1' + '0001001' + '1' + '1' + '1' + '0' + '1';
    const body = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
    const bytes = [0x67, 0x42, 0x00, 0x1e];
    for (let i = 0; i < body.length; i += 8) bytes.push(parseInt(body.slice(i, i + 8), 2));
    expect(() => parseSps(Uint8Array.from(bytes))).toThrow(/cropping/);
  });
});
