/**
 * Parsers for the structured RTSP headers this package uses: Transport (RFC 2326
 * §12.39) and Session (§12.37). Both return typed errors for bad values instead of
 * throwing, because the values come straight from the network.
 */
import { RtspError } from './rtsp-error';

/** One transport specification from a Transport header. */
export interface TransportSpec {
  /** `RTP/AVP` for everything we handle. */
  protocol: string;
  /** `TCP` for interleaved, `UDP` otherwise (the default when the profile has no suffix). */
  lowerTransport: 'TCP' | 'UDP';
  /** False when `multicast` was given. */
  unicast: boolean;
  /** RTP and RTCP interleaved channels (RFC 2326 §10.12). */
  interleaved?: readonly [number, number];
  clientPort?: readonly [number, number];
  serverPort?: readonly [number, number];
  ssrc?: string;
  mode?: string;
}

/**
 * Parses a Transport header: a comma-separated list of specs in order of preference.
 * Unknown parameters are ignored, as §12.39 requires.
 */
export function parseTransport(value: string): TransportSpec[] | RtspError {
  const specs: TransportSpec[] = [];
  for (const raw of value.split(',')) {
    const parts = raw.split(';').map((p) => p.trim());
    const proto = parts[0];
    const m = /^([A-Za-z]+\/[A-Za-z]+)(?:\/(TCP|UDP))?$/i.exec(proto);
    if (!m) return new RtspError('RTSP_BAD_HEADER_VALUE', `unsupported transport ${JSON.stringify(proto.slice(0, 32))}`);
    const spec: TransportSpec = {
      protocol: m[1].toUpperCase(),
      lowerTransport: (m[2]?.toUpperCase() ?? 'UDP') as 'TCP' | 'UDP',
      unicast: true,
    };
    for (const param of parts.slice(1)) {
      if (param.length === 0) continue;
      const eq = param.indexOf('=');
      const key = (eq < 0 ? param : param.slice(0, eq)).toLowerCase();
      const val = eq < 0 ? '' : param.slice(eq + 1).replace(/^"|"$/g, '');
      switch (key) {
        case 'unicast':
          spec.unicast = true;
          break;
        case 'multicast':
          spec.unicast = false;
          break;
        case 'interleaved': {
          const range = parseRange(val, 255);
          if (!range) return new RtspError('RTSP_BAD_HEADER_VALUE', `bad interleaved=${JSON.stringify(val.slice(0, 16))}`);
          spec.interleaved = range;
          break;
        }
        case 'client_port': {
          const range = parseRange(val, 65_535);
          if (!range) return new RtspError('RTSP_BAD_HEADER_VALUE', `bad client_port=${JSON.stringify(val.slice(0, 16))}`);
          spec.clientPort = range;
          break;
        }
        case 'server_port': {
          const range = parseRange(val, 65_535);
          if (!range) return new RtspError('RTSP_BAD_HEADER_VALUE', `bad server_port=${JSON.stringify(val.slice(0, 16))}`);
          spec.serverPort = range;
          break;
        }
        case 'ssrc':
          spec.ssrc = val;
          break;
        case 'mode':
          spec.mode = val.toUpperCase();
          break;
        default:
          break;
      }
    }
    specs.push(spec);
  }
  return specs;
}

/** `a` or `a-b` with both ends in [0, max]; `a` alone means `a-(a+1)` (§12.39 interleaved). */
function parseRange(val: string, max: number): readonly [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(val);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) return undefined;
  return [a, b];
}

/** Formats one spec as a Transport header value. */
export function formatTransport(spec: TransportSpec): string {
  const parts = [spec.lowerTransport === 'TCP' ? `${spec.protocol}/TCP` : spec.protocol, spec.unicast ? 'unicast' : 'multicast'];
  if (spec.interleaved) parts.push(`interleaved=${spec.interleaved[0]}-${spec.interleaved[1]}`);
  if (spec.clientPort) parts.push(`client_port=${spec.clientPort[0]}-${spec.clientPort[1]}`);
  if (spec.serverPort) parts.push(`server_port=${spec.serverPort[0]}-${spec.serverPort[1]}`);
  if (spec.ssrc !== undefined) parts.push(`ssrc=${spec.ssrc}`);
  if (spec.mode !== undefined) parts.push(`mode=${spec.mode}`);
  return parts.join(';');
}

/** Session header (§12.37): `id[;timeout=N]`. */
export interface SessionHeader {
  id: string;
  /** Seconds, when the server gave one. */
  timeoutSec?: number;
}

export function parseSession(value: string): SessionHeader | RtspError {
  const parts = value.split(';').map((p) => p.trim());
  const id = parts[0];
  // §3.4: session-id = 1*( ALPHA | DIGIT | safe ); we also allow a few extra chars cameras use.
  if (!/^[A-Za-z0-9$\-_.+!*'(),:~]{1,128}$/.test(id)) {
    return new RtspError('RTSP_BAD_HEADER_VALUE', `bad session id ${JSON.stringify(id.slice(0, 32))}`);
  }
  const out: SessionHeader = { id };
  for (const p of parts.slice(1)) {
    const m = /^timeout\s*=\s*(\d{1,6})$/i.exec(p);
    if (m) {
      const t = Number(m[1]);
      if (t > 0) out.timeoutSec = t;
    }
  }
  return out;
}
