/**
 * RTSP 1.0 server (RFC 2326) that plays live RTP from {@link RtspMediaSource}s over
 * TCP interleaving (§10.12) or UDP unicast (§12.39 `client_port`/`server_port`, one
 * RTP/RTCP socket pair per server). The SETUP handler picks a transport in one place
 * ({@link chooseTransport}).
 *
 * Sessions are bound to the TCP connection that created them: a Session id sent on
 * another connection is answered 454, so a leaked id cannot be used to PLAY or
 * TEARDOWN someone else's stream (LIVE555 CVE-2026-41470). UDP sessions too: they end
 * when their RTSP connection closes, and RTP only ever goes to that connection's
 * address (never to a `destination=` the client names: no reflection attacks).
 *
 * Fault hooks for the device simulator: {@link RtspServer.setAuthMode},
 * {@link RtspServer.dropSessions}, {@link RtspServer.setMalformed},
 * {@link RtspServer.setRefusing}.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { ServerAuth, type AuthMode } from './digest-auth';
import { parseSession, parseTransport, formatTransport, type TransportSpec } from './rtsp-headers';
import { RtspError } from './rtsp-error';
import { silentLogger, type RtspLogger } from './rtsp-logger';
import {
  getHeader,
  serializeInterleaved,
  serializeResponse,
  RtspStreamParser,
  MAX_INTERLEAVED,
  type RtspFrame,
  type RtspHeader,
  type RtspRequest,
} from './rtsp-message';
import { UdpPortPair } from './udp-port-pair';
import { parseSdp, getAttribute } from '../sdp/sdp';

/** What the server plays. Business code implements this; the server knows nothing else about media. */
export interface RtspMediaSource {
  /** Full SDP body for DESCRIBE (the server may rewrite nothing but o=/c= lines). Track controls are `trackID=N`. */
  describe(): string;
  /**
   * Begin delivering RTP for the given track indexes; returns an unsubscribe function. onRtp gets a complete RTP packet.
   * `session.end(reason)` ends the session from the source's side (its access was withdrawn, the stream ended):
   * the connection that carried it is closed, so the client sees the end at once.
   */
  subscribe(trackIds: number[], onRtp: (trackId: number, packet: Buffer) => void, session: RtspSessionControl): () => void;
}

/** What a source may do to the session it feeds. */
export interface RtspSessionControl {
  /** Ends the session and closes its TCP connection (idempotent; may be called from inside `subscribe`). */
  end(reason: string): void;
}

/** Who asks for a path: the user the connection authenticated as, and the client's address. */
export interface RtspClientInfo {
  username: string | undefined;
  address: string | undefined;
}

export interface RtspServerAuthOptions {
  /** `digest`, `basic`, `any` (either; Digest offered first) or `none`. Changeable later with {@link RtspServer.setAuthMode}. */
  mode: AuthMode;
  /** username → password, read on every request (entries may be added or removed live). */
  users: Readonly<Record<string, string>>;
  /** Digest against stored H(A1)s instead of `users` (see `ServerAuthOptions.ha1Of`); Basic is then refused. */
  ha1Of?: (username: string) => string | undefined;
}

export interface RtspServerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one, see {@link RtspServer.port}. */
  port?: number;
  /** Authentication realm. Default `schoolcam`. */
  realm?: string;
  /** Default: no authentication. */
  auth?: RtspServerAuthOptions;
  /**
   * Maps a URL path (no leading or trailing `/`, percent-decoded) to a source, or undefined for 404.
   * Asked at DESCRIBE and SETUP with the authenticated user, so a path can be refused per user.
   */
  resolve: (path: string, client: RtspClientInfo) => RtspMediaSource | undefined;
  /** Serve RTSPS (RTSP over TLS, `rtsps://`) with this PEM certificate and key. Default: plain TCP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Seconds without a request (or RTCP from the client) before a session is torn down. Default 60. */
  sessionTimeoutSec?: number;
  /** Default: silent. */
  logger?: RtspLogger;
  /** A client whose socket holds more unsent bytes than this loses packets instead. Default 4 MiB. */
  maxWriteBufferBytes?: number;
  /** Lifetime of a Digest nonce before `stale=true`. Default 60 s. */
  nonceTtlSec?: number;
  /** Most simultaneous TCP connections. Default 256. */
  maxConnections?: number;
  /** Offer RTP over UDP unicast (binds one RTP/RTCP port pair on `host`). Default true. */
  udp?: boolean;
}

