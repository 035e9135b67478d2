import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encodeJpegI420 } from '@schoolcam/protocol/jpeg/jpeg-encoder';
import { ServerAuth, type AuthMode } from '@schoolcam/protocol/rtsp/digest-auth';
import { listenCameraHttp, sendComplete } from '../camera-http-server';
import { type SimLogger, silentSimLogger } from '../sim-logger';

/** One picture: planar I420, limited range, as `SyntheticH264Encoder.lastFrameI420()` returns it. */
export interface SnapshotFrame {
  i420: Uint8Array;
  width: number;
  height: number;
}

/**
 * Where a snapshot path gets its picture. Called once per authorised request; it should
 * render a fresh picture when its encoder is idle. May return a promise (e.g. a render on
 * the next frame tick); `undefined` means no picture can be had right now (503).
 */
export interface SnapshotSource {
  currentFrame(): SnapshotFrame | undefined | Promise<SnapshotFrame | undefined>;
}

/**
 * How the snapshot URI authenticates, as the camera's HTTP does: the schemes of
 * {@link AuthMode} (`none` = open, as some cameras ship), plus the `always-wrong` fault
 * (challenges with Digest, refuses every credential).
 */
export type SnapshotAuthMode = AuthMode | 'always-wrong';

export type SnapshotLogger = SimLogger;

export interface SnapshotServerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Digest/Basic realm. Default `schoolcam`. */
  realm?: string;
  /** username → password, read on every request (credential changes apply at once). */
  users: () => Readonly<Record<string, string>>;
  /**
   * Read on every request, so the auth-mode fault applies at once. Default `() => 'digest'`;
   * {@link SnapshotServer.setAuthMode} replaces it.
   */
  authMode?: () => SnapshotAuthMode;
  /** Source for a request path (without the leading `/` and the query), e.g. `snapshot/main.jpg`. */
  sources: (path: string) => SnapshotSource | undefined;
  /** JPEG quality 1..100. Default 80. */
  quality?: number;
  /**
   * Snapshots being rendered or encoded at once; more get 503 + `Retry-After`. Encoding is
   * synchronous (~14 ms at 720p), so this bounds how long a burst can hold the event loop
   * that also drives RTSP. Default 4.
   */
  maxInFlight?: number;
  /** Digest nonce lifetime. Default 60 000 ms. */
  nonceTtlMs?: number;
  logger?: SnapshotLogger;
}


/**
 * The HTTP server behind a simulated camera's ONVIF snapshot URI (ONVIF Media
 * GetSnapshotUri): `GET` returns a JPEG of the current picture, authenticated with HTTP
 * Digest/Basic (RFC 2617) like the camera's other HTTP services.
 *
 * Statuses: 200 `image/jpeg`; 401 + `WWW-Authenticate`; 404 unknown path; 405 other
 * than GET/HEAD; 503 + `Retry-After` when busy or no picture; 500 when the source throws.
 *
 * Emits `close` once after {@link SnapshotServer.close}.
 */
export class SnapshotServer extends EventEmitter {
  readonly #server: Server;
  readonly #opts: SnapshotServerOptions;
  readonly #host: string;
  readonly #log: SnapshotLogger;
  readonly #quality: number;
  readonly #maxInFlight: number;
  /** One ServerAuth per mode, made on first use; each keeps its own nonce key. */
  readonly #auths = new Map<AuthMode, ServerAuth>();
  readonly #sockets = new Set<Socket>();
  #authMode: () => SnapshotAuthMode;
  #inFlight = 0;
  #refusing = false;
  #closing: Promise<void> | undefined;

  /** The bound TCP port. */
  readonly port: number;

  private constructor(server: Server, opts: SnapshotServerOptions, host: string, port: number) {
    super();
    this.#server = server;
    this.#opts = opts;
    this.#host = host;
    this.port = port;
    this.#log = opts.logger ?? silentSimLogger;
    this.#quality = opts.quality ?? 80;
    this.#maxInFlight = opts.maxInFlight ?? 4;
    this.#authMode = opts.authMode ?? (() => 'digest');
    server.on('connection', (socket: Socket) => this.#onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    server.on('error', (err) => this.#log.warn({ err: err.message }, 'snapshot server error'));
  }

  /** Starts listening. Rejects if the port cannot be bound or an option is invalid. */
  static async create(opts: SnapshotServerOptions): Promise<SnapshotServer> {
    const quality = opts.quality ?? 80;
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`quality must be an integer in 1..100, got ${quality}`);
    const maxInFlight = opts.maxInFlight ?? 4;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    const host = opts.host ?? '127.0.0.1';
    const { server, port } = await listenCameraHttp(host, opts.port ?? 0);
    return new SnapshotServer(server, opts, host, port);
  }

