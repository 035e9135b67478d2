import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessBasis } from '../access/policy';
import type { Role } from '../access/principal';
import { type EndCause, type ViewSelector, describeCause } from '../access/revocation';
import type { AuditInput } from '../audit/audit-log';
import { AppError } from '../errors';
import type { FeedLease, StreamProfileName, TapLease, ViewerLease } from '../fanout/fanout';

/** What live views need of the fan-out (the `Fanout` class satisfies it; tests pass a fake). */
export interface WatchPort {
  watch(cameraId: string, gatewayId: string, profile?: StreamProfileName): Promise<ViewerLease>;
  tap(cameraId: string, gatewayId: string): TapLease;
}

/**
 * How a view's video reaches its viewer: WebRTC from the fan-out, fMP4 over the viewer
 * WebSocket (MSE, where WebRTC cannot connect), or the RTSP re-export to a police video system.
 */
export type ViewTransport = 'webrtc' | 'mse' | 'rtsp';

/** What live views need of the audit log. `append` throws when the entry cannot be written. */
export interface AuditSink {
  append(entry: AuditInput): unknown;
  record(entry: AuditInput): boolean;
}

/** The account (and session) a live view belongs to. */
export interface ViewOwner {
  userId: string;
  sessionId: string;
  username: string;
  role: Role;
  orgId: string;
  /** The client's address, for the audit log. */
  address: string;
}

export interface ViewedCamera {
  id: string;
  gatewayId: string;
  schoolId: string;
}

export interface LiveViewInfo {
  id: string;
  owner: ViewOwner;
  camera: ViewedCamera;
  basis: AccessBasis;
  transport: ViewTransport;
  startedAt: number;
  /** Grants this view ran under before and continued past (each ended while another active grant still covered the camera), oldest first. */
  continuedFrom: readonly string[];
}

/**
 * When the grant a view runs under ends: the basis it may continue under (another active grant
 * covering the camera for the same account), or undefined to cut it.
 */
export type ContinueUnder = (view: LiveViewInfo) => AccessBasis | undefined;

export interface LiveViewLimits {
  /** Views (running or starting) one account may hold. */
  perUser: number;
  /** Views the centre serves at once. */
  total: number;
}

/**
 * One person watching one camera: a fan-out lease plus who, what, why allowed and since
 * when. It ends exactly once — by the viewer, by the stream, or cut from outside with a
 * typed cause — and its end is audited with the duration.
 */
export class LiveView<L extends FeedLease = ViewerLease> implements LiveViewInfo {
  private ended: EndCause | undefined;
  private readonly listeners: ((cause: EndCause) => void)[] = [];
  private currentBasis: AccessBasis;
  private readonly formerGrants: string[] = [];

  constructor(
    /** The view's id, as in its audit entries (`detail.viewId`). */
    readonly id: string,
    readonly owner: ViewOwner,
    readonly camera: ViewedCamera,
    basis: AccessBasis,
    readonly transport: ViewTransport,
    readonly startedAt: number,
    /** The fan-out's lease the video comes through (a WebRTC viewer's, or a raw tap). */
    readonly lease: L,
    private readonly finish: (view: LiveView<FeedLease>, cause: EndCause) => void,
  ) {
    this.currentBasis = basis;
    lease.onEnded((reason) => this.end({ kind: 'stream_ended', detail: reason }));
  }

  /** Why the view is allowed now: the access it started under, or the grant it continued under. */
  get basis(): AccessBasis {
    return this.currentBasis;
  }

  get continuedFrom(): readonly string[] {
    return this.formerGrants;
  }

  /** The grant the view ran under ended while `basis` still allows it: it runs on under `basis`. */
  continueUnder(basis: AccessBasis): void {
    if (this.ended) return;
    if (this.currentBasis.kind === 'grant') this.formerGrants.push(this.currentBasis.grantId);
    this.currentBasis = basis;
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /** Called once, when the view ends (immediately if it already has). */
  onEnd(cb: (cause: EndCause) => void): void {
    if (this.ended) cb(this.ended);
    else this.listeners.push(cb);
  }

  /** Ends the view (idempotent): releases the lease, audits, tells the listeners. */
  end(cause: EndCause): void {
    if (this.ended) return;
    this.ended = cause;
    this.lease.release();
    this.finish(this, cause);
    for (const l of this.listeners.splice(0)) l(cause);
  }
}

interface PendingStart {
  viewId: string;
  owner: ViewOwner;
  camera: ViewedCamera;
  basis: AccessBasis;
  transport: ViewTransport;
  cancelled: EndCause | undefined;
}

/**
 * Every live view in the centre. Starting one checks the per-account and global caps and
 * writes the audit entry first: when the audit log cannot take it, the view does not start
 * (fail closed). Anything that withdraws access cuts the matching views — running ones and
 * ones still starting — through {@link cut}.
 */
export class LiveViews {
  private readonly views = new Set<LiveView<FeedLease>>();
  private readonly pending = new Set<PendingStart>();
  private closed = false;

