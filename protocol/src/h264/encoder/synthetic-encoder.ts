/**
 * A synthetic H.264 camera: renders a test picture (camera name, wall clock,
 * a moving block, a capture-time barcode) and encodes it as a Constrained
 * Baseline stream without any codec library, so the device simulator needs no
 * ffmpeg at runtime and every frame carries a machine-readable capture time.
 *
 * Coding is deliberately minimal but conforming (ITU-T H.264 Annex A.2.1.1):
 *   - one slice per picture, CAVLC, pic_order_cnt_type 2 (output order = decoding
 *     order, no B frames), one reference frame, deblocking disabled;
 *   - IDR: every macroblock intra. Flat macroblocks that a 16x16 intra prediction
 *     reproduces exactly (same value as the decoded edge of the left or top
 *     neighbour) are I_16x16 without residual, a few bits each; all others I_PCM
 *     (§7.3.5: raw samples, lossless);
 *   - P: macroblocks whose samples changed since the previous picture are coded
 *     the same way, all others P_Skip. With no coded motion every skip predicts
 *     mv (0,0) (§8.4.1.1: neighbours are intra or skipped with mv 0), so a skip is
 *     an exact copy.
 * Decoded pictures are therefore bit-exact copies of what was rendered (checked
 * against ffmpeg in the unit tests). Each I_PCM macroblock costs 384 bytes, so the
 * picture is designed to keep text and changing content to few macroblocks.
 */
import { BitWriter, rbspToNal } from '../bit-writer';
import { NalType } from '../nal';
import { BARCODE_ROWS, drawBarcode } from './barcode';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, drawText } from './font';

/** Settings of a {@link SyntheticH264Encoder}. */
export interface SyntheticEncoderOptions {
  /** Displayed width in pixels: even, ≥ 80 (the barcode needs 1-pixel cells). */
  width: number;
  /** Displayed height in pixels: even, ≥ 32. Not a multiple of 16 → coded taller and cropped in the SPS. */
  height: number;
  /** Nominal frame rate, used for the level, the VUI timing info and the GOP length. */
  fps: number;
  /** Seconds between IDR pictures (rounded to whole frames, at least 1 frame). */
  gopSeconds: number;
  /** Camera name drawn in large text (ASCII; other characters draw as boxes). */
  name: string;
  /** IANA time zone of the on-screen clock. Default `'UTC'`. The barcode is always UTC epoch ms. */
  timeZone?: string;
  /**
   * Average bitrate to aim for, kbit/s. The picture alone is small (about 1 Mbit/s at
   * 720p15); a real camera's sensor noise and motion make 2–4 Mbit/s. When set, a band of
   * textured macroblocks below the clock changes every frame, as many as it takes to reach
   * this rate on average (key frames included). Default 0: no band.
   */
  bitrateKbps?: number;
}

/** One encoded picture. */
export interface EncodedFrame {
  /** NAL units without start codes: `[SPS, PPS, IDR slice]` for keyframes, `[P slice]` otherwise. */
  nalus: Buffer[];
  /** True when the frame is an IDR picture. */
  keyframe: boolean;
}

/** Table A-1 rows: level_idc, MaxMBPS (MB/s), MaxFS (MBs). Level 1b is skipped. */
const LEVELS: readonly (readonly [number, number, number])[] = [
  [10, 1485, 99],
  [11, 3000, 396],
  [12, 6000, 396],
  [13, 11880, 396],
  [20, 11880, 396],
  [21, 19800, 792],
  [22, 20250, 1620],
  [30, 40500, 1620],
  [31, 108000, 3600],
  [32, 216000, 5120],
  [40, 245760, 8192],
  [41, 245760, 8192],
  [42, 522240, 8704],
  [50, 589824, 22080],
  [51, 983040, 36864],
  [52, 2073600, 36864],
];

/** profile_idc 66 + constraint_set0/1 = Constrained Baseline (A.2.1.1); set2 too, as WebRTC's 42e0xx. */
const PROFILE_IDC = 66;
const CONSTRAINT_FLAGS = 0xe0;

/** mb_type of I_PCM in I slices (Table 7-11). */
const MB_TYPE_I_PCM = 25;
/**
 * mb_type of I_16x16_<pred>_0_0 (Table 7-11): 1 + Intra16x16PredMode, with
 * CodedBlockPatternChroma 0 and CodedBlockPatternLuma 0 (no AC, no chroma residual).
 */
const MB_TYPE_I_16X16_NO_AC = 1;
/** P slices number the intra mb_types after the 5 inter ones (Table 7-13). */
const P_SLICE_INTRA_OFFSET = 5;
/** Intra16x16PredMode (Table 8-4) and intra_chroma_pred_mode (Table 7-16) values. */
const LUMA_VERTICAL = 0;
const LUMA_HORIZONTAL = 1;
const LUMA_DC = 2;
const CHROMA_DC = 0;
const CHROMA_HORIZONTAL = 1;
const CHROMA_VERTICAL = 2;
/** What a decoder assumes for a 4x4 block of an I_PCM macroblock when it predicts nC (§9.2.1). */
const NNZ_PCM = 16;
/** slice_type 7 / 5: I / P, and every slice of the picture has that type (Table 7-6). */
const SLICE_TYPE_I_ALL = 7;
const SLICE_TYPE_P_ALL = 5;

