import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { MAX_LINK_MESSAGE_BYTES } from '@schoolcam/protocol/link/link-messages';
import { AppError, unauthorized } from './errors';
import { openDatabase, type Db } from './storage/database';
import { GatewayStore } from './storage/gateway-store';
import { CameraStore } from './storage/camera-store';
import { GatewayLinkServer } from './link/gateway-link-server';
import { Fanout, type FanoutOptions } from './fanout/fanout';
import { ViewerSession } from './viewer/viewer-session';
import { MAX_VIEWER_MESSAGE_BYTES } from './viewer/viewer-messages';
import { buildWebAssets } from './web/web-bundle';

export interface ControlCenterOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Directory for the SQLite file `centre.sqlite`. Default `data`. */
  dataDir?: string;
  /** Token the live page and API require until accounts exist. Generated when absent. */
  viewerToken?: string;
  /** Keep WebRTC media on 127.0.0.1 (single-host demo). Default false. */
  loopbackOnly?: boolean;
  /** Gateways to register (or re-key) at start. */
  gateways?: { id: string; schoolId: string; name: string; secret: string }[];
  /** Upstream linger after the last viewer leaves, ms. Default 5000. */
  upstreamLingerMs?: number;
  /** Fan-out worker threads. Default: one per core. */
  fanoutShards?: number;
  /** Fan-out shards log their event-loop delay, GC pauses and counters every 5 s. Default false. */
  fanoutTrace?: boolean;
  /** Fan-out tuning and test hooks (see `FanoutOptions`). */
  fanout?: Omit<FanoutOptions, 'peer' | 'upstreamLingerMs' | 'shards'>;
  logger?: Logger;
}

/** The regional control centre: API, gateway link, WebRTC fan-out and the live page. */
export class ControlCenter {
  private closed = false;

  private constructor(
    readonly app: FastifyInstance,
    readonly url: string,
    readonly viewerToken: string,
    private readonly db: Db,
    private readonly link: GatewayLinkServer,
    /** The fan-out (diagnostics and tests: its shards' counters, placement, test hooks). */
    readonly fanout: Fanout,
    private readonly viewers: Set<ViewerSession>,
  ) {}

  static async create(opts: ControlCenterOptions = {}): Promise<ControlCenter> {
    const log = opts.logger ?? pino({ name: 'control-center' });
    const viewerToken = opts.viewerToken ?? randomBytes(18).toString('base64url');
    const db = openDatabase(join(opts.dataDir ?? 'data', 'centre.sqlite'));
    const opened: { link?: GatewayLinkServer; app?: FastifyInstance; fanout?: Fanout } = {};
    try {
      return await ControlCenter.start(opts, log, viewerToken, db, opened);
    } catch (err) {
      // Failed to start: close what was opened (listener, sweep timer, database) before rejecting.
      opened.link?.close();
      opened.fanout?.close();
      await opened.fanout?.done;
      await opened.app?.close().catch(() => undefined);
      db.close();
      throw err;
    }
  }

  private static async start(
    opts: ControlCenterOptions,
    log: Logger,
    viewerToken: string,
    db: Db,
    opened: { link?: GatewayLinkServer; app?: FastifyInstance; fanout?: Fanout },
  ): Promise<ControlCenter> {
    const gateways = new GatewayStore(db);
    const cameras = new CameraStore(db);
    for (const g of opts.gateways ?? []) gateways.upsert(g);
    const link = new GatewayLinkServer(gateways, cameras, log.child({ module: 'centre:link' }));
    opened.link = link;
    const fanout = new Fanout(
      link,
      { ...opts.fanout, peer: { loopbackOnly: opts.loopbackOnly ?? false }, upstreamLingerMs: opts.upstreamLingerMs, shards: opts.fanoutShards, trace: opts.fanoutTrace },
      log.child({ module: 'centre:fanout' }),
    );
    opened.fanout = fanout;
    link.attachFanout(fanout);
    const viewers = new Set<ViewerSession>();
    link.on('cameras', () => {
      for (const v of viewers) v.sendCameras();
    });
    const assets = await buildWebAssets();

    const app = Fastify({ loggerInstance: log.child({ module: 'centre:http' }) as FastifyBaseLogger, disableRequestLogging: true });
    opened.app = app;
    await app.register(websocket, { options: { maxPayload: Math.max(MAX_LINK_MESSAGE_BYTES, MAX_VIEWER_MESSAGE_BYTES) } });

    app.setErrorHandler((err, _req, reply) => {
      if (err instanceof AppError) return reply.status(err.status).send({ error: err.code, message: err.message });
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status < 500) return reply.status(status).send({ error: 'BAD_REQUEST', message: err.message });
      log.error({ err }, 'unhandled error');
      return reply.status(500).send({ error: 'INTERNAL', message: 'internal error' });
    });