  constructor(
    private readonly fanout: WatchPort,
    private readonly audit: AuditSink,
    private readonly limits: LiveViewLimits,
    private readonly log: Logger,
    private readonly onStarted: (view: LiveViewInfo) => void = () => undefined,
    private readonly now: () => number = Date.now,
    /**
     * Asked for each view whose grant ended: overlapping grants let it run on under another
     * (audited `view.continue`); without one, or without this hook, it is cut.
     */
    private readonly continueUnder: ContinueUnder = () => undefined,
  ) {}

  /** Starts a WebRTC view the policy has allowed. Throws TOO_MANY_VIEWERS, AUDIT_UNAVAILABLE, or the fan-out's error. */
  open(owner: ViewOwner, camera: ViewedCamera, basis: AccessBasis, profile: StreamProfileName = 'main'): Promise<LiveView> {
    return this.start(owner, camera, basis, 'webrtc', profile, () => this.fanout.watch(camera.id, camera.gatewayId, profile));
  }

  /**
   * Starts a view fed by a raw tap of the camera's H.264 (MSE fallback, RTSP re-export), with
   * the same caps, audit and cuts as a WebRTC view: a revocation matching its owner, camera or
   * grant ends it the same way. It carries the camera's main stream.
   */
  openTap(owner: ViewOwner, camera: ViewedCamera, basis: AccessBasis, transport: Exclude<ViewTransport, 'webrtc'>): Promise<LiveView<TapLease>> {
    return this.start(owner, camera, basis, transport, 'main', () => Promise.resolve(this.fanout.tap(camera.id, camera.gatewayId)));
  }

  private async start<L extends FeedLease>(
    owner: ViewOwner,
    camera: ViewedCamera,
    basis: AccessBasis,
    transport: ViewTransport,
    profile: StreamProfileName,
    lease: () => Promise<L>,
  ): Promise<LiveView<L>> {
    if (this.closed) throw new AppError('STREAM_ENDED', 'the centre is shutting down', 503);
    if (this.views.size + this.pending.size >= this.limits.total) {
      throw new AppError('TOO_MANY_VIEWERS', 'the centre is serving as many live views as it may', 429);
    }
    if (this.countFor(owner.userId) >= this.limits.perUser) {
      throw new AppError('TOO_MANY_VIEWERS', `at most ${this.limits.perUser} live views per account`, 429);
    }
    const viewId = randomUUID();
    const start: PendingStart = { viewId, owner, camera, basis, transport, cancelled: undefined };
    // Fail closed: no record, no view. Written before any media moves.
    this.audit.append(this.entry('view.start', 'ok', owner, camera, { viewId, basis, transport, profile }));
    this.pending.add(start);
    let held: L;
    try {
      held = await lease();
    } catch (err) {
      this.pending.delete(start);
      this.audit.record(this.entry('view.stop', 'failed', owner, camera, { viewId, durationMs: 0, cause: 'start_failed', error: (err as Error).message.slice(0, 200) }));
      throw err;
    }
    this.pending.delete(start);
    const startedAt = this.now();
    const view = new LiveView(viewId, owner, camera, start.basis, transport, startedAt, held, (v, cause) => this.finished(v, cause));
    this.views.add(view);
    const cancelled = start.cancelled ?? (this.closed ? ({ kind: 'centre_shutdown' } as const) : undefined);
    if (cancelled) {
      view.end(cancelled);
      throw new AppError('STREAM_ENDED', `view cut while starting: ${describeCause(cancelled)}`, 409);
    }
    this.onStarted(view);
    return view;
  }

