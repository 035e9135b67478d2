/**
 * RTSP 1.0 client (RFC 2326) for pulling live video over TCP interleaving (§10.12),
 * or over UDP unicast (§12.39 `client_port`) with `transport: 'udp'`.
 *
 * - Requests are matched to responses by CSeq (§12.17), several may be outstanding.
 * - A 401 is answered once with Digest (preferred) or, only with `allowBasic`, Basic
 *   credentials (RFC 2617), and again only when the server says `stale=true`.
 * - After SETUP a keepalive runs every session-timeout/2 (§12.37): GET_PARAMETER,
 *   switching to OPTIONS if the server answers 405/501 (many cameras).
 * - "Failed to connect" rejects {@link RtspClient.connect}; "the server went away
 *   later" is the `close` event with an Error.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { DigestClientState, parseWwwAuthenticate } from './digest-auth';
import { RtspError } from './rtsp-error';
import { formatTransport, parseSession, parseTransport, type TransportSpec } from './rtsp-headers';
import { silentLogger, type RtspLogger } from './rtsp-logger';
import { UdpPortPair } from './udp-port-pair';
import {
  getHeader,
  getHeaders,
  RtspStreamParser,
  serializeRequest,
  serializeResponse,
  type RtspFrame,
  type RtspHeader,
  type RtspResponse,
} from './rtsp-message';
import { getAttribute, getFmtp, getRtpmap, parseH264Fmtp, parseSdp, type H264Fmtp, type SdpSession } from '../sdp/sdp';

export interface RtspClientOptions {
  /** Overrides the URL's userinfo. */
  username?: string;
  /** Overrides the URL's userinfo. */
  password?: string;
  /** Connect and per-request response timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Default `schoolcam-rtsp`. */
  userAgent?: string;
  /** Keepalive period; default half the session timeout the server announced (60 s if none). */
  keepaliveIntervalMs?: number;
  /** Default: silent. */
  logger?: RtspLogger;
  /**
   * Answer a Basic-only challenge (RFC 2617 §2: the password crosses the network base64-encoded,
   * i.e. in the clear). Default false: such a server gets `RTSP_BASIC_REFUSED` and never sees the
   * password. Digest is always used when offered.
   */
  allowBasic?: boolean;
  /**
   * `tcp` (default): RTP interleaved on the RTSP connection. `udp`: each SETUP binds an
   * RTP/RTCP port pair on the local interface the connection uses and asks for
   * `client_port`; packets arrive as `rtp`/`rtcp` events on the channel numbers
   * passed to {@link RtspClient.setup} (pseudo-channels), only from the server's address.
   */
  transport?: 'tcp' | 'udp';
}

/** Typed events of {@link RtspClient}. */
export interface RtspClientEvents {
  /** An interleaved frame on an RTP channel set up with {@link RtspClient.setup}: one complete RTP packet. */
  rtp: [channel: number, packet: Buffer];
  /** An interleaved frame on an RTCP channel (the odd one of each pair). */
  rtcp: [channel: number, packet: Buffer];
  /** The connection is gone. `error` is set when it was not our own `close()`. Emitted once. */
  close: [error?: Error];
}

/** Result of DESCRIBE. */
export interface RtspDescription {
  sdp: SdpSession;
  raw: string;
  /** Base for relative control URLs: Content-Base, else Content-Location, else the request URL (RFC 2326 §C.1.1). */
  contentBase: string;
}

