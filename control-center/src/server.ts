import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { AccessPolicy } from './access/policy';
import { AccessRevocations } from './access/revocation';
import { alarmRoutes, visibleAlarms } from './alarms/alarm-routes';
import { AlarmService } from './alarms/alarm-service';
import { AuditLog } from './audit/audit-log';
import { auditRoutes } from './audit/audit-routes';
import { authRoutes } from './auth/auth-routes';
import { AuthService } from './auth/auth-service';
import { LoginGuard } from './auth/login-guard';
import { SessionService } from './auth/session-service';
import { CameraCatalogue } from './cameras/camera-catalogue';
import { CameraHealthBoard } from './cameras/camera-health';
import { cameraRoutes } from './cameras/camera-routes';
import { registrationRoutes } from './cameras/registration-routes';
import { CameraRegistration } from './cameras/registration-service';
import { type CenterConfig, type CenterConfigInput, resolveCenterConfig } from './config';
import { Fanout, type FanoutOptions } from './fanout/fanout';
import { GatewayAdmin } from './gateways/gateway-admin';
import { gatewayRoutes } from './gateways/gateway-routes';
import { continuingBasis } from './grants/grant-continuation';
import { GrantService, type GrantSettings } from './grants/grant-service';
import { grantRoutes } from './grants/grant-routes';
import { GrantStore } from './grants/grant-store';
import type { RtspGrantAccess } from './grants/rtsp-credentials';
import { healthRoutes } from './health/health-routes';
import { docsRoutes } from './http/docs-routes';
import { type RegisteredRoute, createHttpApp } from './http/http-app';
import { GatewayLinkServer } from './link/gateway-link-server';
import { GatewayRequests } from './link/gateway-requests';
import { linkRoutes } from './link/link-routes';
import { LOG_REDACT } from './logging';
import { CentreMetrics } from './metrics/metrics';
import { metricsRoutes } from './metrics/metrics-routes';
import { orgRoutes } from './orgs/org-routes';
import { PrefsStore } from './prefs/prefs-store';
import { prefsRoutes } from './prefs/prefs-routes';
import { AlarmStore } from './storage/alarm-store';
import { type Db, openDatabase } from './storage/database';
import { CameraStore } from './storage/camera-store';
import { GatewayStore } from './storage/gateway-store';
import { LoginFailureStore } from './storage/login-failure-store';
import { OrgStore } from './storage/org-store';
import { RegistrationStore } from './storage/registration-store';
import { SessionStore } from './storage/session-store';
import { UserStore } from './storage/user-store';
import { UserAdmin } from './users/user-admin';
import { userRoutes } from './users/user-routes';
import { RtspExportServer } from './rtsp-export/rtsp-export-server';
import { LiveViews } from './viewer/live-views';
import { ViewerHub } from './viewer/viewer-hub';
import { viewerRoutes } from './viewer/viewer-routes';
import { loadWebAssets } from './web/web-assets';
import { watchingRoutes } from './viewer/watching-routes';
import { webRoutes } from './web/web-routes';

export const CENTRE_VERSION = '0.2.0';

export interface ControlCenterOptions {
  /** Fan-out tuning and test hooks (see `FanoutOptions`); shard count and trace are config. */
  fanout?: Omit<FanoutOptions, 'peer' | 'upstreamLingerMs' | 'shards' | 'trace'>;
  logger?: Logger;
  /**
   * Who may use the RTSP re-export (config `rtspExport`): the grant module's credentials. Without
   * it, every RTSP user is unknown and refused.
   */
  rtspGrants?: RtspGrantAccess;
}


const MINUTE = 60_000;

/**
 * The regional control centre. This file only composes: storage, access policy, services,
 * the gateway link, the fan-out, and the HTTP areas (each a fastify plugin in its folder).
 */
export class ControlCenter {
  private closed = false;

