import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type RtspClientInfo, type RtspMediaSource, RtspServer } from '@schoolcam/protocol/rtsp/rtsp-server';
import type { TapLease } from '../fanout/fanout';
import type { RtspGrantAccess } from '../grants/rtsp-credentials';
import type { CameraRecord } from '../storage/camera-store';
import type { AuditSink, LiveView, LiveViews } from '../viewer/live-views';
import { ExportSource, type ParameterSets } from './export-source';

/** The Digest realm of the re-export (the grant module computes each user's HA1 with it). */
export const RTSP_EXPORT_REALM = 'schoolcam';

/** How often running sessions are checked against their grant (a backstop to revocation events). */
const GRANT_SWEEP_MS = 250;

export interface RtspExportOptions {
  /** Interface to listen on. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Base URL handed out in grant URLs (`rtsp://host:port`), when clients reach the centre by another name. */
  publicUrl?: string;
  /** Offer RTP over UDP to clients that ask for it (TCP interleaved always works). */
  udp: boolean;
  /** Serve RTSPS instead of RTSP (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  /** Seconds without a request or RTCP before a session ends. Default 60. */
  sessionTimeoutSec?: number;
}

export interface RtspExportDeps {
  grants: RtspGrantAccess;
  cameras: { get(id: string): CameraRecord | undefined };
  liveViews: LiveViews;
  audit: AuditSink;
  log: Logger;
}

/** A running re-export session: its grant's user name, so the sweep can re-check the grant. */
interface ExportSession {
  username: string;
  grantId: string;
  cameraId: string;
  view: LiveView<TapLease> | undefined;
  end(reason: string): void;
}

/**
 * The RTSP re-export to police video systems: `rtsp://host:port/grant/<grantId>/<cameraId>`
 * relays a camera's H.264 as it comes from the fan-out (no transcoding), to clients that
 * authenticate with Digest (realm `schoolcam`) as the RTSP user of an active grant covering
 * that camera. Each playing session is a live view (transport `rtsp`, basis the grant): it is
 * audited, counted in who-is-watching, and cut — its TCP connection closed — when access
 * revocations reach its grant, or within {@link GRANT_SWEEP_MS} of the grant's lookup failing.
 */