/** Result of SETUP. */
export interface RtspSetupResult {
  sessionId: string;
  /** Session timeout the server announced, or 60 (the RFC 2326 §12.37 default). */
  timeoutSec: number;
  /** RTP and RTCP channels the server will actually use (for UDP: the pseudo-channels the events carry). */
  channels: readonly [number, number];
  transport: TransportSpec;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_PORT = 554;

interface Pending {
  resolve: (res: RtspResponse) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

/**
 * An RTSP client on one TCP connection. Listeners for `rtp` attached right after an
 * awaited `play()` (in the same tick chain) see every packet: frames that arrive in
 * the same TCP read as a response are delivered after the response's promise settles.
 */
export class RtspClient extends EventEmitter<RtspClientEvents> {
  /** The URL without userinfo. */
  readonly url: string;
  private readonly parser = new RtspStreamParser();
  private readonly pending = new Map<number, Pending>();
  private readonly rtpChannels = new Set<number>();
  private readonly rtcpChannels = new Set<number>();
  /** UDP tracks by their RTP pseudo-channel. */
  private readonly udpTracks = new Map<number, { pair: UdpPortPair; serverPorts?: readonly [number, number] }>();
  private readonly queue: RtspFrame[] = [];
  private draining: NodeJS.Immediate | undefined;
  private cseq = 0;
  private auth: DigestClientState | undefined;
  private sessionId: string | undefined;
  private contentBase: string | undefined;
  private aggregateControl: string | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private keepaliveMethod: 'GET_PARAMETER' | 'OPTIONS' = 'GET_PARAMETER';
  private closeError: Error | undefined;
  private userClosed = false;
  private finished = false;
  private readonly closed: Promise<void>;
  private readonly log: RtspLogger;
  private readonly timeoutMs: number;

  private constructor(
    private readonly socket: net.Socket,
    url: URL,
    private readonly credentials: { username: string; password: string } | undefined,
    private readonly opts: RtspClientOptions,
  ) {
    super();
    this.url = url.toString();
    this.log = opts.logger ?? silentLogger;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.closed = new Promise((resolve) => this.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.closeError ??= new RtspError('RTSP_CLOSED', `connection error: ${err.message}`, { cause: err });
    });
    socket.on('close', () => this.finish());
  }