    const checkToken = (req: { headers: Record<string, unknown>; query: unknown }): void => {
      const auth = typeof req.headers.authorization === 'string' ? req.headers.authorization.replace(/^Bearer /, '') : undefined;
      const q = (req.query as { token?: string } | undefined)?.token;
      if (!tokenMatches(auth ?? q, viewerToken)) throw unauthorized();
    };

    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(assets.html));
    app.get('/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(assets.js));
    app.get('/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(assets.css));

    app.get('/api/cameras', (req) => {
      checkToken(req);
      return { cameras: cameras.list() };
    });
    app.get('/api/health', () => ({ status: 'ok', gatewaysOnline: link.onlineCount(), ...fanout.stats(), viewerSockets: viewers.size }));
    app.get('/metrics', (_req, reply) => {
      const s = fanout.stats();
      reply.type('text/plain; version=0.0.4');
      return [
        '# HELP schoolcam_gateways_online Gateways with a live link.',
        '# TYPE schoolcam_gateways_online gauge',
        `schoolcam_gateways_online ${link.onlineCount()}`,
        '# HELP schoolcam_feeds Camera upstreams being relayed.',
        '# TYPE schoolcam_feeds gauge',
        `schoolcam_feeds ${s.feeds}`,
        '# HELP schoolcam_viewers Viewer peer connections.',
        '# TYPE schoolcam_viewers gauge',
        `schoolcam_viewers ${s.viewers}`,
        '',
      ].join('\n');
    });

    app.register((scope, _opts, done) => {
      scope.get(
        '/link',
        {
          websocket: true,
          preValidation: (req, reply, done) => {
            link.authenticate(req.raw).then(
              (id) => {
                if (!id) {
                  void reply.status(401).send({ error: 'UNAUTHORIZED', message: 'unknown gateway or wrong secret' });
                  return;
                }
                (req as unknown as { gatewayId: string }).gatewayId = id;
                done();
              },
              (err: Error) => done(err),
            );
          },
        },
        (socket, req) => link.accept(socket, (req as unknown as { gatewayId: string }).gatewayId),
      );
      scope.get(
        '/api/view',
        {
          websocket: true,
          preValidation: (req, _reply, done) => {
            try {
              checkToken(req);
              done();
            } catch (err) {
              done(err as Error);
            }
          },
        },
        (socket) => {
          const session = new ViewerSession(socket, fanout, cameras, log.child({ module: 'centre:viewer' }));
          viewers.add(session);
          socket.on('close', () => viewers.delete(session));
        },
      );
      done();
    });

    await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
    return new ControlCenter(app, url, viewerToken, db, link, fanout, viewers);
  }

  /** URL of the live page, carrying the viewer token. */
  get pageUrl(): string {
    return `${this.url}/?token=${encodeURIComponent(this.viewerToken)}`;
  }

  stats(): { gatewaysOnline: number; feeds: number; viewers: number; viewerSockets: number } {
    return { gatewaysOnline: this.link.onlineCount(), ...this.fanout.stats(), viewerSockets: this.viewers.size };
  }

  /** Idempotent: viewers, feeds and gateway links first, then HTTP, then the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const v of [...this.viewers]) v.close();
    this.fanout.close();
    this.link.close();
    await this.fanout.done;
    await this.app.close();
    this.db.close();
  }
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