const BACKGROUND_Y = 48;
const NEUTRAL_C = 128;
const TEXT_Y = 235;
/** The moving block: limited-range orange (RGB 255,140,0). */
const BLOCK_Y = 152;
const BLOCK_CB = 50;
const BLOCK_CR = 188;
const MARGIN = 16;
/** "YYYY-MM-DD HH:MM:SS.mmm" */
const CLOCK_CHARS = 23;

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Encodes a synthetic test picture as Constrained Baseline H.264.
 *
 * Not thread-safe and stateful: call {@link encode} once per frame, in capture order.
 */
export class SyntheticH264Encoder {
  /** Displayed size. */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Sequence parameter set NAL unit, no start code. */
  readonly sps: Buffer;
  /** Picture parameter set NAL unit, no start code. */
  readonly pps: Buffer;
  /** level_idc chosen from Table A-1 for the coded size and frame rate. */
  readonly levelIdc: number;
  /** RFC 6184 profile-level-id, e.g. `'42e01e'`. */
  readonly profileLevelId: string;

  private readonly mbW: number;
  private readonly mbH: number;
  private readonly lumaStride: number;
  private readonly chromaStride: number;
  private readonly log2MaxFrameNum: number;
  private readonly clockFormat: Intl.DateTimeFormat | null;

  /** Planes being rendered, the static background they are restored from, and what the decoder holds. */
  private readonly cur: Planes;
  private readonly background: Planes;
  private readonly ref: Planes;
  private readonly barcodeScratch: Uint8Array;

  private readonly clockRect: Rect;
  private readonly clockScale: number;
  private readonly blockRow: number;
  private blockCol = -1;
  /** Macroblocks of the noise band (raster order), and the encoder's progress through it. */
  private readonly noiseMbs: Uint32Array;
  private readonly noiseTarget: number;
  private noiseCursor = 0;
  private noisePerFrame = 0;
  /** Bytes produced above the target so far (the rate controller's integral). */
  private noiseDebt = 0;
  /** Running estimate of a P frame's bytes without the band. */
  private noiseBase = 0;
  private noiseSeed = 0x9e3779b9;
  /** Per macroblock: 1 if something was drawn there this frame. */
  private readonly touched: Uint8Array;
  /**
   * Per macroblock of the picture being coded: the total_coeff a decoder sees in
   * its 4x4 blocks, which selects the coeff_token table of later neighbours (§9.2.1):
   * 16 for I_PCM, 0 for P_Skip and for I_16x16 without AC coefficients.
   */
  private readonly nnz: Uint8Array;

  private gopFrames: number;
  private framesSinceIdr = 0;
  private forceIdr = true;
  private frameNum = 0;
  private idrPicId = 0;
  private frameCount = 0;