  private constructor(
    readonly config: Readonly<CenterConfig>,
    readonly app: FastifyInstance,
    readonly url: string,
    /** Every route as registered (the authorization matrix enumerates them). */
    readonly routes: readonly RegisteredRoute[],
    /** The access policy, for modules that extend it (police grants). */
    readonly policy: AccessPolicy,
    /** Where anything that withdraws access cuts live sessions. */
    readonly revocations: AccessRevocations,
    readonly liveViews: LiveViews,
    /** Police grants (lifecycle, expiry timers). */
    readonly grants: GrantService,
    /** Grant credentials for the RTSP re-export (Digest lookup); its sessions end through `revocations`. */
    readonly rtspGrants: RtspGrantAccess,
    private readonly db: Db,
    private readonly link: GatewayLinkServer,
    private readonly alarms: AlarmService,
    private readonly requests: GatewayRequests,
    /** The fan-out (diagnostics and tests: its shards' counters, placement, test hooks). */
    readonly fanout: Fanout,
    private readonly hub: ViewerHub,
    private readonly sessionSweep: NodeJS.Timeout,
    private readonly metricsApp: FastifyInstance | undefined,
    /** URL of the separate metrics listener, when configured. */
    readonly metricsUrl: string | undefined,
    /** The RTSP re-export to police video systems, when configured (`rtspExport`). */
    readonly rtspExport: RtspExportServer | undefined,
  ) {}

  static async create(input: CenterConfigInput = {}, opts: ControlCenterOptions = {}): Promise<ControlCenter> {
    const config = resolveCenterConfig(input);
    const log = opts.logger ?? pino({ name: 'control-center', level: config.logLevel, redact: LOG_REDACT });
    const tls = config.tls ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : undefined;
    const db = openDatabase(join(config.dataDir, 'centre.sqlite'));
    const opened: Opened = {};
    try {
      return await ControlCenter.start(config, opts, log, tls, db, opened);
    } catch (err) {
      // Failed to start: close what was opened (listeners, timers, database) before rejecting.
      await opened.rtspExport?.close();
      opened.hub?.close();
      opened.grants?.close();
      opened.alarms?.close();
      opened.requests?.close();
      opened.link?.close();
      opened.fanout?.close();
      await opened.fanout?.done;
      clearInterval(opened.sweep);
      await opened.app?.close().catch(() => undefined);
      await opened.metricsApp?.close().catch(() => undefined);
      db.close();
      throw err;
    }
  }