  /** `http://host:port/path` for a source path. */
  url(path: string): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.port}/${path.replace(/^\/+/, '')}`;
  }

  /** Snapshots being rendered or encoded now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Replaces the `authMode` option from the next request on (the auth-mode fault). */
  setAuthMode(mode: SnapshotAuthMode): void {
    this.#authMode = () => mode;
  }

  /**
   * While on, every open connection is reset and new ones are reset as soon as they are
   * accepted (the reboot fault: clients see ECONNRESET, then the camera comes back).
   * The port stays bound, so nothing else can take it meanwhile.
   */
  setRefusing(on: boolean): void {
    this.#refusing = on;
    if (on) for (const socket of [...this.#sockets]) reset(socket);
  }

  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    }).then(() => {
      this.emit('close');
    });
    return this.#closing;
  }

  #onConnection(socket: Socket): void {
    if (this.#refusing || this.#closing) {
      reset(socket);
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #auth(mode: AuthMode): ServerAuth {
    let auth = this.#auths.get(mode);
    if (!auth) {
      const users = this.#opts.users;
      auth = new ServerAuth({
        mode,
        realm: this.#opts.realm ?? 'schoolcam',
        // ServerAuth reads `users` on every verify; the getter makes that the current set.
        get users() {
          return users();
        },
        nonceTtlMs: this.#opts.nonceTtlMs,
      });
      this.#auths.set(mode, auth);
    }
    return auth;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'Method Not Allowed');
    }
    // Authenticate before looking the path up, so an unauthenticated client cannot probe paths.
    const mode = this.#authMode();
    const auth = this.#auth(mode === 'always-wrong' ? 'digest' : mode);
    const verdict = mode === 'always-wrong' ? ({ ok: false, stale: false } as const) : auth.verify(req.method, req.headers.authorization);
    if (!verdict.ok) {
      this.#log.debug({ path: req.url, mode, reason: 'reason' in verdict ? verdict.reason : 'always-wrong' }, 'snapshot refused');
      res.setHeader('WWW-Authenticate', auth.challenge(verdict.stale));
      return plain(res, 401, 'Unauthorized');
    }
    const path = pathOf(req.url ?? '');
    const source = path === undefined ? undefined : this.#opts.sources(path);
    if (!source) return plain(res, 404, 'Not Found');
    if (this.#inFlight >= this.#maxInFlight) {
      res.setHeader('Retry-After', '1');
      return plain(res, 503, 'Busy');
    }
    this.#inFlight++;
    this.#serve(source, path!, res)
      .catch((err: unknown) => this.#log.warn({ path, err: String(err) }, 'snapshot reply failed'))
      .finally(() => this.#inFlight--);
  }

  async #serve(source: SnapshotSource, path: string, res: ServerResponse): Promise<void> {
    let jpeg: Uint8Array;
    try {
      // Yield once so requests arriving together queue up here (and meet the in-flight
      // limit) instead of each blocking the loop in turn before the next is even parsed.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (res.destroyed) return;
      const frame = await source.currentFrame();
      if (res.destroyed) return;
      if (!frame) {
        res.setHeader('Retry-After', '1');
        return plain(res, 503, 'No picture yet');
      }
      jpeg = encodeJpegI420(frame.i420, frame.width, frame.height, { quality: this.#quality });
    } catch (err) {
      // 5xx bodies never leak internals; the log keeps the reason.
      this.#log.warn({ path, err: err instanceof Error ? err.message : String(err) }, 'snapshot failed');
      if (!res.headersSent && !res.destroyed) plain(res, 500, 'Internal Server Error');
      return;
    }
    if (res.destroyed) return;
    sendComplete(res, 200, { 'Content-Type': 'image/jpeg' }, jpeg);
  }
}

/** Request path without the leading `/` and the query; undefined if not decodable. */
function pathOf(url: string): string | undefined {
  const raw = url.split('?', 1)[0] ?? '';
  try {
    return decodeURIComponent(raw).replace(/^\/+/, '');
  } catch {
    return undefined;
  }
}

function plain(res: ServerResponse, status: number, message: string): void {
  sendComplete(res, status, { 'Content-Type': 'text/plain; charset=utf-8' }, message);
}

/** TCP RST rather than FIN, like a camera whose stack went away. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}
