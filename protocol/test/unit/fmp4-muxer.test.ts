import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Fmp4Muxer, avccSample, codecString, initSegment, mediaSegment } from '../../src/fmp4/fmp4-muxer';
import { readBoxes } from '../../src/fmp4/mp4-box';
import { SyntheticH264Encoder } from '../../src/h264/encoder/synthetic-encoder';
import { type AccessUnit, joinAnnexB } from '../../src/h264/nal';
import { parseSps } from '../../src/h264/sps';
import { decodeRaw, runTool } from './ffmpeg-tool';

const dir = mkdtempSync(join(tmpdir(), 'fmp4-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `count` frames of a 15 fps camera with a 1 s GOP, stamped on the 90 kHz clock from `ts0`. */
function clip(count: number, ts0 = 0): { enc: SyntheticH264Encoder; units: AccessUnit[] } {
  const enc = new SyntheticH264Encoder({ width: 320, height: 180, fps: 15, gopSeconds: 1, name: 'FMP4' });
  const units: AccessUnit[] = [];
  for (let i = 0; i < count; i++) {
    const f = enc.encode(1_718_000_000_000 + i * 66);
    units.push({ nalus: f.nalus, keyframe: f.keyframe, timestamp: (ts0 + i * 6000) >>> 0 });
  }
  return { enc, units };
}

function muxAll(units: readonly AccessUnit[]): { file: Buffer; inits: number; codec: string | undefined } {
  const m = new Fmp4Muxer();
  const parts: Buffer[] = [];
  let inits = 0;
  let codec: string | undefined;
  for (const au of units) {
    const out = m.push(au);
    if (!out) continue;
    if (out.init) {
      inits++;
      codec = out.codec;
      parts.push(out.init);
    }
    parts.push(out.segment);
  }
  return { file: Buffer.concat(parts), inits, codec };
}

async function probe(path: string): Promise<Record<string, string>> {
  const r = await runTool('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,codec_tag_string,width,height,nb_read_frames', '-of', 'default=noprint_wrappers=1', path]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return Object.fromEntries(
    r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
}

describe('fMP4 muxer', () => {
  it('writes an init segment ffprobe reads as avc1 H.264 of the SPS size, and media segments it counts frame by frame', async () => {
    const { units } = clip(45);
    const { file, inits, codec } = muxAll(units);
    expect(inits).toBe(1);
    expect(codec).toBe('avc1.42e00c');
    const path = join(dir, 'clip.mp4');
    writeFileSync(path, file);
    const info = await probe(path);
    expect(info).toMatchObject({ codec_name: 'h264', codec_tag_string: 'avc1', width: '320', height: '180', nb_read_frames: '45' });
  });

  it('carries the pictures bit-exactly: ffmpeg decodes the fMP4 to the same pixels as the Annex B stream', async () => {
    const { units } = clip(20);
    const path = join(dir, 'exact.mp4');
    writeFileSync(path, muxAll(units).file);
    const fromMp4 = await runTool('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
    expect(fromMp4.stderr).toBe('');
    const fromAnnexB = await decodeRaw(joinAnnexB(units.flatMap((u) => u.nalus)), 'yuv420p');
    expect(fromMp4.stdout.length).toBe(320 * 180 * 1.5 * 20);
    expect(fromMp4.stdout.equals(fromAnnexB.stdout)).toBe(true);
  });

  it('keeps decode times on the RTP clock across a 32-bit timestamp wrap', async () => {
    const { units } = clip(30, 0xffffffff - 6000 * 10);
    const m = new Fmp4Muxer();
    const times: bigint[] = [];
    for (const au of units) {
      const out = m.push(au);
      const moof = readBoxes(out!.segment)[0];
      const traf = readBoxes(moof.payload).find((b) => b.type === 'traf')!;
      const tfdt = readBoxes(traf.payload).find((b) => b.type === 'tfdt')!;
      times.push(tfdt.payload.readBigUInt64BE(4));
    }
    expect(times).toEqual(units.map((_, i) => BigInt(i * 6000)));
    const path = join(dir, 'wrap.mp4');
    writeFileSync(path, muxAll(units).file);
    expect((await probe(path)).nb_read_frames).toBe('30');
  });

  it('drops access units until the first key frame with parameter sets, then starts with an init segment', () => {
    const { units } = clip(20);
    const m = new Fmp4Muxer();
    // Start mid-GOP: frames 1..14 are P frames of the first GOP, 15 is the next IDR.
    const outs = units.slice(1).map((u) => m.push(u));
    expect(outs.slice(0, 14).every((o) => o === undefined)).toBe(true);
    expect(outs[14]?.init).toBeDefined();
    expect(outs.slice(15).every((o) => o !== undefined && o.init === undefined)).toBe(true);
  });

  it('sends a new init segment when the camera changes its SPS (another resolution)', () => {
    const a = clip(2).units;
    const enc = new SyntheticH264Encoder({ width: 640, height: 360, fps: 15, gopSeconds: 1, name: 'B' });
    const f = enc.encode(1_718_000_000_000);
    const m = new Fmp4Muxer();
    expect(m.push(a[0])?.init).toBeDefined();
    expect(m.push(a[1])?.init).toBeUndefined();
    const out = m.push({ nalus: f.nalus, keyframe: true, timestamp: 12_000 });
    expect(out?.init).toBeDefined();
    const moov = readBoxes(out!.init!).find((b) => b.type === 'moov')!;
    expect(moov.payload.includes(Buffer.from([0x02, 0x80, 0x00, 0x00, 0x01, 0x68]))).toBe(true); // tkhd width 640.0, height 360.0
  });

  it('lays out moof and mdat so the trun data offset points at the first sample', () => {
    const sample = avccSample([Buffer.from([0x65, 1, 2, 3]), Buffer.from([0x67, 9]), Buffer.from([0x09, 0x10])]);
    // SPS and AUD are left out: only the 4-byte length and the slice remain.
    expect(sample).toEqual(Buffer.from([0, 0, 0, 4, 0x65, 1, 2, 3]));
    const seg = mediaSegment(7, 123n, [{ data: sample, duration: 3000, keyframe: true }]);
    const [moof, mdat] = readBoxes(seg);
    expect([moof.type, mdat.type]).toEqual(['moof', 'mdat']);
    const traf = readBoxes(moof.payload).find((b) => b.type === 'traf')!;
    const trun = readBoxes(traf.payload).find((b) => b.type === 'trun')!;
    const dataOffset = trun.payload.readUInt32BE(8);
    expect(seg.subarray(dataOffset, dataOffset + sample.length)).toEqual(sample);
    expect(readBoxes(moof.payload)[0].payload.readUInt32BE(4)).toBe(7);
  });

  it('names the codec as MSE expects it, from the SPS profile and level', () => {
    const { enc } = clip(1);
    expect(codecString(parseSps(enc.sps))).toBe(`avc1.${enc.profileLevelId}`);
    expect(() => initSegment({ sps: Buffer.from([0x67, 1]), pps: enc.pps })).toThrow(/SPS/);
  });
});
