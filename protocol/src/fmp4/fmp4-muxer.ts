/**
 * Fragmented MP4 (ISO/IEC 14496-12 §8.8, with the `avc1` sample entry of ISO/IEC 14496-15
 * §5.4) for one H.264 video track, as Media Source Extensions take it: an init segment
 * (`ftyp` + `moov`), then media segments (`moof` + `mdat`). No transcoding: access units are
 * rewritten from NAL units into 4-byte length-prefixed samples, nothing else.
 */
import { type AccessUnit, NalType, nalType } from '../h264/nal';
import { type SpsInfo, parseSps } from '../h264/sps';
import { UNITY_MATRIX, box, fullBox, u16, u32, u64, u8, zeros } from './mp4-box';

/** The RTP clock of H.264 (RFC 6184 §5.1), used as the track's timescale: RTP timestamps go in unchanged. */
export const H264_TIMESCALE = 90_000;

const TRACK_ID = 1;
/** `sample_flags` (§8.8.3.1): depends on no other sample (a sync sample). */
const SYNC_SAMPLE_FLAGS = 0x02000000;
/** Depends on others, `sample_is_non_sync_sample` set. */
const NON_SYNC_SAMPLE_FLAGS = 0x01010000;
/** `trun` flags: data-offset, sample-duration, sample-size, sample-flags present. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400;
/** `tfhd` flag default-base-is-moof (§8.8.7.1): data offsets count from the `moof`. */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;

/** What the init segment describes. */
export interface H264TrackConfig {
  /** SPS NAL unit (header byte included, no start code). */
  sps: Uint8Array;
  /** PPS NAL unit. */
  pps: Uint8Array;
}

/** One sample of a media segment. */
export interface Fmp4Sample {
  /** The sample's bytes: NAL units each prefixed by its 4-byte length (see {@link avccSample}). */
  data: Uint8Array;
  /** In {@link H264_TIMESCALE} units; > 0. */
  duration: number;
  keyframe: boolean;
}

/**
 * The MSE/`RFC 6381` codec string of a stream, e.g. `avc1.42e01f`, from its SPS:
 * `MediaSource.isTypeSupported(\`video/mp4; codecs="${codecString(info)}"\`)`.
 */
export function codecString(info: Pick<SpsInfo, 'profileLevelId'>): string {
  return `avc1.${info.profileLevelId}`;
}

/** `ftyp` + `moov` for one H.264 track whose samples come in fragments. Throws `H264ParseError` on a bad SPS. */
export function initSegment(config: H264TrackConfig): Buffer {
  const info = parseSps(config.sps);
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(0x200), Buffer.from('isomiso5iso6avc1mp41', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, 1000, 0), u32(0x00010000), u16(0x0100), zeros(10), UNITY_MATRIX, zeros(24), u32(TRACK_ID + 1));
  // tkhd flags: track enabled, in movie (§8.3.2).
  const tkhd = fullBox('tkhd', 0, 0x3, u32(0, 0, TRACK_ID, 0, 0), zeros(8), u16(0, 0, 0, 0), UNITY_MATRIX, u32(info.width << 16, info.height << 16));
  // Language `und` packed as three 5-bit letters (§8.4.2.3).
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, H264_TIMESCALE, 0), u16(0x55c4, 0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide', 'latin1'), zeros(12), Buffer.from('VideoHandler\0', 'latin1'));
  const vmhd = fullBox('vmhd', 0, 1, u16(0, 0, 0, 0));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), avc1SampleEntry(config, info)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', vmhd, dinf, stbl)));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(TRACK_ID, 1, 0, 0, 0)));
  return Buffer.concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

/** `avc1` visual sample entry (ISO/IEC 14496-15 §5.4.2) with its `avcC` decoder configuration. */
function avc1SampleEntry(config: H264TrackConfig, info: SpsInfo): Buffer {
  const sps = config.sps;
  const avcC = box(
    'avcC',
    // configurationVersion, profile, compatibility, level, lengthSizeMinusOne = 3 (6 bits reserved set).
    u8(1, sps[1], sps[2], sps[3], 0xff),
    u8(0xe0 | 1),
    u16(sps.length),
    sps,
    u8(1),
    u16(config.pps.length),
    config.pps,
  );
  return box(
    'avc1',
    zeros(6),
    u16(1), // data_reference_index
    zeros(16),
    u16(info.width, info.height),
    u32(0x00480000, 0x00480000, 0), // 72 dpi, reserved
    u16(1), // frame_count
    zeros(32), // compressorname
    u16(0x0018, 0xffff), // depth, pre_defined = -1
    avcC,
  );
}

/**
 * `moof` + `mdat` holding `samples` back to back, the first decoded at `baseDecodeTime`
 * (in {@link H264_TIMESCALE} units since the stream's start). `sequenceNumber` counts
 * fragments from 1.
 */
