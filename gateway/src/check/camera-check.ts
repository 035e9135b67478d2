import type { Logger } from 'pino';
import { H264Depacketizer } from '@schoolcam/protocol/h264/depacketizer';
import { NalType, nalType } from '@schoolcam/protocol/h264/nal';
import { sliceKind } from '@schoolcam/protocol/h264/slice-header';
import { parseSps } from '@schoolcam/protocol/h264/sps';
import type { CheckResult } from '@schoolcam/protocol/link/link-messages';
import { parseRtp } from '@schoolcam/protocol/rtp/rtp-packet';
import { findH264Track, RtspClient } from '@schoolcam/protocol/rtsp/rtsp-client';
import { RtspError } from '@schoolcam/protocol/rtsp/rtsp-error';
import { getRtpmap, type SdpSession } from '@schoolcam/protocol/sdp/sdp';
import { GatewayError } from '../errors';
import { OnvifCamera, OnvifError } from '../onvif/onvif-client';
import { checkResult, type CameraFacts } from './grade';

export interface CheckOptions {
  /** `rtsp://…` (a plain RTSP camera) or `http(s)://…` (the camera's ONVIF device service) */
  url: string;
  username?: string;
  password?: string;
  /** deadline of each request to the camera, ms; default 8000 */
  timeoutMs?: number;
  /** longest the stream is sampled (to see two key frames), ms; default 12 000 */
  sampleMs?: number;
  /** answer an RTSP Basic-only challenge (password in the clear); default false */
  allowBasic?: boolean;
  logger?: Logger;
}

/** Sampling stops once two key frames and this much video were seen. */
const MIN_SAMPLE_MS = 2500;
/** No RTP at all for this long while sampling: the camera is not streaming. */
const SILENCE_MS = 5000;

/**
 * Measures one camera as the gateway would relay it and grades it for live view: through ONVIF
 * (the largest H.264 profile; key frames on demand) or a plain RTSP URL. The stream is sampled
 * until two key frames have passed (at most `sampleMs`). Rejects with a {@link GatewayError}:
 * `BAD_REQUEST` (not a camera URL), `UNREACHABLE`, `AUTH` (refused login, or Basic-only without
 * `allowBasic`), `TIMEOUT`, `NOT_FOUND` (no such stream).
 */
export async function checkCamera(opts: CheckOptions): Promise<CheckResult> {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new GatewayError('BAD_REQUEST', 'not a URL; give rtsp://host/path or the camera’s ONVIF address http://host/onvif/device_service');
  }
  const timeoutMs = opts.timeoutMs ?? 8000;
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    let camera: OnvifCamera;
    try {
      camera = await OnvifCamera.connect({ xaddr: opts.url, username: opts.username ?? '', password: opts.password ?? '', timeoutMs, anyCodec: true });
    } catch (err) {
      throw fromCameraError(err);
    }
    try {
      const profile = camera.allProfiles[0];
      if (!profile) throw new GatewayError('UNSUPPORTED', 'the camera has no video profile');
      const relayable = camera.profiles[0];
      if (!relayable) {
        // Nothing in H.264: report what the camera has, without pulling it.
        const facts: CameraFacts = {
          url: opts.url,
          codec: normaliseCodec(profile.encoding),
          profile: null,
          width: profile.width,
          height: profile.height,
          fps: profile.fps ?? null,
          gopSeconds: profile.govLength !== undefined && profile.fps ? round1(profile.govLength / profile.fps) : null,
          bframes: null,
          bitrateKbps: null,
          audioCodec: null,
          keyframeOnDemand: true,
          keyframesSeen: 0,
          sampledMs: 0,
        };
        return checkResult(facts);
      }
      return await measureRtsp({ ...opts, url: relayable.rtspUri, timeoutMs }, opts.url, true);
    } finally {
      camera.close();
    }
  }
  if (url.protocol !== 'rtsp:') throw new GatewayError('BAD_REQUEST', `unsupported scheme ${url.protocol}; give rtsp://… or the camera’s ONVIF http(s):// address`);
  return measureRtsp({ ...opts, timeoutMs }, opts.url, false);
}