  /** @throws {RangeError} for invalid options or a size/rate beyond level 5.2. */
  constructor(opts: SyntheticEncoderOptions) {
    const { width, height, fps, gopSeconds, name } = opts;
    if (!Number.isInteger(width) || width < 80 || width % 2 !== 0) {
      throw new RangeError(`width must be an even integer ≥ 80, got ${width}`);
    }
    if (!Number.isInteger(height) || height < 32 || height % 2 !== 0) {
      throw new RangeError(`height must be an even integer ≥ 32, got ${height}`);
    }
    if (!Number.isFinite(fps) || fps <= 0 || fps > 240) throw new RangeError(`fps must be in (0, 240], got ${fps}`);
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.gopFrames = gopLength(gopSeconds, fps);
    this.clockFormat = clockFormatter(opts.timeZone ?? 'UTC');

    this.mbW = Math.ceil(width / 16);
    this.mbH = Math.ceil(height / 16);
    this.lumaStride = this.mbW * 16;
    this.chromaStride = this.mbW * 8;
    this.levelIdc = chooseLevel(this.mbW, this.mbH, fps);
    this.profileLevelId = [PROFILE_IDC, CONSTRAINT_FLAGS, this.levelIdc]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    // frame_num counts reference pictures since the IDR and may wrap (§7.4.3); a
    // field wide enough for one GOP just keeps the numbers readable in dumps.
    this.log2MaxFrameNum = Math.min(16, Math.max(4, Math.ceil(Math.log2(this.gopFrames + 1))));
    this.sps = toBuffer(this.buildSps());
    this.pps = toBuffer(buildPps());

    const lumaSize = this.lumaStride * this.mbH * 16;
    const chromaSize = this.chromaStride * this.mbH * 8;
    this.cur = newPlanes(lumaSize, chromaSize);
    this.background = newPlanes(lumaSize, chromaSize);
    this.ref = newPlanes(lumaSize, chromaSize);
    this.barcodeScratch = new Uint8Array(width * BARCODE_ROWS);
    this.touched = new Uint8Array(this.mbW * this.mbH);
    this.nnz = new Uint8Array(this.mbW * this.mbH);

    // Static layout, below the barcode strip: name, then the clock, the block near the bottom.
    const bg = this.background;
    bg.y.fill(BACKGROUND_Y);
    bg.cb.fill(NEUTRAL_C);
    bg.cr.fill(NEUTRAL_C);
    const nameY = 2 * 16;
    const nameChars = Math.max(1, name.length);
    const nameScale = clamp(
      Math.min(Math.floor((width - 2 * MARGIN) / (GLYPH_ADVANCE * nameChars)), Math.floor(height / 60)),
      1,
      8,
    );
    drawText(bg.y, this.lumaStride, width, height, MARGIN, nameY, name, nameScale, TEXT_Y);
    this.clockScale = clamp(
      Math.min(Math.floor(width / 320), Math.floor((width - 2 * MARGIN) / (GLYPH_ADVANCE * (CLOCK_CHARS - 1) + GLYPH_WIDTH))),
      1,
      8,
    );
    const clockY = alignUp(nameY + GLYPH_HEIGHT * nameScale + 16, 16);
    this.clockRect = {
      x: MARGIN,
      y: clockY,
      w: (GLYPH_ADVANCE * (CLOCK_CHARS - 1) + GLYPH_WIDTH) * this.clockScale,
      h: GLYPH_HEIGHT * this.clockScale,
    };
    this.blockRow = Math.max(1, Math.floor(height / 16) - 2);
    const bitrate = opts.bitrateKbps ?? 0;
    if (!Number.isFinite(bitrate) || bitrate < 0) throw new RangeError(`bitrateKbps must be ≥ 0, got ${bitrate}`);
    this.noiseTarget = (bitrate * 1000) / 8 / fps;
    // The band starts one macroblock row below the clock, as wide as the picture, and holds
    // about two frames' worth of texture: a key frame carries all of it, so a larger band would
    // make key frames far bigger than a real camera's (several times a P frame, not 40 times).
    const bandTop = (this.clockRect.y + this.clockRect.h + 15) >> 4;
    const bandRoom = Math.max(0, this.blockRow - 1 - bandTop) * this.mbW;
    this.noiseMbs = new Uint32Array(bitrate > 0 ? Math.min(bandRoom, Math.ceil((2 * this.noiseTarget) / 386)) : 0);
    for (let i = 0; i < this.noiseMbs.length; i++) this.noiseMbs[i] = (bandTop + Math.floor(i / this.mbW)) * this.mbW + (i % this.mbW);
    this.cur.y.set(bg.y);
    this.cur.cb.set(bg.cb);
    this.cur.cr.set(bg.cr);
  }

  /** Frames encoded so far. */
  get frames(): number {
    return this.frameCount;
  }

  /** Makes the next {@link encode} produce an IDR picture (ONVIF SetSynchronizationPoint). */
  requestKeyframe(): void {
    this.forceIdr = true;
  }

  /** Changes the IDR interval from the next frame on; the SPS is unchanged (frame_num just wraps). */
  setGop(gopSeconds: number): void {
    this.gopFrames = gopLength(gopSeconds, this.fps);
  }

  /**
   * Renders and encodes the next frame.
   *
   * @param captureMs wall-clock capture time (Date.now() style, UTC epoch ms),
   *   drawn as text and carried exactly in the barcode
   * @throws {RangeError} when captureMs is not in [0, 2^48)
   */
  encode(captureMs: number): EncodedFrame {
    // Checked before anything is drawn: a throw halfway through render() would
    // leave the planes out of step with what the decoder holds.
    if (!Number.isFinite(captureMs) || captureMs < 0 || captureMs >= 2 ** 48) {
      throw new RangeError(`captureMs ${captureMs} is outside [0, 2^48)`);
    }
    const keyframe = this.forceIdr || this.framesSinceIdr >= this.gopFrames;
    this.render(captureMs);
    let nalus: Buffer[];
    if (keyframe) {
      nalus = [this.sps, this.pps, this.encodeIdr()];
      this.forceIdr = false;
      this.framesSinceIdr = 1;
      this.frameNum = 1;
      this.idrPicId = (this.idrPicId + 1) % 65536;
    } else {
      nalus = [this.encodeP()];
      this.framesSinceIdr++;
      this.frameNum = (this.frameNum + 1) % 2 ** this.log2MaxFrameNum;
    }
    this.frameCount++;
    if (this.noiseMbs.length > 0) this.steerNoise(nalus, keyframe);
    return { nalus, keyframe };
  }

