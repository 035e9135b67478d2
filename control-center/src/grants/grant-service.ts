import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AccessExtension, CameraPermission, ExtraAccess } from '../access/policy';
import type { Principal } from '../access/principal';
import type { AccessRevocations } from '../access/revocation';
import type { AuditActor, AuditInput } from '../audit/audit-log';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import type { CameraRecord } from '../storage/camera-store';
import type { OrgRecord } from '../storage/org-store';
import type { GrantRecord, GrantState, GrantStore } from './grant-store';
import { type RtspGrantAccess, issueRtspCredentials, rtspGrantUrl } from './rtsp-credentials';
import { type GrantView, grantView } from './grant-view';

const MINUTE = 60_000;
/** Longest delay one Node.js timer can hold (about 24.8 days); longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The legal basis written on an emergency grant (the region's pre-approval in config). */
export const EMERGENCY_LEGAL_BASIS = 'emergency sharing pre-approved by the region';

export interface GrantSettings {
  defaultMinutes: number;
  maxMinutes: number;
  twoPersonRule: boolean;
  emergencyMinutes: number;
  /** Town id → force id, where the emergency force is not the town's own. */
  emergencyForces: Readonly<Record<string, string>>;
  /** `rtsp://host:port` of the re-export, or undefined: grants then carry no RTSP URLs. */
  rtspPublicUrl: string | undefined;
}

export interface GrantDeps {
  store: GrantStore;
  orgs: { get(id: string): OrgRecord | undefined; list(): OrgRecord[] };
  cameras: { get(id: string): CameraRecord | undefined; list(): CameraRecord[] };
  audit: { append(entry: AuditInput): unknown; record(entry: AuditInput): boolean };
  revocations: AccessRevocations;
  /** Live views running under a grant (for the audit of its end). */
  viewsUnder(grantId: string): number;
  /** Live views that ran under a grant and continued under another when it ended (for the audit of its end). */
  viewsContinuedFrom(grantId: string): number;
  log: Logger;
  now?: () => number;
}

/** What changed, for the dashboards (pushed over the viewer socket). */
export type GrantChange = 'created' | 'active' | 'ended' | 'emergency' | 'extended';

export interface GrantEvents {
  change: [grant: GrantRecord, change: GrantChange];
}

export interface GrantInput {
  forceId: string;
  cameraIds?: string[];
  schoolId?: string;
  reason: string;
  caseRef: string;
  legalBasis: string;
  minutes?: number;
  snapshots?: boolean;
  audio?: boolean;
}

/** Who acts, and from where (for the audit log). */
export interface GrantActor {
  principal: Principal;
  address: string;
}

export interface CreatedGrant {
  grant: GrantRecord;
  /** The RTSP re-export URL of each camera, password included (shown only here). */
  rtsp: { cameraId: string; url: string }[];
}

/**
 * Police grants: creation, the two-person rule, approval, expiry on time (timers, re-armed at
 * start; a grant that expired while the centre was down is expired at start), revocation,
 * extension and emergencies. Ending a grant goes through `AccessRevocations`, which cuts every
 * live session it carried. Also the access extension that gives a force its active grants'
 * cameras, and the RTSP credential lookup of the re-export.
 */