async function measureRtsp(opts: CheckOptions & { timeoutMs: number }, reportedUrl: string, keyframeOnDemand: boolean): Promise<CheckResult> {
  let client: RtspClient | undefined;
  try {
    client = await RtspClient.connect(opts.url, { username: opts.username, password: opts.password, timeoutMs: opts.timeoutMs, allowBasic: opts.allowBasic, logger: opts.logger });
    const description = await client.describe();
    const { videoCodec, audioCodec } = codecsOf(description.sdp);
    const track = findH264Track(description);
    const base = { url: reportedUrl, audioCodec, keyframeOnDemand };
    if (!track) {
      const facts: CameraFacts = { ...base, codec: videoCodec, profile: null, width: null, height: null, fps: null, gopSeconds: null, bframes: null, bitrateKbps: null, keyframesSeen: 0, sampledMs: 0 };
      return checkResult(facts);
    }
    const { channels } = await client.setup(track.control, 0);
    await client.play();
    const sample = await sampleStream(client, channels[0], opts.sampleMs ?? 12_000);
    const sps = sample.sps ?? track.fmtp.spropParameterSets.find((p) => nalType(p) === NalType.Sps);
    let info: ReturnType<typeof parseSps> | undefined;
    try {
      info = sps ? parseSps(sps) : undefined;
    } catch {
      info = undefined;
    }
    const facts: CameraFacts = {
      ...base,
      codec: 'H264',
      profile: info ? profileName(info.profileIdc, info.constraintFlags) : profileFromId(track.fmtp.profileLevelId),
      width: info?.width ?? null,
      height: info?.height ?? null,
      fps: sample.fps,
      gopSeconds: sample.gopSeconds,
      bframes: sample.frames > 0 ? sample.bframes : null,
      bitrateKbps: sample.bitrateKbps,
      keyframesSeen: sample.keyframes,
      sampledMs: sample.sampledMs,
    };
    return checkResult(facts);
  } catch (err) {
    throw fromCameraError(err);
  } finally {
    await client?.close();
  }
}

interface Sample {
  frames: number;
  keyframes: number;
  fps: number | null;
  gopSeconds: number | null;
  bframes: boolean;
  bitrateKbps: number | null;
  sps: Buffer | undefined;
  sampledMs: number;
}

/** Collects access units until two key frames and {@link MIN_SAMPLE_MS} have passed, or `maxMs`. */
function sampleStream(client: RtspClient, channel: number, maxMs: number): Promise<Sample> {
  const depack = new H264Depacketizer();
  const started = Date.now();
  let frames = 0;
  let bytes = 0;
  let firstTs: number | undefined;
  let lastTs: number | undefined;
  const keyTs: number[] = [];
  let bframes = false;
  let sps: Buffer | undefined;
  let lastPacket = started;
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearInterval(tick);
      client.off('rtp', onRtp);
      client.off('close', onClose);
      if (err) return reject(err);
      if (frames === 0) return reject(new GatewayError('TIMEOUT', `the camera accepted the stream request but sent no video within ${Math.round((Date.now() - started) / 1000)} s`));
      const span = lastTs !== undefined && firstTs !== undefined ? ((lastTs - firstTs) >>> 0) / 90_000 : 0;
      const gaps = keyTs.slice(1).map((t, i) => ((t - keyTs[i]) >>> 0) / 90_000);
      resolve({
        frames,
        keyframes: keyTs.length,
        fps: span > 0 && frames > 1 ? round1((frames - 1) / span) : null,
        gopSeconds: gaps.length > 0 ? round1(gaps.reduce((a, b) => a + b, 0) / gaps.length) : null,
        bframes,
        bitrateKbps: span > 0 ? Math.round((bytes * 8) / span / 1000) : null,
        sps,
        sampledMs: Date.now() - started,
      });
    };
    const onRtp = (ch: number, packet: Buffer): void => {
      if (ch !== channel) return;
      lastPacket = Date.now();
      let units;
      try {
        units = depack.push(parseRtp(packet));
      } catch (err) {
        return finish(new GatewayError('UNSUPPORTED', `the camera sends malformed H.264 over RTP: ${(err as Error).message}`));
      }
      for (const au of units) {
        frames++;
        firstTs ??= au.timestamp;
        lastTs = au.timestamp;
        for (const nal of au.nalus) {
          bytes += nal.length;
          const t = nalType(nal);
          if (t === NalType.Sps) sps ??= nal;
          else if (t === NalType.NonIdrSlice && sliceKind(nal) === 'B') bframes = true;
        }
        if (au.keyframe) keyTs.push(au.timestamp);
      }
      if (keyTs.length >= 2 && Date.now() - started >= MIN_SAMPLE_MS) finish();
    };
    const onClose = (err?: Error): void => finish(err ?? new RtspError('RTSP_CLOSED', 'the camera closed the connection while being checked'));
    const tick = setInterval(() => {
      const now = Date.now();
      if (now - started >= maxMs) finish();
      else if (now - lastPacket >= SILENCE_MS) finish(frames > 0 ? undefined : new GatewayError('TIMEOUT', `the camera sent no video within ${Math.round((now - started) / 1000)} s`));
    }, 100);
    client.on('rtp', onRtp);
    client.once('close', onClose);
  });
}