  /**
   * Ends every view (and start in progress) matching the selector; returns how many. When a
   * grant ended, a view another active grant still covers is not cut: it continues under that
   * grant (see {@link ContinueUnder}), audited with both grants.
   */
  cut(selector: ViewSelector, cause: EndCause): number {
    let n = 0;
    let continued = 0;
    const grantEnded = 'grant' in selector && cause.kind === 'access_revoked';
    for (const p of this.pending) {
      if (!matches(selector, p.owner, p.camera, p.basis) || p.cancelled) continue;
      const next = grantEnded ? this.continueUnder({ id: p.viewId, owner: p.owner, camera: p.camera, basis: p.basis, transport: p.transport, startedAt: this.now(), continuedFrom: [] }) : undefined;
      if (next) {
        this.continued(p.viewId, p.owner, p.camera, p.basis, next, cause);
        p.basis = next;
        continued++;
      } else {
        p.cancelled = cause;
        n++;
      }
    }
    for (const v of [...this.views]) {
      if (!matches(selector, v.owner, v.camera, v.basis)) continue;
      const next = grantEnded ? this.continueUnder(v) : undefined;
      if (next) {
        this.continued(v.id, v.owner, v.camera, v.basis, next, cause);
        v.continueUnder(next);
        continued++;
      } else {
        v.end(cause);
        n++;
      }
    }
    if (n > 0 || continued > 0) this.log.info({ selector, cause: cause.kind, views: n, continued }, 'live views cut');
    return n;
  }

  /** Who is watching what now. */
  list(): LiveViewInfo[] {
    return [...this.views].map(({ id, owner, camera, basis, transport, startedAt, continuedFrom }) => ({ id, owner, camera, basis, transport, startedAt, continuedFrom: [...continuedFrom] }));
  }

  get size(): number {
    return this.views.size;
  }

  /** Ends every view (centre shutting down). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const v of [...this.views]) v.end({ kind: 'centre_shutdown' });
  }

  private countFor(userId: string): number {
    let n = 0;
    for (const v of this.views) if (v.owner.userId === userId) n++;
    for (const p of this.pending) if (p.owner.userId === userId) n++;
    return n;
  }

  /** A view whose grant ended runs on under another: audited with the grant that ended and the one it continues under (and their case references). */
  private continued(viewId: string, owner: ViewOwner, camera: ViewedCamera, from: AccessBasis, to: AccessBasis, cause: EndCause): void {
    const detail: Record<string, unknown> = { viewId, basis: to };
    if (from.kind === 'grant') {
      detail.endedGrantId = from.grantId;
      if (from.caseRef) detail.endedCaseRef = from.caseRef;
    }
    if (cause.kind === 'access_revoked' && cause.grantEnd) detail.grantEnd = cause.grantEnd;
    if (to.kind === 'grant') {
      detail.grantId = to.grantId;
      if (to.caseRef) detail.caseRef = to.caseRef;
    }
    this.audit.record(this.entry('view.continue', 'ok', owner, camera, detail));
  }

  private finished(view: LiveView<FeedLease>, cause: EndCause): void {
    this.views.delete(view);
    const viewId = view.id;
    const detail: Record<string, unknown> = { viewId, durationMs: this.now() - view.startedAt, cause: cause.kind };
    if (cause.kind === 'stream_ended') detail.reason = cause.detail.slice(0, 200);
    if (cause.kind === 'access_revoked' && cause.grantId) detail.grantId = cause.grantId;
    if (cause.kind === 'access_revoked' && cause.grantEnd) detail.grantEnd = cause.grantEnd;
    if (view.basis.kind === 'grant') {
      detail.grantId = view.basis.grantId;
      if (view.basis.caseRef) detail.caseRef = view.basis.caseRef;
    }
    if (view.continuedFrom.length > 0) detail.continuedFrom = [...view.continuedFrom];
    // The view has ended whatever happens here; a failed write is counted and alerted by the log itself.
    this.audit.record(this.entry('view.stop', 'ok', view.owner, view.camera, detail));
  }

  private entry(kind: 'view.start' | 'view.stop' | 'view.continue', outcome: 'ok' | 'failed', owner: ViewOwner, camera: ViewedCamera, detail: Record<string, unknown>): AuditInput {
    return { kind, outcome, actor: owner, address: owner.address, cameraId: camera.id, schoolId: camera.schoolId, target: camera.id, detail };
  }
}

function matches(selector: ViewSelector, owner: ViewOwner, camera: ViewedCamera, basis: AccessBasis): boolean {
  if ('session' in selector) return owner.sessionId === selector.session;
  if ('user' in selector) return owner.userId === selector.user;
  if ('gateway' in selector) return camera.gatewayId === selector.gateway;
  if ('camera' in selector) return camera.id === selector.camera;
  return basis.kind === 'grant' && basis.grantId === selector.grant;
}