/**
 * What {@link RtspServer.setAuthMode} accepts: an {@link AuthMode}, or `always-wrong`
 * (a camera with a corrupted user database: every request but OPTIONS gets 401, even
 * with the right password; the challenge offers Digest).
 */
export type RtspServerAuthMode = AuthMode | 'always-wrong';

const SERVER_NAME = 'schoolcam-rtsp';
/** Unsent reply bytes one connection may hold before it is closed (RTP has its own limit). */
const MAX_PENDING_REPLY_BYTES = 256 * 1024;
/** Sessions one TCP connection may hold (a client wants one per stream it plays). */
const MAX_SESSIONS_PER_CONNECTION = 8;
/** How long a connection closed for bad framing may take to flush its 400. */
const END_GRACE_MS = 2000;
const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
const DROP_LOG_INTERVAL_MS = 5_000;

/** Where one track's RTP goes: interleaved channels, or the client's UDP ports. */
type TrackTransport =
  | { kind: 'tcp'; channels: readonly [number, number] }
  | { kind: 'udp'; address: string; clientPorts: readonly [number, number] };

interface ServerTrack {
  trackId: number;
  transport: TrackTransport;
}

interface ServerSession {
  id: string;
  path: string;
  source: RtspMediaSource;
  tracks: Map<number, ServerTrack>;
  state: 'ready' | 'playing';
  unsubscribe?: () => void;
  timer: NodeJS.Timeout;
  /** Packets produced while subscribe() runs, sent after the PLAY reply: interleaved frames, or UDP sends. */
  held?: Array<Buffer | (() => void)>;
}

type Reply = { statusCode: number; headers?: RtspHeader[]; body?: string | Buffer; close?: boolean; after?: () => void };

/** What a malformed reply looks like: a status line no parser accepts and a header without a colon. */
const MALFORMED_REPLY = 'RTSP/1.0 2OO 0K\r\nCSeq 0\r\nServer: ' + SERVER_NAME + '\r\n\r\n';

/**
 * An RTSP server on one TCP port. Create with {@link RtspServer.create}; every
 * client connection is independent.
 */
export class RtspServer {
  private readonly connections = new Set<ServerConnection>();
  private closing: Promise<void> | undefined;
  private nextConnectionId = 1;
  private authMode: RtspServerAuthMode;
  /** Serializes listener changes (setRefusing, close). */
  private listenerChange: Promise<void> = Promise.resolve();
  private listening = true;
  /** @internal shared with connections; undefined when no authentication is required. */
  auth: ServerAuth | undefined;
  /** @internal true while {@link setMalformed} is on. */
  malformed = false;
  /** @internal */
  readonly log: RtspLogger;
  /** @internal */
  readonly sessionTimeoutSec: number;
  /** @internal */
  readonly maxWriteBufferBytes: number;

  /** @internal the RTP/RTCP socket pair for UDP sessions, if UDP is enabled. */
  udp: UdpPortPair | undefined;

