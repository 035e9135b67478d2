import type { Principal, Role } from './principal';

/**
 * Every access decision of the centre is made here: HTTP routes, viewer-socket messages and
 * stream requests all ask this module, and get a typed decision back. Callers branch on
 * `allowed`, `code` and `reason`, never on words.
 *
 * Role permissions and role scope are fixed (see the README's role table). Access beyond a
 * role's own — a police force's active grants — comes from {@link AccessExtension}s, which
 * add cameras or schools together with the basis (the grant) a live view then carries, so
 * ending the grant can end exactly the views it allowed.
 */

/** What a caller may do. Camera permissions are decided per camera; the rest per role. */
export type Permission =
  /** See a camera in lists, with its health. */
  | 'camera.read'
  /** Watch a camera live. */
  | 'camera.view'
  /** Take a snapshot of a camera (a police grant allows it only when it says so). */
  | 'camera.snapshot'
  /** Find, check, register, edit and remove a school's cameras (through its gateway). */
  | 'camera.manage'
  /** Acknowledge alarms (seeing them follows camera scope). */
  | 'alarm.ack'
  | 'org.read'
  | 'org.manage'
  | 'user.manage'
  | 'gateway.manage'
  | 'audit.read';

export type CameraPermission = Extract<Permission, 'camera.read' | 'camera.view' | 'camera.snapshot' | 'camera.manage'>;

/** Why an access was allowed: the role itself, or an extension such as a police grant. */
export type AccessBasis = { kind: 'role' } | { kind: 'grant'; grantId: string; /** The grant's case reference, carried into the audit of every view under it. */ caseRef?: string };

export type DenyReason =
  /** The role may never do this (e.g. an admin watching video: separation of duties). */
  | 'role_not_permitted'
  /** The resource exists but lies outside the caller's organisation scope. */
  | 'out_of_scope'
  /** No such resource. */
  | 'unknown_resource';

export type Decision =
  | { allowed: true; basis: AccessBasis }
  | {
      allowed: false;
      /** NOT_FOUND: the resource does not exist for this caller; FORBIDDEN: it does, but this is not allowed. */
      code: 'NOT_FOUND' | 'FORBIDDEN';
      reason: DenyReason;
    };

/** Anything bound to a school: cameras, alarms, gateways… `cameraId` when it is about one camera. */
export interface ScopedRecord {
  schoolId: string;
  cameraId?: string;
}

/** Access an extension adds for one principal, e.g. one active grant. */
export interface ExtraAccess {
  basis: AccessBasis;
  /** Whole schools covered. */
  schoolIds: ReadonlySet<string>;
  /** Single cameras covered (public camera ids). */
  cameraIds: ReadonlySet<string>;
  permissions: ReadonlySet<CameraPermission>;
}

/** A source of access beyond the role's own (police grants). Asked on every decision: keep it cheap. */
export interface AccessExtension {
  extraAccess(principal: Principal): readonly ExtraAccess[];
}

/** The schools and cameras a principal may see. */
export interface Scope {
  region: boolean;
  schoolIds: ReadonlySet<string>;
  cameraIds: ReadonlySet<string>;
}

/**
 * Alarms and camera health are seen by whoever sees the camera (`camera.read`, with its scope);
 * only the regional office acknowledges alarms (`alarm.ack`): a school's IT sees its own school's
 * alarms but does not clear them from the operators' list. Registering cameras (`camera.manage`)
 * is school IT's job for its own school, and regional IT's (admin) for any school; the regional
 * office watches but does not configure.
 */
const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set<Permission>(['camera.read', 'camera.manage', 'org.read', 'org.manage', 'user.manage', 'gateway.manage']),
  operator: new Set<Permission>(['camera.read', 'camera.view', 'camera.snapshot', 'alarm.ack', 'org.read']),
  // Police see nothing of their own: cameras come only through grants (an AccessExtension).
  police: new Set<Permission>(['org.read']),
  school_it: new Set<Permission>(['camera.read', 'camera.view', 'camera.snapshot', 'camera.manage', 'org.read']),
  auditor: new Set<Permission>(['camera.read', 'org.read', 'audit.read']),
};

const ALLOW_BY_ROLE: Decision = { allowed: true, basis: { kind: 'role' } };
const deny = (code: 'NOT_FOUND' | 'FORBIDDEN', reason: DenyReason): Decision => ({ allowed: false, code, reason });