  /**
   * Opens the TCP connection. Credentials come from `opts`, else from the URL's
   * userinfo. Rejects with `RTSP_BAD_URL`, `RTSP_CONNECT_FAILED` or `RTSP_TIMEOUT`.
   */
  static async connect(url: string, opts: RtspClientOptions = {}): Promise<RtspClient> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (err) {
      throw new RtspError('RTSP_BAD_URL', 'not a valid URL', { cause: err });
    }
    if (parsed.protocol !== 'rtsp:' || parsed.hostname === '') throw new RtspError('RTSP_BAD_URL', `not an rtsp:// URL (${parsed.protocol})`);
    const port = parsed.port === '' ? DEFAULT_PORT : Number(parsed.port);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const username = opts.username ?? (parsed.username ? safeDecode(parsed.username) : undefined);
    const password = opts.password ?? (parsed.password ? safeDecode(parsed.password) : undefined);
    parsed.username = '';
    parsed.password = '';
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new RtspError('RTSP_TIMEOUT', `connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new RtspError('RTSP_CONNECT_FAILED', `connect to ${host}:${port} failed: ${err.message}`, { cause: err }));
      };
      s.once('error', onError);
      s.once('connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        resolve(s);
      });
    });
    const creds = username !== undefined ? { username, password: password ?? '' } : undefined;
    return new RtspClient(socket, parsed, creds, opts);
  }

  /** The session id after a successful SETUP. */
  get session(): string | undefined {
    return this.sessionId;
  }

  /** True once the connection is gone. */
  get isClosed(): boolean {
    return this.finished;
  }

  /** OPTIONS (§10.1). */
  async options(): Promise<RtspResponse> {
    return expectOk(await this.request('OPTIONS', this.url, this.sessionHeaders()), 'OPTIONS');
  }

  /** DESCRIBE (§10.2): the SDP, parsed and raw, and the base for control URLs. */
  async describe(): Promise<RtspDescription> {
    const res = expectOk(await this.request('DESCRIBE', this.url, [['Accept', 'application/sdp']]), 'DESCRIBE');
    const raw = res.body.toString('utf8');
    const sdp = parseSdp(raw);
    const contentBase = getHeader(res.headers, 'content-base') ?? getHeader(res.headers, 'content-location') ?? this.url;
    this.contentBase = contentBase;
    const sessionControl = getAttribute(sdp.attributes, 'control');
    this.aggregateControl = sessionControl === undefined ? contentBase : resolveControlUrl(contentBase, sessionControl);
    return { sdp, raw, contentBase };
  }

  /**
   * SETUP (§10.4) one track over TCP interleaving on `interleavedChannel` (RTP) and
   * the next channel (RTCP). `trackControlUrl` may be relative to the Content-Base.
   */
  async setup(trackControlUrl: string, interleavedChannel: number): Promise<RtspSetupResult> {
    if (!Number.isInteger(interleavedChannel) || interleavedChannel < 0 || interleavedChannel > 254) {
      throw new RangeError(`interleaved channel ${interleavedChannel} out of 0..254`);
    }
    const uri = resolveControlUrl(this.contentBase ?? this.url, trackControlUrl);
    if (this.opts.transport === 'udp') return this.setupUdp(uri, interleavedChannel);
    const want: TransportSpec = {
      protocol: 'RTP/AVP',
      lowerTransport: 'TCP',
      unicast: true,
      interleaved: [interleavedChannel, interleavedChannel + 1],
    };
    const res = expectOk(await this.request('SETUP', uri, [['Transport', formatTransport(want)], ...this.sessionHeaders()]), 'SETUP');
    const sessionValue = getHeader(res.headers, 'session');
    const session = sessionValue === undefined ? new RtspError('RTSP_BAD_HEADER_VALUE', 'SETUP reply without Session') : parseSession(sessionValue);
    if (session instanceof RtspError) throw session;
    const transportValue = getHeader(res.headers, 'transport');
    const specs = transportValue === undefined ? [want] : parseTransport(transportValue);
    if (specs instanceof RtspError) throw specs;
    const transport = specs[0] ?? want;
    if (transport.lowerTransport !== 'TCP') throw new RtspError('RTSP_BAD_HEADER_VALUE', 'server answered SETUP with a non-TCP transport');
    // §12.39: the server may pick other channels; use the ones it names.
    const channels = transport.interleaved ?? want.interleaved!;
    this.rtpChannels.add(channels[0]);
    this.rtcpChannels.add(channels[1]);
    this.sessionId = session.id;
    const timeoutSec = session.timeoutSec ?? 60;
    this.startKeepalive(timeoutSec);
    return { sessionId: session.id, timeoutSec, channels, transport };
  }

  private async setupUdp(uri: string, channel: number): Promise<RtspSetupResult> {
    const local = this.socket.localAddress;
    const server = this.socket.remoteAddress;
    if (local === undefined || server === undefined) throw new RtspError('RTSP_CLOSED', 'SETUP: connection has no address');
    this.udpTracks.get(channel)?.pair.close();
    const track: { pair?: UdpPortPair; serverPorts?: readonly [number, number] } = {};
    const pair = await UdpPortPair.bind(local.replace(/^::ffff:/i, ''), (kind, packet, from) => {
      // Only the server's own address (and, once known, its server_port) may feed this track.
      if (this.finished || from.address.replace(/^::ffff:/i, '') !== server.replace(/^::ffff:/i, '')) return;
      if (track.serverPorts && from.port !== track.serverPorts[kind === 'rtp' ? 0 : 1]) return;
      if (kind === 'rtp' && this.rtpChannels.has(channel)) this.emit('rtp', channel, packet);
      else if (kind === 'rtcp' && this.rtcpChannels.has(channel + 1)) this.emit('rtcp', channel + 1, packet);
    });
    track.pair = pair;
    this.udpTracks.set(channel, track as { pair: UdpPortPair });
    if (this.finished) this.closeUdp();
    const want: TransportSpec = { protocol: 'RTP/AVP', lowerTransport: 'UDP', unicast: true, clientPort: [pair.rtpPort, pair.rtcpPort] };
    const res = expectOk(await this.request('SETUP', uri, [['Transport', formatTransport(want)], ...this.sessionHeaders()]), 'SETUP');
    const sessionValue = getHeader(res.headers, 'session');
    const session = sessionValue === undefined ? new RtspError('RTSP_BAD_HEADER_VALUE', 'SETUP reply without Session') : parseSession(sessionValue);
    if (session instanceof RtspError) throw session;
    const transportValue = getHeader(res.headers, 'transport');
    const specs = transportValue === undefined ? new RtspError('RTSP_BAD_HEADER_VALUE', 'SETUP reply without Transport') : parseTransport(transportValue);
    if (specs instanceof RtspError) throw specs;
    const transport = specs[0];
    if (transport?.lowerTransport !== 'UDP') throw new RtspError('RTSP_BAD_HEADER_VALUE', 'server answered a UDP SETUP with a non-UDP transport');
    track.serverPorts = transport.serverPort;
    this.rtpChannels.add(channel);
    this.rtcpChannels.add(channel + 1);
    this.sessionId = session.id;
    const timeoutSec = session.timeoutSec ?? 60;
    this.startKeepalive(timeoutSec);
    return { sessionId: session.id, timeoutSec, channels: [channel, channel + 1], transport };
  }

  /**
   * Sends one RTCP packet to the server's RTCP port (its `server_port`) for the UDP
   * track set up on `channel`, e.g. a receiver report that keeps the session alive.
   * No-op for TCP tracks.
   */
  sendRtcp(channel: number, packet: Buffer): void {
    const track = this.udpTracks.get(channel);
    const server = this.socket.remoteAddress;
    if (track?.serverPorts && server) track.pair.sendRtcp(packet, track.serverPorts[1], server.replace(/^::ffff:/i, ''));
  }

  /** PLAY (§10.5) the aggregate URL from `npt=0.000-` (live). */
  async play(): Promise<RtspResponse> {
    if (this.sessionId === undefined) throw new RtspError('RTSP_INVALID_STATE', 'play() before setup()');
    const uri = this.aggregateControl ?? this.contentBase ?? this.url;
    return expectOk(await this.request('PLAY', uri, [...this.sessionHeaders(), ['Range', 'npt=0.000-']]), 'PLAY');
  }

  /** TEARDOWN (§10.7) the session; the connection stays open. No-op without a session. */
  async teardown(): Promise<void> {
    if (this.sessionId === undefined) return;
    const uri = this.aggregateControl ?? this.contentBase ?? this.url;
    const headers = this.sessionHeaders();
    this.stopKeepalive();
    this.sessionId = undefined;
    this.rtpChannels.clear();
    this.rtcpChannels.clear();
    this.closeUdp();
    expectOk(await this.request('TEARDOWN', uri, headers), 'TEARDOWN');
  }

  /**
   * Sends one request and returns the response, whatever its status, except that a
   * 401 is retried with credentials (once, or again on `stale=true`) and a final 401
   * rejects with `RTSP_UNAUTHORIZED`.
   */
  async request(method: string, uri: string, headers: readonly RtspHeader[] = [], body?: string | Buffer): Promise<RtspResponse> {
    let res = await this.send(method, uri, headers, body);
    let retries = 0;
    while (res.statusCode === 401) {
      const challenges = parseWwwAuthenticate(getHeaders(res.headers, 'www-authenticate'));
      const stale = challenges.some((c) => c.params.stale?.toLowerCase() === 'true');
      if (!this.credentials) throw new RtspError('RTSP_UNAUTHORIZED', `${method}: server requires credentials and none were given`, { statusCode: 401 });
      if (retries > 0 && !(stale && retries < 3)) throw new RtspError('RTSP_UNAUTHORIZED', `${method}: credentials refused`, { statusCode: 401 });
      const auth = DigestClientState.fromChallenges(challenges, this.credentials.username, this.credentials.password);
      if (!auth) throw new RtspError('RTSP_UNAUTHORIZED', `${method}: no supported authentication scheme offered`, { statusCode: 401 });
      if (auth.scheme === 'Basic' && this.opts.allowBasic !== true) {
        throw new RtspError('RTSP_BASIC_REFUSED', `${method}: the server offers only Basic authentication, which sends the password in the clear; not allowed for this camera`, { statusCode: 401 });
      }
      this.auth = auth;
      retries++;
      res = await this.send(method, uri, headers, body);
    }
    return res;
  }

  /** Tears down (best effort, not awaited) and closes the connection. Idempotent; resolves once `close` was emitted. */
  close(): Promise<void> {
    if (!this.finished && !this.userClosed) {
      this.userClosed = true;
      this.stopKeepalive();
      if (this.sessionId !== undefined && this.socket.writable) {
        try {
          this.socket.write(this.buildRequest('TEARDOWN', this.aggregateControl ?? this.url, this.sessionHeaders()));
        } catch {
          // Best effort only.
        }
      }
      const force = setTimeout(() => this.socket.destroy(), 1000);
      this.socket.once('close', () => clearTimeout(force));
      this.socket.end(() => this.socket.destroy());
    }
    return this.closed;
  }

  private send(method: string, uri: string, headers: readonly RtspHeader[], body: string | Buffer | undefined): Promise<RtspResponse> {
    if (this.finished || this.userClosed) return Promise.reject(new RtspError('RTSP_CLOSED', `${method}: client is closed`));
    const cseq = this.cseq + 1;
    const data = this.buildRequest(method, uri, headers, body);
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new RtspError('RTSP_TIMEOUT', `${method}: no response within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(cseq, { resolve, reject, timer, method });
      this.socket.write(data);
    });
  }

  private buildRequest(method: string, uri: string, headers: readonly RtspHeader[], body?: string | Buffer): Buffer {
    const cseq = ++this.cseq;
    const all: RtspHeader[] = [
      ['CSeq', String(cseq)],
      ['User-Agent', this.opts.userAgent ?? 'schoolcam-rtsp'],
    ];
    if (this.auth) all.push(['Authorization', this.auth.authorization(method, uri)]);
    all.push(...headers);
    return serializeRequest({ method, uri, headers: all, body });
  }

  private sessionHeaders(): RtspHeader[] {
    return this.sessionId === undefined ? [] : [['Session', this.sessionId]];
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.parser.push(chunk);
    this.queue.push(...frames);
    this.drain();
    if (error) {
      this.log.warn({ url: this.url, code: error.code, err: error.message }, 'bad RTSP framing from server');
      this.closeError ??= error;
      this.socket.destroy();
    }
  }

  /**
   * Delivers queued frames in order. After a response settles a promise the rest
   * waits for setImmediate, so code awaiting that response can attach listeners
   * before the RTP that followed it in the same read.
   */
  private drain(): void {
    if (this.draining) return;
    while (this.queue.length > 0) {
      const frame = this.queue.shift()!;
      const answered = this.onFrame(frame);
      if (answered && this.queue.length > 0) {
        this.draining = setImmediate(() => {
          this.draining = undefined;
          this.drain();
        });
        return;
      }
    }
  }

  /** Returns true when the frame settled a pending request. */
  private onFrame(frame: RtspFrame): boolean {
    switch (frame.kind) {
      case 'interleaved':
        if (this.rtpChannels.has(frame.channel)) this.emit('rtp', frame.channel, frame.payload);
        else if (this.rtcpChannels.has(frame.channel)) this.emit('rtcp', frame.channel, frame.payload);
        return false;
      case 'response':
        return this.onResponse(frame);
      case 'request': {
        // Server-to-client requests (§10: OPTIONS, GET_PARAMETER, ANNOUNCE, REDIRECT…): liveness probes get 200.
        const cseq = getHeader(frame.headers, 'cseq');
        const ok = frame.method === 'OPTIONS' || frame.method === 'GET_PARAMETER';
        const headers: RtspHeader[] = cseq !== undefined && /^\d{1,10}$/.test(cseq) ? [['CSeq', cseq]] : [];
        if (this.socket.writable) this.socket.write(serializeResponse({ statusCode: ok ? 200 : 501, headers }));
        return false;
      }
      default: {
        const unreachable: never = frame;
        throw new Error(`unexpected frame ${String(unreachable)}`);
      }
    }
  }

  private onResponse(res: RtspResponse): boolean {
    const raw = getHeader(res.headers, 'cseq')?.trim();
    let cseq = raw !== undefined && /^\d{1,10}$/.test(raw) ? Number(raw) : undefined;
    // Some cameras drop CSeq; with exactly one request outstanding the match is unambiguous.
    if (cseq === undefined && this.pending.size === 1) cseq = [...this.pending.keys()][0];
    const p = cseq === undefined ? undefined : this.pending.get(cseq);
    if (!p) {
      this.log.debug({ url: this.url, cseq: raw, status: res.statusCode }, 'response matches no request');
      return false;
    }
    this.pending.delete(cseq!);
    clearTimeout(p.timer);
    p.resolve(res);
    return true;
  }

  private startKeepalive(timeoutSec: number): void {
    if (this.keepaliveTimer) return;
    const interval = this.opts.keepaliveIntervalMs ?? Math.max(250, (timeoutSec * 1000) / 2);
    this.keepaliveTimer = setInterval(() => void this.keepalive(), interval);
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  private async keepalive(): Promise<void> {
    if (this.sessionId === undefined || this.finished) return;
    const uri = this.aggregateControl ?? this.url;
    try {
      const res = await this.request(this.keepaliveMethod, uri, this.sessionHeaders());
      if (this.keepaliveMethod === 'GET_PARAMETER' && (res.statusCode === 405 || res.statusCode === 501)) {
        this.log.info({ url: this.url, status: res.statusCode }, 'GET_PARAMETER unsupported, keepalive switches to OPTIONS');
        this.keepaliveMethod = 'OPTIONS';
      }
    } catch (err) {
      // Some cameras never answer keepalives (gortsplib client.go); the session timeout is the judge.
      this.log.debug({ url: this.url, err: (err as Error).message }, 'keepalive failed');
    }
  }

  private closeUdp(): void {
    for (const { pair } of this.udpTracks.values()) pair.close();
    this.udpTracks.clear();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopKeepalive();
    this.closeUdp();
    if (this.draining) clearImmediate(this.draining);
    this.draining = undefined;
    this.queue.length = 0;
    const err = this.userClosed ? undefined : (this.closeError ?? new RtspError('RTSP_CLOSED', 'connection closed by server'));
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err ?? new RtspError('RTSP_CLOSED', `${p.method}: client closed`));
    }
    this.pending.clear();
    this.emit('close', err);
  }
}