  private static async start(
    config: Readonly<CenterConfig>,
    opts: ControlCenterOptions,
    log: Logger,
    tls: { cert: Buffer; key: Buffer } | undefined,
    db: Db,
    opened: Opened,
  ): Promise<ControlCenter> {
    // Storage: one module per table.
    const orgs = new OrgStore(db);
    const users = new UserStore(db);
    const gateways = new GatewayStore(db);
    const cameras = new CameraStore(db);
    const audit = new AuditLog(db);
    const alarmStore = new AlarmStore(db);
    const registrations = new RegistrationStore(db);
    // Nothing is known of any camera until its gateway reports again.
    cameras.markAllUnknown('waiting for the school gateway to report');
    const health = new CameraHealthBoard();
    const catalogue = new CameraCatalogue(cameras, health, registrations);

    // Alarms from gateway events and from gateway links going away.
    const alarms = new AlarmService(alarmStore, gateways, audit, log.child({ module: 'centre:alarms' }), { offlineGraceMs: config.gatewayOfflineGraceMs });
    opened.alarms = alarms;

    // The link and the fan-out, joined by events (the link knows nothing of the fan-out).
    const link = new GatewayLinkServer(gateways, cameras, log.child({ module: 'centre:link' }), {
      messagesPerSecond: config.limits.linkMessagesPerSecond,
      onDropped: () => metrics.linkMessagesDropped.inc(),
      sinks: { events: (gw, events) => alarms.ingest(gw, events), health: (gw, report) => health.report(gw, report) },
    });
    opened.link = link;
    const requests = new GatewayRequests(link, log.child({ module: 'centre:requests' }));
    opened.requests = requests;
    link.on('reply', (gw, msg) => requests.onReply(gw, msg));
    link.on('gatewayUp', (gw) => alarms.linkUp(gw));
    link.on('gatewayGone', (gw, cause) => {
      health.forgetGateway(gw);
      requests.gatewayGone(gw);
      alarms.linkDown(gw, cause);
    });
    alarms.awaitGateways(gateways.list().filter((g) => g.enrolledAt !== null && g.revokedAt === null).map((g) => g.id));
    const fanout = new Fanout(
      link,
      { ...opts.fanout, peer: { loopbackOnly: config.loopbackOnly }, upstreamLingerMs: config.upstreamLingerMs, shards: config.fanoutShards, trace: config.fanoutTrace },
      log.child({ module: 'centre:fanout' }),
    );
    opened.fanout = fanout;
    link.on('offer', (gw, stream, sdp) => void fanout.onOffer(gw, stream, sdp));
    link.on('streamEnded', (gw, stream, reason) => fanout.onStreamEnded(gw, stream, reason));
    link.on('gatewayGone', (gw) => fanout.onGatewayGone(gw));

    const figures = { viewerSockets: (): number => 0 };
    const metrics = new CentreMetrics({
      gatewaysOnline: () => link.onlineCount(),
      feeds: () => fanout.stats().feeds,
      viewers: () => fanout.stats().viewers,
      viewerSockets: () => figures.viewerSockets(),
    });
    audit.onWriteFailure((err) => {
      metrics.auditWriteFailures.inc();
      log.error({ err: err.message }, 'audit log write failed');
    });

    // Access: one policy, one revocation channel, sessions, sign-in.
    const policy = new AccessPolicy();
    const revocations = new AccessRevocations();
    const sessions = new SessionService(new SessionStore(db), users, {
      idleMs: config.session.idleMinutes * MINUTE,
      absoluteMs: config.session.absoluteMinutes * MINUTE,
    });
    const guard = new LoginGuard(new LoginFailureStore(db), {
      maxFailuresPerUser: config.login.maxFailuresPerUser,
      lockMs: config.login.lockMinutes * MINUTE,
      windowMs: config.login.windowMinutes * MINUTE,
      maxFailuresPerAddress: config.login.maxFailuresPerAddress,
    });
    const auth = new AuthService({ users, sessions, guard, audit, metrics, revocations, totpRequiredFor: config.totpRequiredFor });
    opened.sweep = setInterval(() => sessions.sweep(), MINUTE);
    opened.sweep.unref();

    // Police grants: an extension of the policy, ended through the revocation channel.
    const grantSettings: GrantSettings = { ...config.grants, rtspPublicUrl: config.rtspExport.publicUrl };
    const grants = new GrantService(
      {
        store: new GrantStore(db),
        orgs,
        cameras,
        audit,
        revocations,
        viewsUnder: (grantId) => liveViews.list().filter((v) => v.basis.kind === 'grant' && v.basis.grantId === grantId).length,
        viewsContinuedFrom: (grantId) => liveViews.list().filter((v) => v.continuedFrom.includes(grantId)).length,
        log: log.child({ module: 'centre:grants' }),
      },
      grantSettings,
    );
    opened.grants = grants;
    policy.extend(grants);

    // Live views and the viewer sockets.
    const liveViews = new LiveViews(
      fanout,
      audit,
      { perUser: config.limits.viewersPerUser, total: config.limits.viewersTotal },
      log.child({ module: 'centre:views' }),
      (view) => {
        metrics.viewStarts.inc();
        grants.viewStarted(view);
      },
      Date.now,
      (view) => {
        const next = continuingBasis(policy, view);
        if (next) grants.viewStarted({ ...view, basis: next });
        return next;
      },
    );
    const hub = new ViewerHub(
      {
        liveViews,
        policy,
        cameras: catalogue,
        openAlarms: (p) => visibleAlarms(policy, alarmStore, cameras, p, { open: true, limit: 200 }),
        audit,
        lookupSession: (id) => sessions.lookupById(id),
        onRefused: (code) => metrics.refusals.inc({ code, channel: 'viewer' }),
        limits: { tilesPerSocket: config.limits.tilesPerSocket, answerTimeoutMs: config.limits.answerTimeoutMs },
        log: log.child({ module: 'centre:viewer' }),
      },
      liveViews,
      revocations,
    );
    opened.hub = hub;
    figures.viewerSockets = () => hub.size;
    link.on('cameras', () => hub.camerasChanged());
    alarms.on('change', (alarm, change) => hub.alarmChanged(alarm, change));
    // Grant changes reach the dashboards that may see them at once; camera lists follow.
    grants.on('change', (g, change) => {
      hub.push({ type: 'grant', change, grant: grants.view(g) }, (p) => grants.canSee(p, g));
      hub.camerasChanged();
    });
    grants.start();

    // HTTP: shared plumbing, then one plugin per area.
    const authDeps = { sessions, policy, audit, metrics, publicOrigin: config.publicOrigin, tls: Boolean(tls) };
    const { app, routes } = await createHttpApp({
      logger: log.child({ module: 'centre:http' }),
      tls,
      requestsPerMinute: config.limits.requestsPerMinute,
      auth: authDeps,
      version: CENTRE_VERSION,
    });
    opened.app = app;
    const assets = await loadWebAssets(config.web);
    await app.register(webRoutes, { assets });
    await app.register(docsRoutes);
    await app.register(healthRoutes, { db, audit });
    await app.register(authRoutes, { auth, sessions, secureCookie: Boolean(tls) });
    await app.register(orgRoutes, { orgs, policy, audit });
    await app.register(userRoutes, { users, admin: new UserAdmin(users, orgs, sessions, revocations, audit) });
    await app.register(cameraRoutes, { cameras: catalogue, policy, audit, metrics });
    await app.register(alarmRoutes, { alarms, store: alarmStore, cameras, policy, audit, metrics });
    const registration = new CameraRegistration({ requests, gateways, link, cameras, registrations, audit, changed: () => hub.camerasChanged() });
    await app.register(registrationRoutes, { registration, catalogue, orgs, gateways, link, policy, audit, metrics });
    await app.register(watchingRoutes, { liveViews, cameras: catalogue, orgs, policy, audit, metrics });
    await app.register(grantRoutes, { grants, audit, metrics });
    const gatewayAdmin = new GatewayAdmin(gateways, orgs, cameras, link, revocations, audit, config.enrolmentTokenMinutes * MINUTE);
    await app.register(gatewayRoutes, { gateways, admin: gatewayAdmin, link, publicOrigin: config.publicOrigin, tls: Boolean(tls) });
    await app.register(auditRoutes, { audit });
    await app.register(prefsRoutes, { prefs: new PrefsStore(db) });
    await app.register(viewerRoutes, { hub });
    await app.register(linkRoutes, { link });
    if (config.metrics.token) await app.register(metricsRoutes, { metrics, token: config.metrics.token });

    await app.listen({ host: config.host, port: config.port });
    const url = listenUrl(app, config.host, Boolean(tls));

    let metricsApp: FastifyInstance | undefined;
    let metricsUrl: string | undefined;
    if (config.metrics.port !== undefined) {
      metricsApp = Fastify({ loggerInstance: log.child({ module: 'centre:metrics' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
      opened.metricsApp = metricsApp;
      await metricsApp.register(metricsRoutes, { metrics, token: undefined });
      await metricsApp.listen({ host: config.metrics.host, port: config.metrics.port });
      metricsUrl = listenUrl(metricsApp, config.metrics.host, false);
    }

    // RTSP re-export to police video systems: sessions are live views under their grant, cut by its revocation.
    let rtspExport: RtspExportServer | undefined;
    const rx = config.rtspExport;
    if (rx.port !== undefined) {
      rtspExport = await RtspExportServer.create(
        {
          host: rx.host ?? config.host,
          port: rx.port,
          publicUrl: rx.publicUrl,
          udp: rx.udp ?? true,
          tls: rx.tls ? { cert: readFileSync(rx.tls.cert), key: readFileSync(rx.tls.key) } : undefined,
        },
        { grants: opts.rtspGrants ?? grants, cameras, liveViews, audit, log: log.child({ module: 'centre:rtsp-export' }) },
      );
      opened.rtspExport = rtspExport;
      // With port 0 the address is known only now: the grants' RTSP URLs point at it.
      grantSettings.rtspPublicUrl ??= rtspExport.baseUrl;
    }
    return new ControlCenter(config, app, url, routes, policy, revocations, liveViews, grants, opts.rtspGrants ?? grants, db, link, alarms, requests, fanout, hub, opened.sweep, metricsApp, metricsUrl, rtspExport);
  }

  stats(): { gatewaysOnline: number; feeds: number; viewers: number; viewerSockets: number; liveViews: number } {
    return { gatewaysOnline: this.link.onlineCount(), ...this.fanout.stats(), viewerSockets: this.hub.size, liveViews: this.liveViews.size };
  }

  /** Idempotent: viewers, live views, feeds and gateway links first, then HTTP, then the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sessionSweep);
    await this.rtspExport?.close();
    this.grants.close();
    this.hub.close();
    this.liveViews.close();
    this.fanout.close();
    this.alarms.close();
    this.requests.close();
    this.link.close();
    await this.fanout.done;
    await this.app.close();
    await this.metricsApp?.close();
    this.db.close();
  }
}

interface Opened {
  rtspExport?: RtspExportServer;
  grants?: GrantService;
  link?: GatewayLinkServer;
  alarms?: AlarmService;
  requests?: GatewayRequests;
  fanout?: Fanout;
  hub?: ViewerHub;
  app?: FastifyInstance;
  metricsApp?: FastifyInstance;
  sweep?: NodeJS.Timeout;
}

function listenUrl(app: FastifyInstance, host: string, tls: boolean): string {
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const h = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}