export class AccessPolicy {
  private readonly extensions: AccessExtension[] = [];

  /** Adds a source of extra access (grants). Extensions can only add, never take away. */
  extend(extension: AccessExtension): void {
    this.extensions.push(extension);
  }

  /** Whether the role may do something that is not bound to one camera (manage users, read the audit log…). */
  permits(principal: Principal, permission: Exclude<Permission, CameraPermission>): Decision {
    return ROLE_PERMISSIONS[principal.role].has(permission) ? ALLOW_BY_ROLE : deny('FORBIDDEN', 'role_not_permitted');
  }

  /**
   * A decision about one camera (or any record bound to a school). A record outside the
   * caller's scope does not exist for them (NOT_FOUND); one inside it that the role may not
   * use this way is FORBIDDEN.
   */
  decide(principal: Principal, permission: CameraPermission, record: ScopedRecord | undefined): Decision {
    if (!record) return deny('NOT_FOUND', 'unknown_resource');
    const own = ROLE_PERMISSIONS[principal.role];
    let visible = false;
    if (this.inRoleScope(principal, record) && own.has('camera.read')) {
      if (own.has(permission)) return ALLOW_BY_ROLE;
      visible = true;
    }
    for (const extra of this.extrasFor(principal)) {
      if (!covers(extra, record)) continue;
      if (extra.permissions.has(permission)) return { allowed: true, basis: extra.basis };
      if (extra.permissions.has('camera.read')) visible = true;
    }
    return visible ? deny('FORBIDDEN', 'role_not_permitted') : deny('NOT_FOUND', 'out_of_scope');
  }

  /** The schools and cameras the principal may see (role scope plus extensions). */
  scopeOf(principal: Principal): Scope {
    const own = ROLE_PERMISSIONS[principal.role].has('camera.read');
    const region = own && roleSeesRegion(principal.role);
    const schoolIds = new Set<string>(own && principal.role === 'school_it' ? [principal.orgId] : []);
    const cameraIds = new Set<string>();
    for (const extra of this.extrasFor(principal)) {
      if (!extra.permissions.has('camera.read')) continue;
      for (const s of extra.schoolIds) schoolIds.add(s);
      for (const c of extra.cameraIds) cameraIds.add(c);
    }
    return { region, schoolIds, cameraIds };
  }

  /**
   * The one scope filter for every school-bound record (cameras, alarms; grants later):
   * keeps what the principal may see.
   */
  filterByScope<T extends ScopedRecord>(principal: Principal, records: readonly T[]): T[] {
    const scope = this.scopeOf(principal);
    return records.filter((r) => inScope(scope, r));
  }

  /**
   * Organisations a principal may see: the region's roles see all; anyone else sees their own
   * organisation with its town and region (`ownLineage`), and the schools in their scope.
   */
  visibleOrgs<T extends { id: string }>(principal: Principal, orgs: readonly T[], ownLineage: ReadonlySet<string>): T[] {
    if (roleSeesRegion(principal.role)) return [...orgs];
    const scope = this.scopeOf(principal);
    return orgs.filter((o) => ownLineage.has(o.id) || scope.schoolIds.has(o.id));
  }

  private inRoleScope(principal: Principal, record: ScopedRecord): boolean {
    if (roleSeesRegion(principal.role)) return true;
    return principal.role === 'school_it' && record.schoolId === principal.orgId;
  }

  private extrasFor(principal: Principal): readonly ExtraAccess[] {
    return this.extensions.length === 0 ? [] : this.extensions.flatMap((e) => e.extraAccess(principal));
  }
}

/** Whether a record lies inside a scope. */
export function inScope(scope: Scope, record: ScopedRecord): boolean {
  return scope.region || scope.schoolIds.has(record.schoolId) || (record.cameraId !== undefined && scope.cameraIds.has(record.cameraId));
}

function covers(extra: ExtraAccess, record: ScopedRecord): boolean {
  return extra.schoolIds.has(record.schoolId) || (record.cameraId !== undefined && extra.cameraIds.has(record.cameraId));
}

function roleSeesRegion(role: Role): boolean {
  return role === 'admin' || role === 'operator' || role === 'auditor';
}