  /**
   * The picture of the last {@link encode} as a conforming decoder must output
   * it: cropped to width×height, planar I420 (Y, then Cb, then Cr, 8 bits, limited
   * range) — the layout of ffmpeg's `-f rawvideo -pix_fmt yuv420p`. A fresh copy.
   */
  lastFrameI420(): Uint8Array {
    const { width, height } = this;
    const cw = width / 2;
    const ch = height / 2;
    const out = new Uint8Array(width * height + 2 * cw * ch);
    for (let y = 0; y < height; y++) {
      out.set(this.cur.y.subarray(y * this.lumaStride, y * this.lumaStride + width), y * width);
    }
    let at = width * height;
    for (const plane of [this.cur.cb, this.cur.cr]) {
      for (let y = 0; y < ch; y++, at += cw) {
        out.set(plane.subarray(y * this.chromaStride, y * this.chromaStride + cw), at);
      }
    }
    return out;
  }

  /** Restores last frame's dynamic areas from the background, then draws clock, block and barcode. */
  private render(captureMs: number): void {
    const { cur } = this;
    this.touched.fill(0);

    const oldBlock = this.blockCol;
    this.blockCol = this.frameCount % this.mbW;
    if (oldBlock >= 0) this.restoreMb(oldBlock, this.blockRow);
    this.restore(this.clockRect);

    drawText(
      cur.y,
      this.lumaStride,
      this.width,
      this.height,
      this.clockRect.x,
      this.clockRect.y,
      this.clockText(captureMs),
      this.clockScale,
      TEXT_Y,
    );
    this.fillMb(this.blockCol, this.blockRow, BLOCK_Y, BLOCK_CB, BLOCK_CR);
    this.drawNoise();

    // Barcode last, so nothing can overwrite it. It is drawn at the displayed width
    // (cell size = floor(width / 80) as the reader computes it) and copied into the
    // wider coded plane; padding columns keep the background.
    drawBarcode(this.barcodeScratch, this.width, this.height, captureMs);
    for (let row = 0; row < BARCODE_ROWS; row++) {
      cur.y.set(this.barcodeScratch.subarray(row * this.width, (row + 1) * this.width), row * this.lumaStride);
    }
    this.touched.fill(1, 0, this.mbW);
  }

  /** Fills the next macroblocks of the noise band with fresh texture (coded I_PCM). */
  private drawNoise(): void {
    const n = Math.min(this.noisePerFrame, this.noiseMbs.length);
    const { cur } = this;
    let seed = this.noiseSeed;
    for (let i = 0; i < n; i++) {
      const mb = this.noiseMbs[this.noiseCursor];
      this.noiseCursor = (this.noiseCursor + 1) % this.noiseMbs.length;
      const mbX = mb % this.mbW;
      const mbY = (mb - mbX) / this.mbW;
      // xorshift32: four samples per step, kept in the limited range 16..235.
      for (let y = mbY * 16; y < mbY * 16 + 16; y++) {
        const at = y * this.lumaStride + mbX * 16;
        for (let x = 0; x < 16; x += 4) {
          seed = xorshift32(seed);
          cur.y[at + x] = 16 + ((seed & 0xff) % 220);
          cur.y[at + x + 1] = 16 + (((seed >>> 8) & 0xff) % 220);
          cur.y[at + x + 2] = 16 + (((seed >>> 16) & 0xff) % 220);
          cur.y[at + x + 3] = 16 + ((seed >>> 24) % 220);
        }
      }
      for (let y = mbY * 8; y < mbY * 8 + 8; y++) {
        const at = y * this.chromaStride + mbX * 8;
        for (let x = 0; x < 8; x += 2) {
          seed = xorshift32(seed);
          cur.cb[at + x] = 96 + ((seed & 0xff) & 63);
          cur.cb[at + x + 1] = 96 + (((seed >>> 8) & 0xff) & 63);
          cur.cr[at + x] = 96 + (((seed >>> 16) & 0xff) & 63);
          cur.cr[at + x + 1] = 96 + ((seed >>> 24) & 63);
        }
      }
      this.touched[mb] = 1;
    }
    this.noiseSeed = seed;
  }

  /**
   * Rate control for the noise band: next frame's macroblock count so the average over
   * time meets the target. Key frames carry the whole band, so P frames pay them back.
   */
  private steerNoise(nalus: readonly Buffer[], keyframe: boolean): void {
    let bytes = 0;
    for (const n of nalus) bytes += n.length;
    const PCM_BYTES = 386;
    if (!keyframe) {
      const base = Math.max(0, bytes - this.noisePerFrame * PCM_BYTES);
      this.noiseBase = this.noiseBase === 0 ? base : this.noiseBase * 0.9 + base * 0.1;
    }
    const window = this.gopFrames * this.noiseTarget;
    this.noiseDebt = clamp(this.noiseDebt + bytes - this.noiseTarget, -window, window);
    const want = (this.noiseTarget - this.noiseBase - this.noiseDebt / Math.max(1, this.gopFrames)) / PCM_BYTES;
    this.noisePerFrame = clamp(Math.round(want), 0, this.noiseMbs.length);
  }