function expectOk(res: RtspResponse, method: string): RtspResponse {
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  throw new RtspError('RTSP_STATUS', `${method} failed: ${res.statusCode} ${res.reason}`, { statusCode: res.statusCode });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Resolves an SDP `a=control` against the base URL (RFC 2326 §C.1.1). Absolute
 * controls are used as is; `*` means the base; relative ones are appended below the
 * base with one `/`, as FFmpeg and live555 do (strict RFC 3986 resolution would drop
 * the last path segment of a base without trailing slash, which breaks many cameras).
 */
export function resolveControlUrl(base: string, control: string): string {
  const c = control.trim();
  if (/^rtsps?:\/\//i.test(c)) return c;
  if (c === '' || c === '*') return base;
  return `${base.replace(/\/+$/, '')}/${c.replace(/^\/+/, '')}`;
}

/** The H.264 track that {@link openRtspVideo} chose. */
export interface RtspVideoTrack {
  payloadType: number;
  clockRate: number;
  fmtp: H264Fmtp;
  /** Absolute control URL used for SETUP. */
  control: string;
  /** Interleaved RTP channel: `client.on('rtp', (channel, packet) => …)` sees this. */
  channel: number;
}

/** The first H.264 video track of a DESCRIBE, with its control URL made absolute; undefined when there is none. */
export function findH264Track(desc: RtspDescription): Omit<RtspVideoTrack, 'channel'> | undefined {
  for (const media of desc.sdp.media) {
    if (media.type !== 'video') continue;
    for (const format of media.formats) {
      const payloadType = Number(format);
      if (!Number.isInteger(payloadType)) continue;
      const rtpmap = getRtpmap(media, payloadType);
      if (rtpmap?.encodingName.toUpperCase() !== 'H264') continue;
      const fmtp = parseH264Fmtp(getFmtp(media, payloadType) ?? '');
      const control = resolveControlUrl(desc.contentBase, getAttribute(media.attributes, 'control') ?? '');
      return { payloadType, clockRate: rtpmap.clockRate, fmtp, control };
    }
  }
  return undefined;
}

/**
 * Connects, DESCRIBEs, picks the first H.264 video track, SETUPs it on interleaved
 * channels 0-1 (or a UDP port pair with `transport: 'udp'`) and PLAYs. Attach `rtp`
 * listeners right after awaiting this. The client is closed again if any step fails.
 */
export async function openRtspVideo(url: string, opts: RtspClientOptions = {}): Promise<{ client: RtspClient; video: RtspVideoTrack; description: RtspDescription }> {
  const client = await RtspClient.connect(url, opts);
  try {
    const description = await client.describe();
    const track = findH264Track(description);
    if (!track) throw new RtspError('RTSP_NO_SUITABLE_TRACK', 'no H.264 video track in the SDP');
    const { channels } = await client.setup(track.control, 0);
    await client.play();
    return { client, video: { ...track, channel: channels[0] }, description };
  } catch (err) {
    await client.close();
    throw err;
  }
}