/** The first video and audio codec names of a DESCRIBE (rtpmap, or the static RTP/AVP payload types of RFC 3551). */
function codecsOf(sdp: SdpSession): { videoCodec: string | null; audioCodec: string | null } {
  const STATIC: Record<number, string> = { 0: 'PCMU', 8: 'PCMA', 26: 'JPEG', 34: 'H263' };
  const first = (type: string): string | null => {
    for (const m of sdp.media) {
      if (m.type !== type) continue;
      for (const f of m.formats) {
        const pt = Number(f);
        if (!Number.isInteger(pt)) continue;
        const name = getRtpmap(m, pt)?.encodingName ?? STATIC[pt];
        if (name) return normaliseCodec(name);
      }
    }
    return null;
  };
  return { videoCodec: first('video'), audioCodec: first('audio') };
}

function normaliseCodec(name: string): string {
  const n = name.toUpperCase();
  if (n === 'HEVC') return 'H265';
  if (n === 'MPEG4-GENERIC' || n === 'MP4A-LATM') return 'AAC';
  return n.slice(0, 32);
}

/** H.264 Annex A profile names. */
function profileName(idc: number, constraints: number): string {
  switch (idc) {
    case 66:
      return (constraints & 0x40) !== 0 ? 'Constrained Baseline' : 'Baseline';
    case 77:
      return 'Main';
    case 88:
      return 'Extended';
    case 100:
      return 'High';
    case 110:
      return 'High 10';
    case 122:
      return 'High 4:2:2';
    case 244:
      return 'High 4:4:4';
    case 44:
      return 'CAVLC 4:4:4';
    default:
      return `profile ${idc}`;
  }
}

function profileFromId(profileLevelId: string | undefined): string | null {
  if (!profileLevelId || !/^[0-9a-f]{6}$/i.test(profileLevelId)) return null;
  return profileName(Number.parseInt(profileLevelId.slice(0, 2), 16), Number.parseInt(profileLevelId.slice(2, 4), 16));
}

/** What went wrong, in the gateway's codes, with words school IT understands. */
export function fromCameraError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof RtspError) {
    switch (err.code) {
      case 'RTSP_CONNECT_FAILED':
        return new GatewayError('UNREACHABLE', `cannot reach the camera: ${err.message}`, { cause: err });
      case 'RTSP_TIMEOUT':
        return new GatewayError('TIMEOUT', `the camera did not answer in time: ${err.message}`, { cause: err });
      case 'RTSP_UNAUTHORIZED':
        return new GatewayError('AUTH', 'the camera refused the user name or password', { cause: err });
      case 'RTSP_BASIC_REFUSED':
        return new GatewayError('AUTH', 'the camera offers only Basic authentication, which sends the password in the clear; allow it explicitly (--allow-basic) or switch the camera to Digest', { cause: err });
      case 'RTSP_BAD_URL':
        return new GatewayError('BAD_REQUEST', err.message, { cause: err });
      case 'RTSP_STATUS':
        return err.statusCode === 404
          ? new GatewayError('NOT_FOUND', 'the camera has no stream at this address (RTSP 404); check the path', { cause: err })
          : new GatewayError('UNSUPPORTED', `the camera refused the stream: ${err.message}`, { cause: err });
      case 'RTSP_CLOSED':
        return new GatewayError('UNREACHABLE', `the camera closed the connection: ${err.message}`, { cause: err });
      default:
        return new GatewayError('UNSUPPORTED', `the camera answered something the gateway cannot use: ${err.message}`, { cause: err });
    }
  }
  if (err instanceof OnvifError) {
    switch (err.code) {
      case 'ONVIF_UNREACHABLE':
        return new GatewayError('UNREACHABLE', `cannot reach the camera’s ONVIF service: ${err.message}`, { cause: err });
      case 'ONVIF_TIMEOUT':
        return new GatewayError('TIMEOUT', `the camera’s ONVIF service did not answer in time: ${err.message}`, { cause: err });
      case 'ONVIF_AUTH':
        return new GatewayError('AUTH', 'the camera refused the ONVIF user name or password', { cause: err });
      default:
        return new GatewayError('UNSUPPORTED', `the camera’s ONVIF answer cannot be used: ${err.message}`, { cause: err });
    }
  }
  return new GatewayError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