export class GrantService extends EventEmitter<GrantEvents> implements AccessExtension, RtspGrantAccess {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Active grants per force, kept in memory: the policy asks on every decision. */
  private activeByForce = new Map<string, GrantRecord[]>();
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly deps: GrantDeps,
    private readonly settings: GrantSettings,
  ) {
    super();
    this.now = deps.now ?? Date.now;
  }

  /** Expires what ran out while the centre was down and arms a timer for every active grant. */
  start(): void {
    const now = this.now();
    for (const g of this.deps.store.inState('active')) {
      if (g.expiresAt !== null && g.expiresAt <= now) this.expire(g.id, true);
      else this.arm(g);
    }
    this.reindex();
  }

  // ---- access --------------------------------------------------------------------------

  extraAccess(principal: Principal): readonly ExtraAccess[] {
    if (principal.role !== 'police') return [];
    const now = this.now();
    // Longest-lived first: a view opened under it is the last to be cut when grants overlap.
    return (this.activeByForce.get(principal.orgId) ?? [])
      .filter((g) => g.expiresAt !== null && g.expiresAt > now)
      .map((g) => ({
        basis: { kind: 'grant', grantId: g.id, caseRef: g.caseRef },
        schoolIds: new Set(g.wholeSchoolId ? [g.wholeSchoolId] : []),
        cameraIds: new Set(g.cameraIds),
        // Live view always; snapshots only when the grant says so.
        permissions: new Set<CameraPermission>(g.snapshots ? ['camera.read', 'camera.view', 'camera.snapshot'] : ['camera.read', 'camera.view']),
      }));
  }

  lookup(username: string): ReturnType<RtspGrantAccess['lookup']> {
    const g = this.deps.store.byRtspUser(username);
    if (!g || !this.isLive(g) || !g.rtspHa1) return undefined;
    return { grantId: g.id, caseRef: g.caseRef, forceId: g.forceId, ha1: g.rtspHa1, cameraIds: this.camerasOf(g) };
  }

  /** Whether a principal may see a grant: the region's roles all, a force its own, a school those touching it. */
  canSee(principal: Principal, g: GrantRecord): boolean {
    switch (principal.role) {
      case 'admin':
      case 'operator':
      case 'auditor':
        return true;
      case 'police':
        return g.forceId === principal.orgId;
      case 'school_it':
        return g.schoolIds.includes(principal.orgId);
    }
  }

  /** The cameras a grant covers now (a whole-school grant: the school's cameras today). */
  /** A grant as the API and the dashboards show it. */
  view(g: GrantRecord): GrantView {
    return grantView(g, this.camerasOf(g), (id) => this.deps.orgs.get(id)?.name);
  }

  camerasOf(g: GrantRecord): string[] {
    if (!g.wholeSchoolId) return [...g.cameraIds];
    return this.deps.cameras
      .list()
      .filter((c) => c.schoolId === g.wholeSchoolId)
      .map((c) => c.id);
  }

  list(principal: Principal): GrantRecord[] {
    return this.deps.store.list().filter((g) => this.canSee(principal, g));
  }

  /** One grant the principal may see; NOT_FOUND otherwise (a grant of another force does not exist for them). */
  get(principal: Principal, id: string): GrantRecord {
    const g = this.deps.store.get(id);
    if (!g || !this.canSee(principal, g)) throw notFound('grant');
    return g;
  }

  // ---- changes --------------------------------------------------------------------------

  /** An operator creates a grant (active, or pending under the two-person rule); a police officer requests one for their own force. */
  create(actor: GrantActor, input: GrantInput): CreatedGrant {
    const p = actor.principal;
    if (p.role !== 'operator' && p.role !== 'police') throw forbidden('only operators create grants; police may request one');
    if (p.role === 'police' && input.forceId !== p.orgId) throw forbidden('a police officer may request grants for their own force only');
    const force = this.deps.orgs.get(input.forceId);
    if (!force || force.kind !== 'police') throw badRequest(`forceId ${input.forceId} is not a police force`);
    const minutes = input.minutes ?? this.settings.defaultMinutes;
    if (minutes > this.settings.maxMinutes) throw badRequest(`minutes may be at most ${this.settings.maxMinutes}`);
    const target = this.target(input);
    const now = this.now();
    const state: GrantState = p.role === 'police' ? 'requested' : this.settings.twoPersonRule ? 'pending' : 'active';
    const creds = this.settings.rtspPublicUrl ? issueRtspCredentials() : undefined;
    const grant: GrantRecord = {
      id: randomUUID(),
      forceId: force.id,
      ...target,
      state,
      emergency: false,
      reason: input.reason,
      caseRef: input.caseRef,
      legalBasis: input.legalBasis,
      snapshots: input.snapshots ?? false,
      audio: input.audio ?? false,
      minutes,
      createdBy: p.username,
      createdAt: now,
      endorsedBy: p.role === 'operator' ? p.username : null,
      approvedBy: state === 'active' ? p.username : null,
      startsAt: state === 'active' ? now : null,
      expiresAt: state === 'active' ? now + minutes * MINUTE : null,
      endedAt: null,
      endedBy: null,
      firstUsedAt: null,
      rtspUser: creds?.username ?? null,
      rtspHa1: creds?.ha1 ?? null,
    };
    // Fail closed: a grant that cannot be audited is not created.
    this.deps.audit.append(this.entry(p.role === 'police' ? 'grant.request' : 'grant.create', actor, grant, { state, minutes, forceId: grant.forceId, cameras: grant.cameraIds, wholeSchoolId: grant.wholeSchoolId, legalBasis: grant.legalBasis, snapshots: grant.snapshots, audio: grant.audio }));
    this.deps.store.insert(grant);
    this.changed(grant, 'created');
    const rtsp = creds && this.settings.rtspPublicUrl ? this.camerasOf(grant).map((cameraId) => ({ cameraId, url: rtspGrantUrl(this.settings.rtspPublicUrl!, creds, grant.id, cameraId) })) : [];
    return { grant, rtsp };
  }

  /** An operator approves a police request or a pending grant; the two-person rule wants someone other than whoever stands behind it already. */
  approve(actor: GrantActor, id: string): GrantRecord {
    const p = actor.principal;
    const g = this.get(p, id);
    if (p.role !== 'operator') throw forbidden('only operators approve grants');
    if (g.state !== 'requested' && g.state !== 'pending') throw conflict(`the grant is ${g.state}; nothing to approve`);
    if (g.state === 'pending' && (g.endorsedBy === p.username || g.createdBy === p.username)) {
      throw forbidden('the two-person rule needs a second operator to approve this grant');
    }
    const now = this.now();
    const activate = g.state === 'pending' || !this.settings.twoPersonRule;
    const patch = activate
      ? { state: 'active' as const, approvedBy: p.username, startsAt: now, expiresAt: now + g.minutes * MINUTE, ...(g.endorsedBy ? {} : { endorsedBy: p.username }) }
      : { state: 'pending' as const, endorsedBy: p.username };
    this.deps.audit.append(this.entry('grant.approve', actor, g, { from: g.state, to: patch.state }));
    if (!this.deps.store.transition(id, [g.state], patch)) throw conflict('the grant changed meanwhile; look again');
    const after = this.deps.store.get(id)!;
    if (after.state === 'active') this.changed(after, 'active');
    return after;
  }

  /**
   * Ends a grant before its time. The region (operators, admins) may revoke any grant; school
   * IT a grant touching only its own school's cameras. Every session under it is cut before
   * this returns.
   */
  revoke(actor: GrantActor, id: string): GrantRecord {
    const p = actor.principal;
    const g = this.get(p, id);
    const schoolOwn = p.role === 'school_it' && g.schoolIds.length > 0 && g.schoolIds.every((s) => s === p.orgId);
    if (p.role !== 'operator' && p.role !== 'admin' && !schoolOwn) throw forbidden('this account may not revoke this grant');
    if (g.state === 'expired' || g.state === 'revoked') throw conflict(`the grant is already ${g.state}`);
    this.end(g, 'revoked', p.username, actor);
    return this.deps.store.get(id)!;
  }

  /** Lengthens an active grant, with a reason; the grant's whole life stays within `maxMinutes`. */
  extend(actor: GrantActor, id: string, minutes: number, reason: string): GrantRecord {
    const p = actor.principal;
    const g = this.get(p, id);
    const schoolOwn = p.role === 'school_it' && g.emergency && g.schoolIds.every((s) => s === p.orgId);
    if (p.role !== 'operator' && !schoolOwn) throw forbidden('this account may not extend this grant');
    if (g.state !== 'active' || g.startsAt === null || g.expiresAt === null) throw conflict(`the grant is ${g.state}; only an active grant can be extended`);
    const expiresAt = g.expiresAt + minutes * MINUTE;
    if (expiresAt - g.startsAt > this.settings.maxMinutes * MINUTE) {
      const left = Math.floor((g.startsAt + this.settings.maxMinutes * MINUTE - g.expiresAt) / MINUTE);
      throw badRequest(`a grant may run at most ${this.settings.maxMinutes} minutes in all; this one can be extended by ${Math.max(0, left)} more`);
    }
    this.deps.audit.append(this.entry('grant.extend', actor, g, { minutes, reason, expiresAt }));
    if (!this.deps.store.transition(id, ['active'], { expiresAt })) throw conflict('the grant ended meanwhile');
    const after = this.deps.store.get(id)!;
    this.arm(after);
    this.reindex();
    this.changed(after, 'extended');
    return after;
  }

  /**
   * A school's emergency: its cameras open to its town's force at once, pre-approved in config
   * for `emergencyMinutes`. Raised again while one runs, it returns the running one.
   */
  emergency(actor: GrantActor, schoolId: string, reason: string | undefined): { grant: GrantRecord; created: boolean } {
    const p = actor.principal;
    const school = this.deps.orgs.get(schoolId);
    if (!school || school.kind !== 'school' || (p.role === 'school_it' && p.orgId !== schoolId)) throw notFound('school');
    if (p.role !== 'operator' && p.role !== 'school_it') throw forbidden('only the school\'s IT staff or an operator may raise an emergency');
    const running = this.deps.store.inState('active').find((g) => g.emergency && g.wholeSchoolId === schoolId);
    if (running) return { grant: running, created: false };
    const forceId = school.parentId ? (this.settings.emergencyForces[school.parentId] ?? this.deps.orgs.list().find((o) => o.kind === 'police' && o.parentId === school.parentId)?.id) : undefined;
    if (!forceId) throw conflict(`no police force is set for the town of ${schoolId}`);
    const now = this.now();
    const grant: GrantRecord = {
      id: randomUUID(),
      forceId,
      wholeSchoolId: schoolId,
      cameraIds: [],
      schoolIds: [schoolId],
      state: 'active',
      emergency: true,
      reason: reason ?? 'emergency raised by the school',
      caseRef: `EMERGENCY-${schoolId}-${new Date(now).toISOString().slice(0, 16).replace(/[-:T]/g, '')}`,
      legalBasis: EMERGENCY_LEGAL_BASIS,
      snapshots: false,
      audio: false,
      minutes: this.settings.emergencyMinutes,
      createdBy: p.username,
      createdAt: now,
      endorsedBy: p.username,
      approvedBy: null,
      startsAt: now,
      expiresAt: now + this.settings.emergencyMinutes * MINUTE,
      endedAt: null,
      endedBy: null,
      firstUsedAt: null,
      rtspUser: null,
      rtspHa1: null,
    };
    this.deps.audit.append(this.entry('grant.emergency', actor, grant, { forceId, minutes: grant.minutes }));
    this.deps.store.insert(grant);
    this.changed(grant, 'emergency');
    return { grant, created: true };
  }

  /** A live view started: the first one under a grant is its first use (audited once). */
  viewStarted(view: { basis: { kind: string; grantId?: string }; owner: { username: string; role: Principal['role']; orgId: string; address: string }; camera: { id: string; schoolId: string } }): void {
    if (view.basis.kind !== 'grant' || !view.basis.grantId) return;
    const g = this.deps.store.get(view.basis.grantId);
    if (!g || !this.deps.store.markUsed(g.id, this.now())) return;
    this.deps.audit.record({ ...this.entry('grant.use', { principal: view.owner, address: view.owner.address }, g, {}), cameraId: view.camera.id, schoolId: view.camera.schoolId });
  }

  /** Stops the expiry timers (the centre is closing). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.removeAllListeners();
  }

  // ---- inside ---------------------------------------------------------------------------

  private target(input: GrantInput): Pick<GrantRecord, 'wholeSchoolId' | 'cameraIds' | 'schoolIds'> {
    const named = input.cameraIds !== undefined;
    if (named === (input.schoolId !== undefined)) throw badRequest('give either cameraIds or schoolId');
    if (input.schoolId !== undefined) {
      const school = this.deps.orgs.get(input.schoolId);
      if (!school || school.kind !== 'school') throw badRequest(`schoolId ${input.schoolId} is not a school`);
      return { wholeSchoolId: school.id, cameraIds: [], schoolIds: [school.id] };
    }
    const ids = [...new Set(input.cameraIds)];
    if (ids.length === 0) throw badRequest('cameraIds is empty');
    const schools = new Set<string>();
    for (const id of ids) {
      const cam = this.deps.cameras.get(id);
      if (!cam) throw badRequest(`camera ${id} is unknown`);
      schools.add(cam.schoolId);
    }
    return { wholeSchoolId: null, cameraIds: ids, schoolIds: [...schools].sort() };
  }

  private expire(id: string, whileDown = false): void {
    const g = this.deps.store.get(id);
    if (!g || g.state !== 'active') return;
    this.end(g, 'expired', null, undefined, whileDown);
  }

  /**
   * Ends a grant: stored first, then the policy forgets it (new requests are refused), then
   * every session under it is cut (synchronously, through the revocation channel) unless
   * another active grant covers it, then the end is audited with the case reference and the
   * number of sessions cut and continued.
   */
  private end(g: GrantRecord, to: 'expired' | 'revoked', by: string | null, actor: GrantActor | undefined, whileDown = false): void {
    const now = this.now();
    if (!this.deps.store.transition(g.id, [g.state], { state: to, endedAt: now, endedBy: by })) {
      if (actor) throw conflict('the grant changed meanwhile; look again');
      return;
    }
    clearTimeout(this.timers.get(g.id));
    this.timers.delete(g.id);
    this.reindex();
    const under = this.deps.viewsUnder(g.id);
    this.deps.revocations.revoke({ grant: g.id }, { kind: 'access_revoked', grantId: g.id, grantEnd: to });
    // Views another active grant of the force still covers run on under it (audited per view); the rest were cut.
    const continued = this.deps.viewsContinuedFrom(g.id);
    const sessions = under - continued;
    const detail = { from: g.state, sessionsCut: sessions, ...(continued > 0 ? { sessionsContinued: continued } : {}), ...(whileDown ? { expiredWhileCentreDown: true } : {}) };
    this.deps.audit.record(this.entry(to === 'expired' ? 'grant.expire' : 'grant.revoke', actor, g, detail));
    this.deps.log.info({ grantId: g.id, to, sessions }, 'grant ended');
    this.changed(this.deps.store.get(g.id)!, 'ended');
  }

  private arm(g: GrantRecord): void {
    clearTimeout(this.timers.get(g.id));
    if (this.closed || g.expiresAt === null) return;
    const delay = Math.max(0, g.expiresAt - this.now());
    const timer = setTimeout(() => {
      this.timers.delete(g.id);
      const current = this.deps.store.get(g.id);
      if (!current || current.state !== 'active' || current.expiresAt === null) return;
      if (current.expiresAt > this.now()) this.arm(current);
      else this.expire(g.id);
    }, Math.min(delay, MAX_TIMER_MS));
    timer.unref();
    this.timers.set(g.id, timer);
  }

  private reindex(): void {
    const index = new Map<string, GrantRecord[]>();
    for (const g of this.deps.store.inState('active')) {
      const list = index.get(g.forceId) ?? [];
      list.push(g);
      index.set(g.forceId, list);
    }
    for (const list of index.values()) list.sort((a, b) => (b.expiresAt ?? 0) - (a.expiresAt ?? 0));
    this.activeByForce = index;
  }

  private changed(g: GrantRecord, change: GrantChange): void {
    if (g.state === 'active') {
      this.arm(g);
      this.reindex();
    }
    this.emit('change', g, change);
  }

  private isLive(g: GrantRecord): boolean {
    return g.state === 'active' && g.expiresAt !== null && g.expiresAt > this.now();
  }

  private entry(kind: AuditInput['kind'], actor: { principal: AuditActor; address: string } | undefined, g: GrantRecord, detail: Record<string, unknown>): AuditInput {
    return {
      kind,
      outcome: 'ok',
      actor: actor?.principal ?? null,
      address: actor?.address ?? null,
      schoolId: g.schoolIds.length === 1 ? g.schoolIds[0] : null,
      target: g.id,
      detail: { grantId: g.id, caseRef: g.caseRef, forceId: g.forceId, ...detail },
    };
  }
}
