/**
 * SDP (RFC 4566) as RTSP uses it: parse and serialize sessions with media sections,
 * plus the H.264 helpers of RFC 6184 §8.1 (fmtp) and §8.2.1 (offer for one track).
 *
 * Parsing is lenient where cameras are sloppy (LF-only line ends, missing o=/s=/t=,
 * unknown line types) and strict about size: limits below, typed {@link SdpParseError}.
 */
import { NalType, nalType } from '../h264/nal';

/** Largest SDP accepted, in bytes (RTSP bodies are capped at 64 KiB too). */
export const MAX_SDP_BYTES = 64 * 1024;
/** Longest single line. */
export const MAX_SDP_LINE = 8 * 1024;
/** Most lines in one description. */
export const MAX_SDP_LINES = 1024;
/** Most m= sections. */
export const MAX_SDP_MEDIA = 64;

export type SdpParseErrorCode = 'SDP_TOO_LARGE' | 'SDP_BAD_LINE' | 'SDP_BAD_VERSION' | 'SDP_BAD_MEDIA' | 'SDP_BAD_FMTP';

export class SdpParseError extends Error {
  override readonly name = 'SdpParseError';
  constructor(
    readonly code: SdpParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** `a=name:value`, or `a=name` (a property attribute) with `value` undefined. */
export interface SdpAttribute {
  name: string;
  value?: string;
}

/** A line this module keeps verbatim (i=, u=, e=, p=, r=, z=, k=, or unknown types). */
export interface SdpLine {
  type: string;
  value: string;
}

/** o= (RFC 4566 §5.2). */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** m= and everything up to the next m= (§5.14). */
export interface SdpMediaSection {
  /** `video`, `audio`, `application`… */
  type: string;
  port: number;
  /** The `/<number of ports>` suffix, when present. */
  numPorts?: number;
  /** `RTP/AVP` for RTSP. */
  protocol: string;
  /** Payload types for RTP profiles, as strings. */
  formats: string[];
  /** c= (raw value). */
  connection?: string;
  /** b= lines (raw values). */
  bandwidths: string[];
  attributes: SdpAttribute[];
  /** Other lines inside the section (i=, k=, unknown), in order. */
  otherLines: SdpLine[];
}

export interface SdpSession {
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  connection?: string;
  bandwidths: string[];
  /** t= values; at least one on serialize (`0 0` when empty). */
  timing: string[];
  attributes: SdpAttribute[];
  /** Other session-level lines (i=, u=, e=, p=, r=, z=, k=, unknown), in order. */
  otherLines: SdpLine[];
  media: SdpMediaSection[];
}

const DEFAULT_ORIGIN: SdpOrigin = {
  username: '-',
  sessionId: '0',
  sessionVersion: '0',
  netType: 'IN',
  addrType: 'IP4',
  address: '127.0.0.1',
};

/** Parses an SDP description. Throws {@link SdpParseError} on malformed or oversized input. */
export function parseSdp(text: string): SdpSession {
  if (Buffer.byteLength(text, 'utf8') > MAX_SDP_BYTES) throw new SdpParseError('SDP_TOO_LARGE', `SDP larger than ${MAX_SDP_BYTES} bytes`);
  const lines = text.split('\n');
  if (lines.length > MAX_SDP_LINES + 1) throw new SdpParseError('SDP_TOO_LARGE', `SDP has more than ${MAX_SDP_LINES} lines`);
  const session: SdpSession = {
    version: -1,
    origin: { ...DEFAULT_ORIGIN },
    sessionName: '-',
    bandwidths: [],
    timing: [],
    attributes: [],
    otherLines: [],
    media: [],
  };
  let media: SdpMediaSection | undefined;
  for (let rawLine of lines) {
    if (rawLine.endsWith('\r')) rawLine = rawLine.slice(0, -1);
    const line = rawLine.trimEnd();
    if (line.length === 0) continue;
    if (line.length > MAX_SDP_LINE) throw new SdpParseError('SDP_TOO_LARGE', `SDP line longer than ${MAX_SDP_LINE} characters`);
    if (line.length < 2 || line[1] !== '=' || !/^[a-zA-Z]$/.test(line[0])) {
      throw new SdpParseError('SDP_BAD_LINE', `malformed SDP line ${JSON.stringify(line.slice(0, 40))}`);
    }
    const type = line[0];
    const value = line.slice(2);
    if (session.version < 0) {
      // §5: the description starts with v=; only version 0 exists.
      if (type !== 'v' || value.trim() !== '0') throw new SdpParseError('SDP_BAD_VERSION', 'SDP must start with v=0');
      session.version = 0;
      continue;
    }
    if (type === 'm') {
      if (session.media.length >= MAX_SDP_MEDIA) throw new SdpParseError('SDP_TOO_LARGE', `more than ${MAX_SDP_MEDIA} media sections`);
      media = parseMediaLine(value);
      session.media.push(media);
      continue;
    }
    if (media) {
      switch (type) {
        case 'c':
          media.connection = value;
          break;
        case 'b':
          media.bandwidths.push(value);
          break;
        case 'a':
          media.attributes.push(parseAttribute(value));
          break;
        default:
          media.otherLines.push({ type, value });
      }
      continue;
    }
    switch (type) {
      case 'v':
        throw new SdpParseError('SDP_BAD_VERSION', 'second v= line');
      case 'o':
        session.origin = parseOrigin(value);
        break;
      case 's':
        session.sessionName = value.length > 0 ? value : '-';
        break;
      case 'c':
        session.connection = value;
        break;
      case 'b':
        session.bandwidths.push(value);
        break;
      case 't':
        session.timing.push(value);
        break;
      case 'a':
        session.attributes.push(parseAttribute(value));
        break;
      default:
        session.otherLines.push({ type, value });
    }
  }
  if (session.version < 0) throw new SdpParseError('SDP_BAD_VERSION', 'empty SDP');
  return session;
}

function parseOrigin(value: string): SdpOrigin {
  const f = value.trim().split(/\s+/);
  // Lenient: cameras omit fields; keep what is there and default the rest.
  return {
    username: f[0] || DEFAULT_ORIGIN.username,
    sessionId: f[1] ?? DEFAULT_ORIGIN.sessionId,
    sessionVersion: f[2] ?? DEFAULT_ORIGIN.sessionVersion,
    netType: f[3] ?? DEFAULT_ORIGIN.netType,
    addrType: f[4] ?? DEFAULT_ORIGIN.addrType,
    address: f[5] ?? DEFAULT_ORIGIN.address,
  };
}

function parseMediaLine(value: string): SdpMediaSection {
  const f = value.trim().split(/\s+/);
  const m = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(f[1] ?? '');
  if (f.length < 3 || !f[0] || !m) throw new SdpParseError('SDP_BAD_MEDIA', `malformed m= line ${JSON.stringify(value.slice(0, 40))}`);
  const port = Number(m[1]);
  if (port > 65_535) throw new SdpParseError('SDP_BAD_MEDIA', `m= port ${port} out of range`);
  const section: SdpMediaSection = {
    type: f[0],
    port,
    protocol: f[2],
    formats: f.slice(3),
    bandwidths: [],
    attributes: [],
    otherLines: [],
  };
  if (m[2] !== undefined) section.numPorts = Number(m[2]);
  return section;
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value.trim() };
  return { name: value.slice(0, colon).trim(), value: value.slice(colon + 1) };
}

/** Serializes with CRLF line ends, lines in the order RFC 4566 §5 requires. */
export function serializeSdp(s: SdpSession): string {
  const out: string[] = [];
  const o = s.origin;
  out.push('v=0', `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`, `s=${s.sessionName || '-'}`);
  const before = ['i', 'u', 'e', 'p'];
  for (const l of s.otherLines) if (before.includes(l.type)) out.push(`${l.type}=${l.value}`);
  if (s.connection !== undefined) out.push(`c=${s.connection}`);
  for (const b of s.bandwidths) out.push(`b=${b}`);
  for (const t of s.timing.length > 0 ? s.timing : ['0 0']) out.push(`t=${t}`);
  for (const l of s.otherLines) if (!before.includes(l.type)) out.push(`${l.type}=${l.value}`);
  for (const a of s.attributes) out.push(formatAttribute(a));
  for (const m of s.media) {
    const port = m.numPorts === undefined ? `${m.port}` : `${m.port}/${m.numPorts}`;
    out.push(`m=${[m.type, port, m.protocol, ...m.formats].join(' ')}`);
    for (const l of m.otherLines) if (l.type === 'i') out.push(`i=${l.value}`);
    if (m.connection !== undefined) out.push(`c=${m.connection}`);
    for (const b of m.bandwidths) out.push(`b=${b}`);
    for (const l of m.otherLines) if (l.type !== 'i') out.push(`${l.type}=${l.value}`);
    for (const a of m.attributes) out.push(formatAttribute(a));
  }
  for (const line of out) {
    if (/[\r\n]/.test(line)) throw new RangeError('CR or LF inside an SDP field');
  }
  return `${out.join('\r\n')}\r\n`;
}

function formatAttribute(a: SdpAttribute): string {
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

/** First value of an attribute (by name, case-sensitive as in §5.13), or undefined. */
export function getAttribute(attrs: readonly SdpAttribute[], name: string): string | undefined {
  return attrs.find((a) => a.name === name)?.value;
}

/** a=rtpmap (§6): `<payload type> <encoding name>/<clock rate>[/<channels>]`. */
export interface Rtpmap {
  payloadType: number;
  encodingName: string;
  clockRate: number;
  channels?: number;
}

/** The rtpmap of one payload type in a media section, or undefined. Clock rate 0 is rejected (gortsplib 3e555e2d). */
export function getRtpmap(media: SdpMediaSection, payloadType: number): Rtpmap | undefined {
  for (const a of media.attributes) {
    if (a.name !== 'rtpmap' || a.value === undefined) continue;
    const m = /^\s*(\d{1,3})\s+([^/\s]+)\/(\d{1,10})(?:\/(\d{1,3}))?\s*$/.exec(a.value);
    if (!m || Number(m[1]) !== payloadType) continue;
    const clockRate = Number(m[3]);
    if (clockRate <= 0) return undefined;
    const out: Rtpmap = { payloadType, encodingName: m[2], clockRate };
    if (m[4] !== undefined) out.channels = Number(m[4]);
    return out;
  }
  return undefined;
}

/** The fmtp parameters string of one payload type (without the payload type), or undefined. */
export function getFmtp(media: SdpMediaSection, payloadType: number): string | undefined {
  for (const a of media.attributes) {
    if (a.name !== 'fmtp' || a.value === undefined) continue;
    const m = /^\s*(\d{1,3})\s+([\s\S]*)$/.exec(a.value);
    if (m && Number(m[1]) === payloadType) return m[2].trim();
  }
  return undefined;
}

/** `k=v;k2=v2` → map with lower-case keys. Later duplicates win. */
export function parseFmtpParameters(fmtp: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of fmtp.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(p.toLowerCase(), '');
    else out.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  return out;
}

/** H.264 fmtp parameters of RFC 6184 §8.1 that a receiver needs. */
export interface H264Fmtp {
  /** 0 (single NAL), 1 (non-interleaved) or 2 (interleaved). Default 0 per §8.1. */
  packetizationMode: number;
  /** Six hex digits (profile_idc, constraint flags, level_idc), when given. */
  profileLevelId?: string;
  /** Decoded `sprop-parameter-sets`, in order: normally SPS then PPS. */
  spropParameterSets: Buffer[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses H.264 fmtp parameters. Accepts the bare parameter list or the whole
 * a=fmtp value with its leading payload type. Throws {@link SdpParseError}
 * (`SDP_BAD_FMTP`) for a bad packetization-mode, profile-level-id or base64.
 */
export function parseH264Fmtp(fmtp: string): H264Fmtp {
  const withoutPt = fmtp.replace(/^\s*\d{1,3}\s+/, '');
  const params = parseFmtpParameters(withoutPt);
  const out: H264Fmtp = { packetizationMode: 0, spropParameterSets: [] };
  const mode = params.get('packetization-mode');
  if (mode !== undefined) {
    if (!/^[0-2]$/.test(mode)) throw new SdpParseError('SDP_BAD_FMTP', `bad packetization-mode ${JSON.stringify(mode.slice(0, 8))}`);
    out.packetizationMode = Number(mode);
  }
  const pli = params.get('profile-level-id');
  if (pli !== undefined) {
    if (!/^[0-9A-Fa-f]{6}$/.test(pli)) throw new SdpParseError('SDP_BAD_FMTP', `bad profile-level-id ${JSON.stringify(pli.slice(0, 8))}`);
    out.profileLevelId = pli.toLowerCase();
  }
  const sprop = params.get('sprop-parameter-sets');
  if (sprop !== undefined) {
    for (const item of sprop.split(',')) {
      const b64 = item.trim();
      if (!b64) continue;
      if (!BASE64.test(b64)) throw new SdpParseError('SDP_BAD_FMTP', 'sprop-parameter-sets is not base64');
      const nal = Buffer.from(b64, 'base64');
      if (nal.length > 0) out.spropParameterSets.push(nal);
    }
  }
  return out;
}

export interface H264TrackOptions {
  /** Sequence parameter set NAL unit (no start code). */
  sps: Buffer;
  /** Picture parameter set NAL unit (no start code). */
  pps: Buffer;
  /** Default 96. */
  payloadType?: number;
  /** Default `trackID=0`. */
  control?: string;
  /** Default 1 (FU-A/STAP-A allowed). */
  packetizationMode?: number;
}

/** An m=video section for one H.264 track (RFC 6184 §8.2.1), profile-level-id taken from the SPS. */
export function h264MediaSection(opts: H264TrackOptions): SdpMediaSection {
  if (opts.sps.length < 4 || nalType(opts.sps) !== NalType.Sps) throw new RangeError('sps is not an H.264 SPS NAL unit');
  if (opts.pps.length < 1 || nalType(opts.pps) !== NalType.Pps) throw new RangeError('pps is not an H.264 PPS NAL unit');
  const pt = opts.payloadType ?? 96;
  const profileLevelId = opts.sps.subarray(1, 4).toString('hex');
  const sprop = `${opts.sps.toString('base64')},${opts.pps.toString('base64')}`;
  return {
    type: 'video',
    port: 0,
    protocol: 'RTP/AVP',
    formats: [String(pt)],
    bandwidths: [],
    otherLines: [],
    attributes: [
      { name: 'rtpmap', value: `${pt} H264/90000` },
      { name: 'fmtp', value: `${pt} packetization-mode=${opts.packetizationMode ?? 1};profile-level-id=${profileLevelId};sprop-parameter-sets=${sprop}` },
      { name: 'control', value: opts.control ?? 'trackID=0' },
    ],
  };
}

export interface H264SdpOptions extends H264TrackOptions {
  /** s= line. Default `Stream`. */
  sessionName?: string;
  /** Address for o= and c=. Default 127.0.0.1 (RTSP clients ignore it for TCP). */
  address?: string;
}

/** A complete SDP for a single H.264 video track, as an RTSP server answers DESCRIBE. */
export function buildH264Sdp(opts: H264SdpOptions): string {
  const address = opts.address ?? '127.0.0.1';
  const ip6 = address.includes(':');
  return serializeSdp({
    version: 0,
    origin: { ...DEFAULT_ORIGIN, sessionId: String(Date.now()), sessionVersion: '1', addrType: ip6 ? 'IP6' : 'IP4', address },
    sessionName: opts.sessionName ?? 'Stream',
    connection: `IN ${ip6 ? 'IP6' : 'IP4'} ${ip6 ? '::' : '0.0.0.0'}`,
    bandwidths: [],
    timing: ['0 0'],
    // RFC 2326 §C.1.1: "*" makes the Content-Base the aggregate control URL.
    attributes: [{ name: 'tool', value: 'schoolcam' }, { name: 'range', value: 'npt=0-' }, { name: 'control', value: '*' }],
    otherLines: [],
    media: [h264MediaSection(opts)],
  });
}