export class RtspExportServer {
  private readonly sessions = new Set<ExportSession>();
  /** The last parameter sets seen per camera, for DESCRIBE (`sprop-parameter-sets`). */
  private readonly parameterSets = new Map<string, ParameterSets>();
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly server: RtspServer,
    private readonly opts: RtspExportOptions,
    private readonly deps: RtspExportDeps,
  ) {
    this.sweep = setInterval(() => this.checkGrants(), GRANT_SWEEP_MS);
    this.sweep.unref();
  }

  static async create(opts: RtspExportOptions, deps: RtspExportDeps): Promise<RtspExportServer> {
    const holder: { self?: RtspExportServer } = {};
    const server = await RtspServer.create({
      host: opts.host,
      port: opts.port,
      realm: RTSP_EXPORT_REALM,
      udp: opts.udp,
      tls: opts.tls,
      sessionTimeoutSec: opts.sessionTimeoutSec,
      // Digest only, against the grant's stored HA1: a revoked or expired grant's user is unknown at its next request.
      auth: { mode: 'digest', users: {}, ha1Of: (username) => deps.grants.lookup(username)?.ha1 },
      resolve: (path, client) => holder.self?.resolve(path, client),
      logger: deps.log,
    });
    holder.self = new RtspExportServer(server, opts, deps);
    return holder.self;
  }

  /** The port listened on. */
  get port(): number {
    return this.server.port;
  }

  /** Where clients reach the re-export: `publicUrl`, or the listening address. */
  get baseUrl(): string {
    return this.opts.publicUrl ?? this.server.url('').replace(/\/$/, '');
  }

  /** The URL of a camera under a grant, without credentials (the grant module adds them). */
  url(grantId: string, cameraId: string): string {
    return `${this.baseUrl}/grant/${encodeURIComponent(grantId)}/${encodeURIComponent(cameraId)}`;
  }

  /** Sessions playing now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Idempotent: ends every session (their views end `centre_shutdown` with the live views), then the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    for (const s of [...this.sessions]) s.end('centre shutting down');
    await this.server.close();
  }

  /**
   * `grant/<grantId>/<cameraId>` for a user whose grant is that one, active, and covers the
   * camera; anything else is 404 (and audited), so nobody learns which grants or cameras exist.
   */
  private resolve(path: string, client: RtspClientInfo): RtspMediaSource | undefined {
    if (this.closed || client.username === undefined) return undefined;
    const m = /^grant\/([^/]{1,200})\/(.{1,300})$/.exec(path);
    const grant = this.deps.grants.lookup(client.username);
    const camera = m ? this.deps.cameras.get(m[2]) : undefined;
    if (!m || !grant || grant.grantId !== m[1] || !camera || !grant.cameraIds.includes(camera.id)) {
      this.deps.audit.record({
        kind: 'access.refused',
        outcome: 'refused',
        actor: grant ? { username: client.username, role: 'police', orgId: grant.forceId } : null,
        address: client.address,
        cameraId: m?.[2].slice(0, 300),
        target: 'rtsp.export',
        detail: { code: 'NOT_FOUND', grantId: m?.[1].slice(0, 200), reason: !m ? 'bad_path' : !grant ? 'unknown_user' : grant.grantId !== m[1] ? 'other_grant' : 'camera_not_granted' },
      });
      return undefined;
    }
    return new ExportSource(camera, this.parameterSets.get(camera.id), {
      start: (s) => this.start(s, client.username!, grant.grantId, camera, client.address ?? ''),
      onParameterSets: (sets) => this.parameterSets.set(camera.id, sets),
    });
  }

  /** PLAY: the grant is checked again and the session becomes a live view. */
  private start(control: { end(reason: string): void; attach(view: LiveView<TapLease>): void }, username: string, grantId: string, camera: CameraRecord, address: string): () => void {
    const session: ExportSession = { username, grantId, cameraId: camera.id, view: undefined, end: (reason) => control.end(reason) };
    const grant = this.deps.grants.lookup(username);
    if (this.closed || !grant || grant.grantId !== grantId || !grant.cameraIds.includes(camera.id)) {
      control.end('access revoked');
      return () => undefined;
    }
    this.sessions.add(session);
    let stopped = false;
    const owner = { userId: `rtsp:${username}`, sessionId: `rtsp:${randomUUID()}`, username, role: 'police' as const, orgId: grant.forceId, address };
    this.deps.liveViews
      .openTap(owner, { id: camera.id, gatewayId: camera.gatewayId, schoolId: camera.schoolId }, { kind: 'grant', grantId, caseRef: grant.caseRef }, 'rtsp')
      .then((view) => {
        if (stopped) {
          view.end({ kind: 'viewer_left' });
          return;
        }
        session.view = view;
        view.onEnd(() => {
          this.sessions.delete(session);
          control.end('view ended');
        });
        control.attach(view);
        this.deps.log.info({ camera: camera.id, grant: grantId, caseRef: grant.caseRef }, 'rtsp re-export session started');
      })
      .catch((err: Error) => {
        this.sessions.delete(session);
        this.deps.log.warn({ camera: camera.id, grant: grantId, err: err.message }, 'rtsp re-export session refused');
        control.end(err.message);
      });
    return () => {
      stopped = true;
      this.sessions.delete(session);
      session.view?.end({ kind: 'viewer_left' });
    };
  }

  /** Ends sessions whose grant no longer looks them up (expired, revoked) even if no revocation reached them. */
  private checkGrants(): void {
    for (const s of [...this.sessions]) {
      const grant = this.deps.grants.lookup(s.username);
      if (grant && grant.grantId === s.grantId && grant.cameraIds.includes(s.cameraId)) continue;
      this.sessions.delete(s);
      if (s.view) s.view.end({ kind: 'access_revoked', grantId: s.grantId });
      else s.end('access revoked');
    }
  }
}