  private clockText(ms: number): string {
    const millis = String(Math.floor(ms) % 1000).padStart(3, '0');
    if (this.clockFormat === null) {
      const iso = new Date(ms).toISOString(); // 2024-05-01T12:34:56.789Z
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${millis}`;
    }
    const p: Record<string, string> = {};
    for (const part of this.clockFormat.formatToParts(ms)) p[part.type] = part.value;
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}.${millis}`;
  }

  private restore(r: Rect): void {
    const { cur, background } = this;
    const x1 = Math.min(this.lumaStride, r.x + r.w);
    const y1 = Math.min(this.mbH * 16, r.y + r.h);
    for (let y = r.y; y < y1; y++) {
      const at = y * this.lumaStride;
      cur.y.set(background.y.subarray(at + r.x, at + x1), at + r.x);
    }
    this.touch(r.x, r.y, x1, y1);
  }

  private restoreMb(mbX: number, mbY: number): void {
    this.restore({ x: mbX * 16, y: mbY * 16, w: 16, h: 16 });
    const { cur, background } = this;
    for (let y = mbY * 8; y < mbY * 8 + 8; y++) {
      const at = y * this.chromaStride + mbX * 8;
      cur.cb.set(background.cb.subarray(at, at + 8), at);
      cur.cr.set(background.cr.subarray(at, at + 8), at);
    }
  }

  private fillMb(mbX: number, mbY: number, yv: number, cb: number, cr: number): void {
    const { cur } = this;
    for (let y = mbY * 16; y < mbY * 16 + 16; y++) {
      const at = y * this.lumaStride + mbX * 16;
      cur.y.fill(yv, at, at + 16);
    }
    for (let y = mbY * 8; y < mbY * 8 + 8; y++) {
      const at = y * this.chromaStride + mbX * 8;
      cur.cb.fill(cb, at, at + 8);
      cur.cr.fill(cr, at, at + 8);
    }
    this.touched[mbY * this.mbW + mbX] = 1;
  }

  /** Marks macroblocks overlapping luma rectangle [x0, x1) × [y0, y1). */
  private touch(x0: number, y0: number, x1: number, y1: number): void {
    if (x1 <= x0 || y1 <= y0) return;
    for (let my = y0 >> 4; my <= (y1 - 1) >> 4; my++) {
      this.touched.fill(1, my * this.mbW + (x0 >> 4), my * this.mbW + ((x1 - 1) >> 4) + 1);
    }
  }

  private encodeIdr(): Buffer {
    const total = this.mbW * this.mbH;
    const w = new BitWriter(64 + total * 386);
    // Slice header (§7.3.3), IDR: first_mb_in_slice, slice_type, pps id, frame_num 0, idr_pic_id.
    w.ue(0).ue(SLICE_TYPE_I_ALL).ue(0).u(this.log2MaxFrameNum, 0).ue(this.idrPicId);
    // dec_ref_pic_marking() for IDR: no_output_of_prior_pics_flag 0, long_term_reference_flag 0.
    w.u(2, 0);
    w.se(0); // slice_qp_delta: irrelevant, no macroblock carries transform coefficients
    w.ue(1); // disable_deblocking_filter_idc 1: keep I_PCM/P_Skip edges bit-exact
    for (let mb = 0; mb < total; mb++) this.writeIntraMb(w, mb, 0);
    w.trailingBits();
    this.ref.y.set(this.cur.y);
    this.ref.cb.set(this.cur.cb);
    this.ref.cr.set(this.cur.cr);
    // nal_ref_idc 3: the IDR is the reference for the P frames that follow.
    return toBuffer(rbspToNal((3 << 5) | NalType.IdrSlice, w.toRbsp()));
  }

  private encodeP(): Buffer {
    const total = this.mbW * this.mbH;
    const changed: number[] = [];
    for (let mb = 0; mb < total; mb++) {
      if (this.touched[mb] && this.differsFromRef(mb)) changed.push(mb);
    }
    const w = new BitWriter(64 + changed.length * 390);
    // Slice header (§7.3.3), P: first_mb, slice_type, pps id, frame_num,
    // num_ref_idx_active_override_flag 0 (PPS default: 1 reference),
    // ref_pic_list_modification_flag_l0 0, adaptive_ref_pic_marking_mode_flag 0
    // (sliding window over max_num_ref_frames 1).
    w.ue(0).ue(SLICE_TYPE_P_ALL).ue(0).u(this.log2MaxFrameNum, this.frameNum);
    w.u(1, 0).u(1, 0).u(1, 0);
    w.se(0); // slice_qp_delta
    w.ue(1); // disable_deblocking_filter_idc
    // slice_data() with CAVLC (§7.3.4): each coded MB is preceded by mb_skip_run,
    // a final run covers the skipped tail.
    this.nnz.fill(0);
    let next = 0;
    for (const mb of changed) {
      w.ue(mb - next);
      this.writeIntraMb(w, mb, P_SLICE_INTRA_OFFSET);
      this.copyMbToRef(mb);
      next = mb + 1;
    }
    if (next < total) w.ue(total - next);
    w.trailingBits();
    // nal_ref_idc 2: every P picture is the reference for the next one.
    return toBuffer(rbspToNal((2 << 5) | NalType.NonIdrSlice, w.toRbsp()));
  }

  /**
   * Codes one macroblock of the current picture as intra. Flat macroblocks whose
   * already-decoded neighbour edges have the same value are I_16x16 with a
   * prediction mode that reproduces them exactly (§8.3.3, §8.3.4) and no residual:
   * a few bits instead of 384 bytes. Everything else is I_PCM.
   *
   * Neighbour samples are taken from {@link cur}: in raster order the left and top
   * macroblocks are already decoded, losslessly, to exactly those values (I_PCM and
   * exact predictions; P_Skip macroblocks are unchanged, so equal to the reference).
   */
  private writeIntraMb(w: BitWriter, mb: number, typeOffset: number): void {
    const mbX = mb % this.mbW;
    const mbY = (mb - mbX) / this.mbW;
    const luma = this.flatLuma(mbX, mbY);
    const chroma = luma < 0 ? -1 : this.flatChroma(mbX, mbY);
    const lumaMode = luma < 0 ? -1 : this.exactLumaMode(mbX, mbY, luma);
    const chromaMode = chroma < 0 ? -1 : this.exactChromaMode(mbX, mbY, chroma >> 8, chroma & 0xff);
    if (lumaMode < 0 || chromaMode < 0) {
      w.ue(typeOffset + MB_TYPE_I_PCM);
      this.writePcm(w, mb);
      this.nnz[mb] = NNZ_PCM;
      return;
    }
    // mb_pred: intra_chroma_pred_mode; then mb_qp_delta (always present for
    // Intra_16x16, §7.3.5) and residual: Intra16x16DCLevel is always coded, here
    // as coeff_token TotalCoeff 0 / TrailingOnes 0; no AC or chroma blocks (cbp 0).
    w.ue(typeOffset + MB_TYPE_I_16X16_NO_AC + lumaMode);
    w.ue(chromaMode);
    w.se(0);
    writeEmptyCoeffToken(w, this.predictedNc(mbX, mbY));
    this.nnz[mb] = 0;
  }

  /** nC for the Intra16x16DCLevel block (§9.2.1, luma4x4BlkIdx 0): from the left and top macroblocks. */
  private predictedNc(mbX: number, mbY: number): number {
    const mb = mbY * this.mbW + mbX;
    const hasA = mbX > 0;
    const hasB = mbY > 0;
    if (hasA && hasB) return (this.nnz[mb - 1] + this.nnz[mb - this.mbW] + 1) >> 1;
    if (hasA) return this.nnz[mb - 1];
    if (hasB) return this.nnz[mb - this.mbW];
    return 0;
  }

  /** The luma value if all 256 samples are equal, else -1. */
  private flatLuma(mbX: number, mbY: number): number {
    const y = this.cur.y;
    let at = mbY * 16 * this.lumaStride + mbX * 16;
    const v = y[at];
    for (let row = 0; row < 16; row++, at += this.lumaStride) {
      for (let i = at; i < at + 16; i++) if (y[i] !== v) return -1;
    }
    return v;
  }

  /** (Cb << 8) | Cr if both chroma blocks are flat, else -1. */
  private flatChroma(mbX: number, mbY: number): number {
    const { cb, cr } = this.cur;
    let at = mbY * 8 * this.chromaStride + mbX * 8;
    const u = cb[at];
    const v = cr[at];
    for (let row = 0; row < 8; row++, at += this.chromaStride) {
      for (let i = at; i < at + 8; i++) if (cb[i] !== u || cr[i] !== v) return -1;
    }
    return (u << 8) | v;
  }

  /**
   * An Intra16x16PredMode that predicts every sample as `v`, or -1: horizontal
   * copies the left neighbour's right column, vertical the top neighbour's bottom
   * row, DC without neighbours predicts 128 (§8.3.3.1–3).
   */
  private exactLumaMode(mbX: number, mbY: number, v: number): number {
    const y = this.cur.y;
    const s = this.lumaStride;
    if (mbX > 0 && columnIs(y, mbY * 16 * s + mbX * 16 - 1, s, 16, v)) return LUMA_HORIZONTAL;
    if (mbY > 0 && rowIs(y, (mbY * 16 - 1) * s + mbX * 16, 16, v)) return LUMA_VERTICAL;
    if (mbX === 0 && mbY === 0 && v === 128) return LUMA_DC;
    return -1;
  }

  /** The chroma counterpart of {@link exactLumaMode} (§8.3.4), for both Cb and Cr. */
  private exactChromaMode(mbX: number, mbY: number, u: number, v: number): number {
    const { cb, cr } = this.cur;
    const s = this.chromaStride;
    if (mbX > 0) {
      const at = mbY * 8 * s + mbX * 8 - 1;
      if (columnIs(cb, at, s, 8, u) && columnIs(cr, at, s, 8, v)) return CHROMA_HORIZONTAL;
    }
    if (mbY > 0) {
      const at = (mbY * 8 - 1) * s + mbX * 8;
      if (rowIs(cb, at, 8, u) && rowIs(cr, at, 8, v)) return CHROMA_VERTICAL;
    }
    if (mbX === 0 && mbY === 0 && u === 128 && v === 128) return CHROMA_DC;
    return -1;
  }

  /** pcm_alignment_zero_bits then 256 luma and 2×64 chroma samples in raster order (§7.3.5). */
  private writePcm(w: BitWriter, mb: number): void {
    w.alignZero();
    const mbX = mb % this.mbW;
    const mbY = (mb - mbX) / this.mbW;
    const { y, cb, cr } = this.cur;
    let at = mbY * 16 * this.lumaStride + mbX * 16;
    for (let row = 0; row < 16; row++, at += this.lumaStride) w.bytesAt(y, at, 16);
    const c0 = mbY * 8 * this.chromaStride + mbX * 8;
    at = c0;
    for (let row = 0; row < 8; row++, at += this.chromaStride) w.bytesAt(cb, at, 8);
    at = c0;
    for (let row = 0; row < 8; row++, at += this.chromaStride) w.bytesAt(cr, at, 8);
  }

  private differsFromRef(mb: number): boolean {
    const mbX = mb % this.mbW;
    const mbY = (mb - mbX) / this.mbW;
    const { cur, ref } = this;
    // 32-bit views: the plane strides are multiples of 16 (luma) and 8 (chroma) bytes.
    let at = (mbY * 16 * this.lumaStride + mbX * 16) >> 2;
    const ls = this.lumaStride >> 2;
    for (let row = 0; row < 16; row++, at += ls) {
      if (cur.y32[at] !== ref.y32[at] || cur.y32[at + 1] !== ref.y32[at + 1]) return true;
      if (cur.y32[at + 2] !== ref.y32[at + 2] || cur.y32[at + 3] !== ref.y32[at + 3]) return true;
    }
    const cs = this.chromaStride >> 2;
    at = (mbY * 8 * this.chromaStride + mbX * 8) >> 2;
    for (let row = 0; row < 8; row++, at += cs) {
      if (cur.cb32[at] !== ref.cb32[at] || cur.cb32[at + 1] !== ref.cb32[at + 1]) return true;
      if (cur.cr32[at] !== ref.cr32[at] || cur.cr32[at + 1] !== ref.cr32[at + 1]) return true;
    }
    return false;
  }

  private copyMbToRef(mb: number): void {
    const mbX = mb % this.mbW;
    const mbY = (mb - mbX) / this.mbW;
    const { cur, ref } = this;
    // 32-bit words, as in differsFromRef: rows are 16 (luma) and 8 (chroma) bytes, aligned.
    let at = (mbY * 16 * this.lumaStride + mbX * 16) >> 2;
    const ls = this.lumaStride >> 2;
    for (let row = 0; row < 16; row++, at += ls) {
      ref.y32[at] = cur.y32[at];
      ref.y32[at + 1] = cur.y32[at + 1];
      ref.y32[at + 2] = cur.y32[at + 2];
      ref.y32[at + 3] = cur.y32[at + 3];
    }
    const cs = this.chromaStride >> 2;
    at = (mbY * 8 * this.chromaStride + mbX * 8) >> 2;
    for (let row = 0; row < 8; row++, at += cs) {
      ref.cb32[at] = cur.cb32[at];
      ref.cb32[at + 1] = cur.cb32[at + 1];
      ref.cr32[at] = cur.cr32[at];
      ref.cr32[at + 1] = cur.cr32[at + 1];
    }
  }

  /** seq_parameter_set_rbsp() (§7.3.2.1.1) with VUI (Annex E.1.1). */
  private buildSps(): Uint8Array {
    const w = new BitWriter(64);
    w.u(8, PROFILE_IDC).u(8, CONSTRAINT_FLAGS).u(8, this.levelIdc);
    w.ue(0); // seq_parameter_set_id
    w.ue(this.log2MaxFrameNum - 4);
    w.ue(2); // pic_order_cnt_type 2: POC follows frame_num, no reordering
    w.ue(1); // max_num_ref_frames
    w.u(1, 0); // gaps_in_frame_num_value_allowed_flag
    w.ue(this.mbW - 1).ue(this.mbH - 1);
    w.u(1, 1); // frame_mbs_only_flag
    w.u(1, 1); // direct_8x8_inference_flag (required by constraint_set2, Extended profile)
    const cropRight = this.mbW * 16 - this.width;
    const cropBottom = this.mbH * 16 - this.height;
    if (cropRight || cropBottom) {
      // Offsets are in CropUnitX/Y = 2 for 4:2:0 frames (eq. 7-19, 7-20); sizes are even.
      w.u(1, 1).ue(0).ue(cropRight / 2).ue(0).ue(cropBottom / 2);
    } else {
      w.u(1, 0);
    }
    w.u(1, 1); // vui_parameters_present_flag
    w.u(1, 0); // aspect_ratio_info_present_flag
    w.u(1, 0); // overscan_info_present_flag
    // video_signal_type: format 5 (unspecified), limited range, no colour description.
    w.u(1, 1).u(3, 5).u(1, 0).u(1, 0);
    w.u(1, 0); // chroma_loc_info_present_flag
    // timing_info: a tick is half a frame period (E.2.1), so time_scale = 2·fps·num_units.
    // fixed_frame_rate_flag 0: the simulator may skip frames under load.
    w.u(1, 1).u(32, 1000).u(32, Math.round(this.fps * 2000)).u(1, 0);
    w.u(1, 0).u(1, 0); // nal/vcl_hrd_parameters_present_flag
    w.u(1, 0); // pic_struct_present_flag
    // bitstream_restriction: no reordering and a one-frame DPB, so decoders
    // (ffmpeg, browsers) output each picture as soon as it is decoded.
    w.u(1, 1);
    w.u(1, 1); // motion_vectors_over_pic_boundaries_flag
    w.ue(0).ue(0); // max_bytes_per_pic_denom, max_bits_per_mb_denom: no limit
    w.ue(15).ue(15); // log2_max_mv_length_horizontal/vertical
    w.ue(0); // max_num_reorder_frames
    w.ue(1); // max_dec_frame_buffering
    w.trailingBits();
    return rbspToNal((3 << 5) | NalType.Sps, w.toRbsp());
  }
}

/**
 * coeff_token for TotalCoeff 0, TrailingOnes 0 (Table 9-5): its code depends on
 * the table nC selects. nC here is 0 (I_16x16 / P_Skip neighbours), 8 or 16 (I_PCM).
 */
function writeEmptyCoeffToken(w: BitWriter, nC: number): void {
  if (nC < 2) w.u(1, 0b1);
  else if (nC < 4) w.u(2, 0b11);
  else if (nC < 8) w.u(4, 0b1111);
  else w.u(6, 0b000011); // 6-bit fixed-length table
}

/** One step of Marsaglia's xorshift32: a cheap, repeatable stream of noise. */
function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x | 0;
}