  private constructor(
    private readonly server: net.Server,
    /** The bound interface. */
    readonly host: string,
    /** The bound port (the real one when 0 was asked for). */
    readonly port: number,
    /** @internal */
    readonly opts: RtspServerOptions,
  ) {
    this.log = opts.logger ?? silentLogger;
    this.sessionTimeoutSec = opts.sessionTimeoutSec ?? 60;
    this.maxWriteBufferBytes = opts.maxWriteBufferBytes ?? 4 * 1024 * 1024;
    this.authMode = opts.auth?.mode ?? 'none';
    this.auth = this.makeAuth(this.authMode);
    // With TLS, a connection is ours once its handshake is done (a failed one never reaches accept).
    server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => this.accept(socket));
    if (opts.tls) server.on('tlsClientError', (err: Error) => this.log.debug({ err: err.message }, 'rtsps handshake failed'));
    server.on('error', (err) => this.log.error({ err: err.message }, 'rtsp server socket error'));
  }

  /** Binds (TCP, and the UDP pair unless `udp: false`) and starts listening. Rejects if a port cannot be bound. */
  static async create(opts: RtspServerOptions): Promise<RtspServer> {
    const host = opts.host ?? '127.0.0.1';
    const server = opts.tls ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, noDelay: true }) : net.createServer({ noDelay: true });
    server.maxConnections = opts.maxConnections ?? 256;
    await listen(server, opts.port ?? 0, host);
    const address = server.address() as net.AddressInfo;
    const rtsp = new RtspServer(server, host, address.port, opts);
    if (opts.udp ?? true) {
      try {
        rtsp.udp = await UdpPortPair.bind(host, (kind, _packet, from) => rtsp.onUdpPacket(kind, from));
      } catch (err) {
        await rtsp.close();
        throw err;
      }
    }
    return rtsp;
  }

  /** The server's RTP and RTCP ports for UDP sessions, or undefined when UDP is off. */
  get udpPorts(): readonly [number, number] | undefined {
    return this.udp ? [this.udp.rtpPort, this.udp.rtcpPort] : undefined;
  }

  /** `rtsp://host:port/path` for a source path. */
  url(path: string): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.opts.tls ? 'rtsps' : 'rtsp'}://${host}:${this.port}/${path.replace(/^\/+/, '')}`;
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Live sessions over all connections. */
  get sessionCount(): number {
    let n = 0;
    for (const c of this.connections) n += c.sessions.size;
    return n;
  }

  /**
   * Closes every connection that authenticated as `username` (ending its sessions), e.g.
   * when a grant is revoked: removing the user from `users` alone only refuses new requests.
   * Returns how many connections were closed.
   */
  disconnectUser(username: string): number {
    let n = 0;
    for (const c of [...this.connections]) {
      if (c.username === username) {
        c.destroy('user disconnected');
        n++;
      }
    }
    return n;
  }

  /**
   * Fault hook: changes which credentials are accepted from the next request on.
   * Sessions already playing keep playing (their next keepalive is checked).
   * `always-wrong` answers 401 to every request but OPTIONS, even with the right
   * password. Users stay those of `opts.auth.users` (none if the server had no auth).
   */
  setAuthMode(mode: RtspServerAuthMode): void {
    this.authMode = mode;
    this.auth = this.makeAuth(mode);
    this.log.info({ mode }, 'auth mode changed');
  }

  /** The mode set at creation or by {@link setAuthMode}. */
  get currentAuthMode(): RtspServerAuthMode {
    return this.authMode;
  }

  /** @internal */
  get alwaysWrong(): boolean {
    return this.authMode === 'always-wrong';
  }

  /**
   * Fault hook ("drop RTSP sessions"): ends every session and closes the TCP
   * connection that carried it, as a camera does when its streaming process restarts.
   * Connections without a session stay open. Returns how many sessions were ended.
   */
  dropSessions(): number {
    let n = 0;
    for (const c of [...this.connections]) {
      const count = c.sessions.size;
      if (count === 0) continue;
      n += count;
      c.destroy('sessions dropped');
    }
    this.log.info({ sessions: n }, 'dropped every session');
    return n;
  }

  /**
   * Fault hook: while on, every reply is malformed (a status line like `RTSP/1.0 2OO 0K`
   * and a header without a colon), so clients fail with a protocol error. Requests are
   * still handled; nothing else changes. Off restores well-formed replies.
   */
  setMalformed(on: boolean): void {
    this.malformed = on;
    this.log.info({ on }, 'malformed replies');
  }

  /** True while {@link setMalformed} is on. */
  get isMalformed(): boolean {
    return this.malformed;
  }

  /**
   * Fault hook for a reboot: on closes the listener and every connection (so connects
   * fail with ECONNREFUSED); off listens again on the same host and port, so URLs stay
   * valid. Resolves once the change is done; rejects if the port was taken meanwhile.
   * The UDP pair stays bound (no session can use it while refusing).
   */
  setRefusing(on: boolean): Promise<void> {
    const change = this.listenerChange.then(async () => {
      if (this.closing) return;
      if (on && this.listening) {
        this.listening = false;
        const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        for (const c of [...this.connections]) c.destroy('refusing connections');
        await closed;
        this.log.info({ port: this.port }, 'refusing connections');
      } else if (!on && !this.listening) {
        await listen(this.server, this.port, this.host);
        this.listening = true;
        this.log.info({ port: this.port }, 'listening again');
      }
    });
    // Callers may fire and forget (a simulated reboot): a failure is logged here, and the chain goes on.
    this.listenerChange = change.catch((err: unknown) => {
      this.log.error({ port: this.port, on, err: (err as Error).message }, 'could not change the RTSP listener');
    });
    return change;
  }

  /** True while {@link setRefusing} is on. */
  get isRefusing(): boolean {
    return !this.listening;
  }

  /** Stops listening and closes every client connection (their sessions first), then the UDP pair. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.listenerChange.then(
      () =>
        new Promise<void>((resolve) => {
          // When refusing, the listener is already closed; close() then calls back with an error, which is fine.
          this.server.close(() => resolve());
          for (const c of [...this.connections]) c.destroy('server closing');
          this.udp?.close();
        }),
    );
    return this.closing;
  }

  private makeAuth(mode: RtspServerAuthMode): ServerAuth | undefined {
    if (mode === 'none') return undefined;
    return new ServerAuth({
      // always-wrong challenges like a Digest camera; verification is never consulted.
      mode: mode === 'always-wrong' ? 'digest' : mode,
      realm: this.opts.realm ?? 'schoolcam',
      users: this.opts.auth?.users ?? {},
      ha1Of: this.opts.auth?.ha1Of,
      nonceTtlMs: (this.opts.nonceTtlSec ?? 60) * 1000,
    });
  }

  /** RTCP (receiver reports) or anything else a UDP client sends us counts as liveness for its sessions. */
  private onUdpPacket(kind: 'rtp' | 'rtcp', from: { address: string; port: number }): void {
    for (const c of this.connections) c.onUdpFrom(kind, from);
  }

  private accept(socket: net.Socket): void {
    if (this.closing || !this.listening) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(this, socket, this.nextConnectionId++);
    this.connections.add(conn);
    socket.once('close', () => {
      conn.destroy('socket closed');
      this.connections.delete(conn);
    });
  }
}