export function mediaSegment(sequenceNumber: number, baseDecodeTime: bigint, samples: readonly Fmp4Sample[]): Buffer {
  if (samples.length === 0) throw new RangeError('a media segment needs at least one sample');
  const entries = Buffer.allocUnsafe(samples.length * 12);
  let bytes = 0;
  samples.forEach((s, i) => {
    entries.writeUInt32BE(s.duration >>> 0, i * 12);
    entries.writeUInt32BE(s.data.length, i * 12 + 4);
    entries.writeUInt32BE(s.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS, i * 12 + 8);
    bytes += s.data.length;
  });
  const build = (dataOffset: number): Buffer =>
    box(
      'moof',
      fullBox('mfhd', 0, 0, u32(sequenceNumber)),
      box(
        'traf',
        fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32(TRACK_ID)),
        fullBox('tfdt', 1, 0, u64(baseDecodeTime)),
        fullBox('trun', 0, TRUN_FLAGS, u32(samples.length, dataOffset), entries),
      ),
    );
  // The data offset counts from the moof's first byte to the first sample (past the mdat header).
  const moof = build(0);
  moof.writeUInt32BE(moof.length + 8, moof.length - entries.length - 4);
  const mdatHeader = Buffer.allocUnsafe(8);
  mdatHeader.writeUInt32BE(bytes + 8, 0);
  mdatHeader.write('mdat', 4, 4, 'latin1');
  return Buffer.concat([moof, mdatHeader, ...samples.map((s) => s.data)]);
}

/**
 * An access unit's NAL units as an `avc1` sample: each prefixed by its 4-byte length.
 * Parameter sets and access unit delimiters are left out (they live in `avcC`; a new SPS
 * means a new init segment, see {@link Fmp4Muxer}).
 */
export function avccSample(nalus: readonly Uint8Array[]): Buffer {
  const kept = nalus.filter((n) => {
    const t = nalType(n);
    return t !== NalType.Sps && t !== NalType.Pps && t !== NalType.Aud;
  });
  let size = 0;
  for (const n of kept) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const n of kept) {
    out.writeUInt32BE(n.length, at);
    out.set(n, at + 4);
    at += 4 + n.length;
  }
  return out;
}

/** What {@link Fmp4Muxer.push} produces for one access unit. */
export interface Fmp4Output {
  /** A new init segment, to append before `segment` (the first key frame, or the SPS/PPS changed). */
  init?: Buffer;
  /** The MSE codec string of `init`. */
  codec?: string;
  /** The access unit as one media segment. */
  segment: Buffer;
}

export interface Fmp4MuxerOptions {
  /** Duration given to a sample before the next one shows the real one. Default 3000 (30 fps at 90 kHz). */
  defaultDuration?: number;
}

/**
 * A live H.264 stream as fMP4, one media segment per access unit so that nothing waits for
 * the next frame. Units before the first key frame with SPS and PPS are dropped (nothing could
 * decode them). Decode times follow the RTP timestamps (32-bit wrap handled), starting at 0; a
 * sample's duration is the gap to the previous unit — a live muxer cannot know the next one,
 * and the decode time of each fragment (`tfdt`) keeps the timeline exact anyway.
 *
 * Limits: no B-frames (composition offsets are 0, as for the cameras and the simulator this
 * relays: Baseline/Main without reordering); one SPS and one PPS.
 */
export class Fmp4Muxer {
  private config: { sps: Buffer; pps: Buffer } | undefined;
  private lastTimestamp: number | undefined;
  private decodeTime = 0n;
  private duration: number;
  private sequence = 0;

  constructor(opts: Fmp4MuxerOptions = {}) {
    this.duration = opts.defaultDuration ?? 3000;
  }

  /** True once the first key frame has gone out (the consumer can decode). */
  get started(): boolean {
    return this.config !== undefined;
  }

  /** The fMP4 for one access unit, or undefined while waiting for the first key frame. Throws `H264ParseError` on a bad SPS. */
  push(au: AccessUnit): Fmp4Output | undefined {
    let init: Buffer | undefined;
    let codec: string | undefined;
    const sps = au.nalus.find((n) => nalType(n) === NalType.Sps);
    const pps = au.nalus.find((n) => nalType(n) === NalType.Pps);
    if (sps && pps && (!this.config || !this.config.sps.equals(sps) || !this.config.pps.equals(pps))) {
      init = initSegment({ sps, pps });
      codec = codecString(parseSps(sps));
      this.config = { sps: Buffer.from(sps), pps: Buffer.from(pps) };
    }
    if (!this.config) return undefined;
    if (this.lastTimestamp !== undefined) {
      // Unsigned 32-bit difference; a step back (reordered or restarted source) counts as one default frame.
      const delta = (au.timestamp - this.lastTimestamp) >>> 0;
      if (delta > 0 && delta < 0x80000000) this.duration = delta;
      this.decodeTime += BigInt(delta > 0 && delta < 0x80000000 ? delta : this.duration);
    }
    this.lastTimestamp = au.timestamp;
    const sample: Fmp4Sample = { data: avccSample(au.nalus), duration: this.duration, keyframe: au.keyframe };
    const segment = mediaSegment(++this.sequence, this.decodeTime, [sample]);
    return init ? { init, codec, segment } : { segment };
  }
}