function rowIs(plane: Uint8Array, at: number, n: number, v: number): boolean {
  for (let i = at; i < at + n; i++) if (plane[i] !== v) return false;
  return true;
}

function columnIs(plane: Uint8Array, at: number, stride: number, n: number, v: number): boolean {
  for (let i = 0; i < n; i++, at += stride) if (plane[at] !== v) return false;
  return true;
}

/** pic_parameter_set_rbsp() (§7.3.2.2). */
function buildPps(): Uint8Array {
  const w = new BitWriter(16);
  w.ue(0).ue(0); // pic_parameter_set_id, seq_parameter_set_id
  w.u(1, 0); // entropy_coding_mode_flag: CAVLC
  w.u(1, 0); // bottom_field_pic_order_in_frame_present_flag
  w.ue(0); // num_slice_groups_minus1
  w.ue(0).ue(0); // num_ref_idx_l0/l1_default_active_minus1
  w.u(1, 0).u(2, 0); // weighted_pred_flag, weighted_bipred_idc
  w.se(0).se(0).se(0); // pic_init_qp_minus26, pic_init_qs_minus26, chroma_qp_index_offset
  w.u(1, 1); // deblocking_filter_control_present_flag: lets slices disable it
  w.u(1, 0); // constrained_intra_pred_flag
  w.u(1, 0); // redundant_pic_cnt_present_flag
  w.trailingBits();
  return rbspToNal((3 << 5) | NalType.Pps, w.toRbsp());
}