/** One client TCP connection and the sessions it created. */
class ServerConnection {
  readonly sessions = new Map<string, ServerSession>();
  /** The user this connection last authenticated as. */
  username: string | undefined;
  private readonly parser = new RtspStreamParser();
  private closed = false;
  private dropped = 0;
  private lastDropLog = 0;
  private readonly remote: string;

  constructor(
    private readonly server: RtspServer,
    private readonly socket: net.Socket,
    private readonly id: number,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    // Connections that never set up a session must not be held open forever (slowloris).
    socket.setTimeout(server.sessionTimeoutSec * 1000, () => {
      if (this.sessions.size === 0) this.destroy('idle timeout');
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ conn: this.id, err: err.message }, 'client socket error'));
    this.log.debug({ conn: this.id, remote: this.remote }, 'client connected');
  }

  private get log(): RtspLogger {
    return this.server.log;
  }

  destroy(reason: string): void {
    if (this.closed) {
      this.socket.destroy(); // may still be ending after a framing error
      return;
    }
    this.closed = true;
    for (const s of [...this.sessions.values()]) this.endSession(s, reason);
    this.socket.destroy();
    this.log.debug({ conn: this.id, reason }, 'client connection closed');
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const { frames, error } = this.parser.push(chunk);
    for (const frame of frames) {
      if (this.closed) return;
      this.onFrame(frame);
    }
    if (error && !this.closed) {
      this.log.warn({ conn: this.id, remote: this.remote, code: error.code, err: error.message }, 'bad RTSP framing, closing');
      const statusCode = error.code === 'RTSP_BODY_TOO_LARGE' ? 413 : 400;
      this.closed = true; // no more input is read; sessions end with the socket
      for (const s of [...this.sessions.values()]) this.endSession(s, 'framing error');
      this.socket.end(serializeResponse({ statusCode, headers: [['Server', SERVER_NAME], ['Connection', 'close']] }), () => this.socket.destroy());
      // A client that stopped reading never lets end() finish: do not wait for it.
      const grace = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
      this.socket.once('close', () => clearTimeout(grace));
    }
  }

  private onFrame(frame: RtspFrame): void {
    switch (frame.kind) {
      case 'interleaved':
        // RTCP receiver reports from the client count as liveness (RFC 2326 §12.37 leaves the how open).
        for (const s of this.sessions.values()) s.timer.refresh();
        return;
      case 'response':
        return; // we send no requests; a stray response is ignored
      case 'request':
        this.onRequest(frame);
        return;
      default: {
        const unreachable: never = frame;
        throw new Error(`unexpected frame ${String(unreachable)}`);
      }
    }
  }

  private onRequest(req: RtspRequest): void {
    const cseq = getHeader(req.headers, 'cseq')?.trim();
    this.log.debug({ conn: this.id, method: req.method, uri: stripUserinfo(req.uri), cseq }, 'request');
    let reply: Reply;
    try {
      reply = cseq === undefined || !/^\d{1,10}$/.test(cseq) ? { statusCode: 400 } : this.handle(req);
    } catch (err) {
      this.log.error({ conn: this.id, method: req.method, err: (err as Error).message }, 'request handler failed');
      reply = { statusCode: 500 };
    }
    const headers: RtspHeader[] = [];
    if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) headers.push(['CSeq', cseq]);
    headers.push(['Server', SERVER_NAME], ...(reply.headers ?? []));
    if (reply.close) headers.push(['Connection', 'close']);
    let bytes: Buffer | string;
    try {
      bytes = this.server.malformed ? MALFORMED_REPLY : serializeResponse({ statusCode: reply.statusCode, headers, body: reply.body });
    } catch (err) {
      // A header value we could not serialize (CR/LF in it) must not escape the socket handler.
      this.log.error({ conn: this.id, method: req.method, err: (err as Error).message }, 'reply could not be serialized');
      bytes = serializeResponse({ statusCode: 500, headers: headers.filter(([name]) => name === 'CSeq' || name === 'Server') });
    }
    this.socket.write(bytes);
    reply.after?.();
    if (reply.close) this.socket.end(() => this.socket.destroy());
    // A client that pipelines requests and never reads its replies must not grow our memory.
    if (this.socket.writableLength > MAX_PENDING_REPLY_BYTES) {
      this.log.warn({ conn: this.id, remote: this.remote, pending: this.socket.writableLength }, 'client does not read its replies, closing');
      this.destroy('reply backlog');
    }
  }

  private handle(req: RtspRequest): Reply {
    const url = parseRequestUrl(req.uri);
    if (url === undefined && !(req.method === 'OPTIONS' && req.uri === '*')) return { statusCode: 400 };
    switch (req.method) {
      case 'OPTIONS':
        this.touchSession(req);
        return { statusCode: 200, headers: [['Public', PUBLIC_METHODS]] };
      case 'DESCRIBE':
      case 'SETUP':
      case 'PLAY':
      case 'PAUSE':
      case 'TEARDOWN':
      case 'GET_PARAMETER':
      case 'SET_PARAMETER': {
        const denied = this.authorize(req);
        if (denied) return denied;
        return this.handleAuthorized(req, url!);
      }
      case 'ANNOUNCE':
      case 'RECORD':
      case 'REDIRECT':
        return { statusCode: 405, headers: [['Allow', PUBLIC_METHODS]] };
      default:
        return { statusCode: 501 };
    }
  }

  private handleAuthorized(req: RtspRequest, url: URL): Reply {
    switch (req.method) {
      case 'DESCRIBE':
        return this.describe(url);
      case 'SETUP':
        return this.setup(url, req);
      case 'PLAY':
        return this.play(req);
      case 'PAUSE':
        return this.pause(req);
      case 'TEARDOWN':
        return this.teardown(req);
      default: {
        // GET_PARAMETER / SET_PARAMETER: keepalive (RFC 2326 §10.8, §10.9).
        const found = this.findSession(req);
        if (found === 'invalid') return { statusCode: 454 };
        return { statusCode: 200, headers: found ? [['Session', this.sessionHeader(found)]] : [] };
      }
    }
  }

  private authorize(req: RtspRequest): Reply | undefined {
    const auth = this.server.auth;
    if (!auth) return undefined;
    if (this.server.alwaysWrong) {
      this.log.debug({ conn: this.id, method: req.method }, 'auth fault: refusing every credential');
      return { statusCode: 401, headers: auth.challenge(false).map((v): RtspHeader => ['WWW-Authenticate', v]) };
    }
    const result = auth.verify(req.method, getHeader(req.headers, 'authorization'));
    if (result.ok) {
      this.username = result.username;
      return undefined;
    }
    if (result.reason !== 'missing') {
      this.log.warn({ conn: this.id, remote: this.remote, method: req.method, reason: result.reason, stale: result.stale }, 'authentication failed');
    }
    return { statusCode: 401, headers: auth.challenge(result.stale).map((v): RtspHeader => ['WWW-Authenticate', v]) };
  }

  private client(): RtspClientInfo {
    return { username: this.username, address: this.socket.remoteAddress?.replace(/^::ffff:/i, '') };
  }

  private describe(url: URL): Reply {
    const path = pathOf(url);
    const source = path === undefined ? undefined : this.server.opts.resolve(path, this.client());
    if (!source) return { statusCode: 404 };
    const sdp = source.describe();
    // Content-Base (RFC 2326 §12.11) with a trailing slash so relative `trackID=N` resolves below it;
    // built from the parsed URL, never echoed raw.
    const base = stripUserinfo(url.href).replace(/\/*$/, '/');
    return {
      statusCode: 200,
      headers: [
        ['Content-Base', base],
        ['Content-Type', 'application/sdp'],
      ],
      body: sdp,
    };
  }

  private setup(url: URL, req: RtspRequest): Reply {
    const full = pathOf(url);
    const m = full === undefined ? null : /^(.*?)\/?trackID=(\d{1,3})$/.exec(full);
    if (!m) return { statusCode: 404 };
    const path = m[1];
    const trackId = Number(m[2]);
    const source = this.server.opts.resolve(path, this.client());
    if (!source || !hasTrack(source.describe(), trackId)) return { statusCode: 404 };

    const transportHeader = getHeader(req.headers, 'transport');
    if (transportHeader === undefined) return { statusCode: 400 };
    const specs = parseTransport(transportHeader);
    if (!Array.isArray(specs)) return { statusCode: 400 };
    const udp = this.server.udp;
    const chosen = chooseTransport(specs, udp !== undefined);
    if (!chosen) return { statusCode: 461 };

    const found = this.findSession(req);
    if (found === 'invalid') return { statusCode: 454 };
    if (found && found.path !== path) return { statusCode: 459 };
    if (found?.state === 'playing') return { statusCode: 455, headers: [['Allow', 'PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER']] };
    // Each session is a subscriber on the camera's one encoder: bound them per connection.
    if (!found && this.sessions.size >= MAX_SESSIONS_PER_CONNECTION) return { statusCode: 453 };

    let transport: TrackTransport;
    let reply: TransportSpec;
    if (chosen.lowerTransport === 'UDP') {
      // RTP goes to the address the RTSP connection comes from, never elsewhere (RFC 2326 §12.39 `destination` is ignored).
      const address = this.socket.remoteAddress;
      if (address === undefined || !udp) return { statusCode: 461 };
      const clientPorts = chosen.clientPort!;
      transport = { kind: 'udp', address, clientPorts };
      reply = { protocol: 'RTP/AVP', lowerTransport: 'UDP', unicast: true, clientPort: clientPorts, serverPort: [udp.rtpPort, udp.rtcpPort] };
    } else {
      const channels = chosen.interleaved ?? ([trackId * 2, trackId * 2 + 1] as const);
      for (const s of this.sessions.values()) {
        for (const t of s.tracks.values()) {
          const sameTrack = s === found && t.trackId === trackId;
          if (sameTrack || t.transport.kind !== 'tcp') continue;
          if (t.transport.channels.includes(channels[0]) || t.transport.channels.includes(channels[1])) return { statusCode: 461 };
        }
      }
      transport = { kind: 'tcp', channels };
      reply = { protocol: 'RTP/AVP', lowerTransport: 'TCP', unicast: true, interleaved: channels };
    }
    const session = found ?? this.newSession(path, source);
    session.tracks.set(trackId, { trackId, transport });
    return {
      statusCode: 200,
      headers: [
        ['Transport', formatTransport(reply)],
        ['Session', this.sessionHeader(session)],
      ],
    };
  }

  private play(req: RtspRequest): Reply {
    const session = this.findSession(req);
    if (!session || session === 'invalid') return { statusCode: 454 };
    if (session.tracks.size === 0) return { statusCode: 455 };
    const headers: RtspHeader[] = [
      ['Session', this.sessionHeader(session)],
      ['Range', 'npt=0.000-'],
    ];
    if (session.state === 'playing') return { statusCode: 200, headers };
    session.held = [];
    try {
      const control: RtspSessionControl = {
        end: (reason) => {
          if (!this.sessions.has(session.id)) return;
          this.log.info({ conn: this.id, session: session.id, path: session.path, reason }, 'session ended by its source');
          // Deferred: the source may end the session from inside subscribe(), before PLAY is answered.
          queueMicrotask(() => this.destroy(reason));
        },
      };
      session.unsubscribe = session.source.subscribe([...session.tracks.keys()], (trackId, packet) => this.onRtp(session, trackId, packet), control);
    } catch (err) {
      session.held = undefined;
      this.log.error({ conn: this.id, path: session.path, err: (err as Error).message }, 'source subscribe failed');
      return { statusCode: 500 };
    }
    session.state = 'playing';
    this.log.info({ conn: this.id, session: session.id, path: session.path, tracks: [...session.tracks.keys()] }, 'play');
    return {
      statusCode: 200,
      headers,
      // RTP must not precede the PLAY reply on the wire: flush what subscribe() produced afterwards.
      after: () => {
        const held = session.held ?? [];
        session.held = undefined;
        for (const frame of held) {
          if (typeof frame === 'function') frame();
          else this.writeMedia(frame);
        }
      },
    };
  }

  private pause(req: RtspRequest): Reply {
    const session = this.findSession(req);
    if (!session || session === 'invalid') return { statusCode: 454 };
    this.stopDelivery(session);
    return { statusCode: 200, headers: [['Session', this.sessionHeader(session)]] };
  }

  private teardown(req: RtspRequest): Reply {
    const session = this.findSession(req);
    if (!session || session === 'invalid') return { statusCode: 454 };
    this.endSession(session, 'teardown');
    return { statusCode: 200 };
  }

  private onRtp(session: ServerSession, trackId: number, packet: Buffer): void {
    if (this.closed || session.state !== 'playing') return;
    const track = session.tracks.get(trackId);
    if (!track || packet.length > MAX_INTERLEAVED) return;
    const t = track.transport;
    if (t.kind === 'udp') {
      // Held like TCP frames so no RTP precedes the PLAY reply (clients may not listen before it).
      if (session.held) session.held.push(() => this.server.udp?.sendRtp(packet, t.clientPorts[0], t.address));
      else this.server.udp?.sendRtp(packet, t.clientPorts[0], t.address);
      return;
    }
    const frame = serializeInterleaved(t.channels[0], packet);
    if (session.held) session.held.push(frame);
    else this.writeMedia(frame);
  }

  /** @internal A datagram from a UDP client: refreshes the sessions it belongs to (RTCP RR is liveness, §12.37). */
  onUdpFrom(kind: 'rtp' | 'rtcp', from: { address: string; port: number }): void {
    for (const s of this.sessions.values()) {
      for (const t of s.tracks.values()) {
        const tr = t.transport;
        if (tr.kind === 'udp' && sameAddress(tr.address, from.address) && tr.clientPorts[kind === 'rtp' ? 0 : 1] === from.port) {
          s.timer.refresh();
          break;
        }
      }
    }
  }

  /** Writes one media frame unless the client is not keeping up (then drops it: live video must not queue unboundedly). */
  private writeMedia(frame: Buffer): void {
    if (this.closed) return;
    if (this.socket.writableLength > this.server.maxWriteBufferBytes) {
      this.dropped++;
      const now = Date.now();
      if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
        this.lastDropLog = now;
        this.log.warn({ conn: this.id, remote: this.remote, dropped: this.dropped, buffered: this.socket.writableLength }, 'slow client, dropping RTP');
      }
      return;
    }
    this.socket.write(frame);
  }

  private newSession(path: string, source: RtspMediaSource): ServerSession {
    const id = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      const s = this.sessions.get(id);
      if (!s) return;
      this.log.info({ conn: this.id, session: id, path }, 'session timed out');
      this.endSession(s, 'timeout');
      // RFC 2326 §12.37: the server may close the connection of an expired session.
      if (this.sessions.size === 0) this.destroy('session timeout');
    }, this.server.sessionTimeoutSec * 1000);
    const session: ServerSession = { id, path, source, tracks: new Map(), state: 'ready', timer };
    this.sessions.set(id, session);
    return session;
  }

  private stopDelivery(session: ServerSession): void {
    session.state = 'ready';
    session.held = undefined;
    const unsubscribe = session.unsubscribe;
    session.unsubscribe = undefined;
    if (unsubscribe) {
      try {
        unsubscribe();
      } catch (err) {
        this.log.error({ conn: this.id, session: session.id, err: (err as Error).message }, 'unsubscribe failed');
      }
    }
  }

  private endSession(session: ServerSession, reason: string): void {
    if (!this.sessions.delete(session.id)) return;
    clearTimeout(session.timer);
    this.stopDelivery(session);
    this.log.debug({ conn: this.id, session: session.id, reason }, 'session ended');
  }

  /** The session named by the Session header: undefined if none given, 'invalid' if unknown on this connection. */
  private findSession(req: RtspRequest): ServerSession | 'invalid' | undefined {
    const header = getHeader(req.headers, 'session');
    if (header === undefined) return undefined;
    const parsed = parseSession(header);
    if (parsed instanceof RtspError) return 'invalid';
    const session = this.sessions.get(parsed.id);
    if (!session) return 'invalid';
    session.timer.refresh();
    return session;
  }

  private touchSession(req: RtspRequest): void {
    this.findSession(req);
  }

  private sessionHeader(session: ServerSession): string {
    return `${session.id};timeout=${this.server.sessionTimeoutSec}`;
  }
}

