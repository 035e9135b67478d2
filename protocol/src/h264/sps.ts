/**
 * Sequence parameter set parser (ITU-T H.264 §7.3.2.1.1), enough to learn the
 * picture size and the RTP `profile-level-id` (RFC 6184 §8.1) of a camera stream.
 * VUI (Annex E) is not parsed: nothing after frame cropping affects the size.
 */
import { BitReader, H264ParseError } from './bit-reader';
import { NalType } from './nal';

export { H264ParseError } from './bit-reader';

/** What a gateway needs to know about a stream from its SPS. */
export interface SpsInfo {
  /** `profile_idc`: 66 Baseline, 77 Main, 100 High, … (Annex A). */
  profileIdc: number;
  /** The byte holding `constraint_set0_flag`…`constraint_set5_flag` and the 2 reserved bits. */
  constraintFlags: number;
  /** `level_idc`: ten times the level number (31 = 3.1); 9 is level 1b for some profiles. */
  levelIdc: number;
  /** Displayed width in luma samples, after frame cropping. */
  width: number;
  /** Displayed height in luma samples, after frame cropping (both fields for interlaced). */
  height: number;
  /** RFC 6184 `profile-level-id`: the three bytes after the NAL header, lowercase hex, e.g. `"42e01f"`. */
  profileLevelId: string;
}

/** SPS larger than this are rejected; real ones are tens of bytes, a few hundred with scaling lists and VUI. */
export const MAX_SPS_BYTES = 1024;

/**
 * Largest picture dimension accepted, in macroblocks. Level 6.2 (the largest)
 * allows MaxFS = 139264 MBs, so no side can exceed √(8·MaxFS) ≈ 1055 MBs (A.3.1 f, g).
 */
const MAX_SIDE_MBS = 1056;

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/**
 * Parses an SPS NAL unit (header byte included, no start code).
 *
 * @throws {H264ParseError} when the unit is not an SPS, is larger than
 *   {@link MAX_SPS_BYTES}, is truncated, or holds out-of-range values.
 */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.length > MAX_SPS_BYTES) throw new H264ParseError(`SPS too large: ${nal.length} bytes > ${MAX_SPS_BYTES}`);
  if (nal.length < 4) throw new H264ParseError(`SPS too short: ${nal.length} bytes`);
  const r = BitReader.fromNal(nal);
  if (r.bit() !== 0) throw new H264ParseError('forbidden_zero_bit is set');
  r.skip(2); // nal_ref_idc
  const type = r.u(5);
  if (type !== NalType.Sps) throw new H264ParseError(`not an SPS: nal_unit_type ${type}`);

  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = r.ue();
  if (spsId > 31) throw new H264ParseError(`seq_parameter_set_id ${spsId} > 31`);

  let chromaFormatIdc = 1; // inferred 4:2:0 when absent (§7.4.2.1.1)
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) throw new H264ParseError(`chroma_format_idc ${chromaFormatIdc} > 3`);
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    const bitDepthLuma = r.ue();
    const bitDepthChroma = r.ue();
    if (bitDepthLuma > 6 || bitDepthChroma > 6) throw new H264ParseError('bit_depth_minus8 > 6');
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6 for 4:4:4) 8x8 lists.
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  const log2MaxFrameNumMinus4 = r.ue();
  if (log2MaxFrameNumMinus4 > 12) throw new H264ParseError(`log2_max_frame_num_minus4 ${log2MaxFrameNumMinus4} > 12`);
  const pocType = r.ue();
  if (pocType === 0) {
    const log2MaxPocLsbMinus4 = r.ue();
    if (log2MaxPocLsbMinus4 > 12) throw new H264ParseError(`log2_max_pic_order_cnt_lsb_minus4 ${log2MaxPocLsbMinus4} > 12`);
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) throw new H264ParseError(`num_ref_frames_in_pic_order_cnt_cycle ${cycle} > 255`);
    for (let i = 0; i < cycle; i++) r.se();
  } else if (pocType !== 2) {
    throw new H264ParseError(`pic_order_cnt_type ${pocType} > 2`);
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  // Field-coded streams count map units per field: a frame is twice as tall (§7.4.2.1.1, FrameHeightInMbs).
  const heightMbs = (frameMbsOnly ? 1 : 2) * heightMapUnits;
  if (widthMbs > MAX_SIDE_MBS || heightMbs > MAX_SIDE_MBS) {
    throw new H264ParseError(`picture size ${widthMbs}x${heightMbs} MBs out of range`);
  }

  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.flag()) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }
  // CropUnitX/Y (§7.4.2.1.1, eq. 7-19..7-22): in chroma samples for 4:2:0/4:2:2, doubled vertically for fields.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = subWidthC;
  const cropUnitY = subHeightC * (frameMbsOnly ? 1 : 2);
  const width = widthMbs * 16 - cropUnitX * (cropLeft + cropRight);
  const height = heightMbs * 16 - cropUnitY * (cropTop + cropBottom);
  if (!(width > 0) || !(height > 0)) {
    throw new H264ParseError(`frame cropping leaves no picture (${width}x${height})`);
  }

  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    width,
    height,
    profileLevelId: hex2(profileIdc) + hex2(constraintFlags) + hex2(levelIdc),
  };
}

/** scaling_list() (§7.3.2.1.1.1): read only to get past it; values are not needed. */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw new H264ParseError(`delta_scale ${delta} out of range`);
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}