/** Lowest level of Table A-1 whose frame size, frame dimensions (A.3.1 f, g) and MB rate fit. */
function chooseLevel(mbW: number, mbH: number, fps: number): number {
  const frameMbs = mbW * mbH;
  for (const [level, maxMbps, maxFs] of LEVELS) {
    const maxSide = Math.sqrt(maxFs * 8);
    if (frameMbs <= maxFs && mbW <= maxSide && mbH <= maxSide && frameMbs * fps <= maxMbps) return level;
  }
  throw new RangeError(`${mbW * 16}x${mbH * 16} at ${fps} fps exceeds H.264 level 5.2`);
}

function gopLength(gopSeconds: number, fps: number): number {
  if (!Number.isFinite(gopSeconds) || gopSeconds <= 0) throw new RangeError(`gopSeconds must be > 0, got ${gopSeconds}`);
  return Math.max(1, Math.round(gopSeconds * fps));
}

/** null for UTC, which is formatted from toISOString() without Intl (cheaper per frame). */
function clockFormatter(timeZone: string): Intl.DateTimeFormat | null {
  if (timeZone === 'UTC') return null;
  // Throws RangeError for an unknown zone, which is what the constructor promises.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
}

interface Planes {
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
  y32: Uint32Array;
  cb32: Uint32Array;
  cr32: Uint32Array;
}

function newPlanes(lumaSize: number, chromaSize: number): Planes {
  const y = new Uint8Array(lumaSize);
  const cb = new Uint8Array(chromaSize);
  const cr = new Uint8Array(chromaSize);
  return { y, cb, cr, y32: new Uint32Array(y.buffer), cb32: new Uint32Array(cb.buffer), cr32: new Uint32Array(cr.buffer) };
}

function toBuffer(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function alignUp(v: number, to: number): number {
  return Math.ceil(v / to) * to;
}