/**
 * Picks the first acceptable transport in the client's order of preference:
 * RTP/AVP unicast over TCP interleaving, or over UDP when the client named its
 * `client_port` pair and the server has UDP enabled. Multicast is never offered.
 */
function chooseTransport(specs: readonly TransportSpec[], udp: boolean): TransportSpec | undefined {
  return specs.find(
    (s) => s.protocol === 'RTP/AVP' && s.unicast && (s.lowerTransport === 'TCP' || (udp && s.clientPort !== undefined && s.clientPort[0] > 0 && s.clientPort[1] > 0)),
  );
}

/** Binds a net.Server and waits for it to listen (or fail). */
function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** IPv4 addresses may come as `::ffff:a.b.c.d` from a dual-stack socket and plain from another. */
function sameAddress(a: string, b: string): boolean {
  const strip = (x: string): string => x.replace(/^::ffff:/i, '');
  return strip(a) === strip(b);
}

function hasTrack(sdpText: string, trackId: number): boolean {
  const sdp = parseSdp(sdpText);
  const want = `trackID=${trackId}`;
  return sdp.media.some((m) => {
    const control = getAttribute(m.attributes, 'control');
    return control !== undefined && (control === want || control.endsWith(`/${want}`));
  });
}

function parseRequestUrl(uri: string): URL | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === 'rtsp:' || url.protocol === 'rtsps:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** URL path without leading/trailing slashes, percent-decoded; undefined if undecodable. */
function pathOf(url: URL): string | undefined {
  try {
    return decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  } catch {
    return undefined;
  }
}

function stripUserinfo(uri: string): string {
  return uri.replace(/^(rtsps?:\/\/)[^@/]*@/i, '$1');
}
