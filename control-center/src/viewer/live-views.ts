import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessBasis } from '../access/policy';
import type { Role } from '../access/principal';
import { type EndCause, type ViewSelector, describeCause } from '../access/revocation';
import type { AuditInput } from '../audit/audit-log';
import { AppError } from '../errors';
import type { StreamProfileName, ViewerLease } from '../fanout/fanout';

/** What live views need of the fan-out (the `Fanout` class satisfies it; tests pass a fake). */
export interface WatchPort {
  watch(cameraId: string, gatewayId: string, profile?: StreamProfileName): Promise<ViewerLease>;
}

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
  startedAt: number;
}

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
export class LiveView implements LiveViewInfo {
  readonly id = randomUUID();
  private ended: EndCause | undefined;
  private readonly listeners: ((cause: EndCause) => void)[] = [];

  constructor(
    readonly owner: ViewOwner,
    readonly camera: ViewedCamera,
    readonly basis: AccessBasis,
    readonly startedAt: number,
    private readonly lease: ViewerLease,
    private readonly finish: (view: LiveView, cause: EndCause) => void,
  ) {
    lease.onEnded((reason) => this.end({ kind: 'stream_ended', detail: reason }));
  }

  get offer(): string {
    return this.lease.offer;
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  accept(answerSdp: string): Promise<void> {
    return this.lease.accept(answerSdp);
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
  owner: ViewOwner;
  camera: ViewedCamera;
  basis: AccessBasis;
  cancelled: EndCause | undefined;
}

/**
 * Every live view in the centre. Starting one checks the per-account and global caps and
 * writes the audit entry first: when the audit log cannot take it, the view does not start
 * (fail closed). Anything that withdraws access cuts the matching views — running ones and
 * ones still starting — through {@link cut}.
 */
export class LiveViews {
  private readonly views = new Set<LiveView>();
  private readonly pending = new Set<PendingStart>();
  private closed = false;

  constructor(
    private readonly fanout: WatchPort,
    private readonly audit: AuditSink,
    private readonly limits: LiveViewLimits,
    private readonly log: Logger,
    private readonly onStarted: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a view the policy has allowed. Throws TOO_MANY_VIEWERS, AUDIT_UNAVAILABLE, or the fan-out's error. */
  async open(owner: ViewOwner, camera: ViewedCamera, basis: AccessBasis, profile: StreamProfileName = 'main'): Promise<LiveView> {
    if (this.closed) throw new AppError('STREAM_ENDED', 'the centre is shutting down', 503);
    if (this.views.size + this.pending.size >= this.limits.total) {
      throw new AppError('TOO_MANY_VIEWERS', 'the centre is serving as many live views as it may', 429);
    }
    if (this.countFor(owner.userId) >= this.limits.perUser) {
      throw new AppError('TOO_MANY_VIEWERS', `at most ${this.limits.perUser} live views per account`, 429);
    }
    const start: PendingStart = { owner, camera, basis, cancelled: undefined };
    // Fail closed: no record, no view. Written before any media moves.
    const viewId = randomUUID();
    this.audit.append(this.entry('view.start', 'ok', owner, camera, { viewId, basis, profile }));
    this.pending.add(start);
    let lease: ViewerLease;
    try {
      lease = await this.fanout.watch(camera.id, camera.gatewayId, profile);
    } catch (err) {
      this.pending.delete(start);
      this.audit.record(this.entry('view.stop', 'failed', owner, camera, { viewId, durationMs: 0, cause: 'start_failed', error: (err as Error).message.slice(0, 200) }));
      throw err;
    }
    this.pending.delete(start);
    const startedAt = this.now();
    const view = new LiveView(owner, camera, basis, startedAt, lease, (v, cause) => this.finished(v, cause, viewId));
    this.views.add(view);
    const cancelled = start.cancelled ?? (this.closed ? ({ kind: 'centre_shutdown' } as const) : undefined);
    if (cancelled) {
      view.end(cancelled);
      throw new AppError('STREAM_ENDED', `view cut while starting: ${describeCause(cancelled)}`, 409);
    }
    this.onStarted();
    return view;
  }

  /** Ends every view (and start in progress) matching the selector; returns how many. */
  cut(selector: ViewSelector, cause: EndCause): number {
    let n = 0;
    for (const p of this.pending) {
      if (matches(selector, p.owner, p.camera, p.basis) && !p.cancelled) {
        p.cancelled = cause;
        n++;
      }
    }
    for (const v of [...this.views]) {
      if (matches(selector, v.owner, v.camera, v.basis)) {
        v.end(cause);
        n++;
      }
    }
    if (n > 0) this.log.info({ selector, cause: cause.kind, views: n }, 'live views cut');
    return n;
  }

  /** Who is watching what now. */
  list(): LiveViewInfo[] {
    return [...this.views].map(({ id, owner, camera, basis, startedAt }) => ({ id, owner, camera, basis, startedAt }));
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

  private finished(view: LiveView, cause: EndCause, viewId: string): void {
    this.views.delete(view);
    const detail: Record<string, unknown> = { viewId, durationMs: this.now() - view.startedAt, cause: cause.kind };
    if (cause.kind === 'stream_ended') detail.reason = cause.detail.slice(0, 200);
    if (cause.kind === 'access_revoked' && cause.grantId) detail.grantId = cause.grantId;
    // The view has ended whatever happens here; a failed write is counted and alerted by the log itself.
    this.audit.record(this.entry('view.stop', 'ok', view.owner, view.camera, detail));
  }

  private entry(kind: 'view.start' | 'view.stop', outcome: 'ok' | 'failed', owner: ViewOwner, camera: ViewedCamera, detail: Record<string, unknown>): AuditInput {
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
