import { type Principal, ROLE_ORG_KIND, type Role } from '../access/principal';
import type { AccessRevocations, EndCause } from '../access/revocation';
import type { AuditLog } from '../audit/audit-log';
import { hashSecret } from '../auth/secret-hash';
import type { SessionService } from '../auth/session-service';
import { newTotpSecret, otpauthUri } from '../auth/totp';
import { badRequest, conflict, notFound } from '../errors';
import type { OrgStore } from '../storage/org-store';
import type { UserRecord, UserStore } from '../storage/user-store';

export interface UserChange {
  role?: Role;
  orgId?: string;
  password?: string;
  disabled?: boolean;
}

/**
 * Account administration (the admin role): create, change role or organisation, reset the
 * password, disable, issue TOTP. A change that withdraws access ends the account's sessions
 * and cuts its live views at once. Every change is audited before it is made.
 */
export class UserAdmin {
  constructor(
    private readonly users: UserStore,
    private readonly orgs: OrgStore,
    private readonly sessions: SessionService,
    private readonly revocations: AccessRevocations,
    private readonly audit: AuditLog,
  ) {}

  async create(by: Principal, address: string, u: { username: string; password: string; role: Role; orgId: string }): Promise<UserRecord> {
    this.checkOrg(u.role, u.orgId);
    if (this.users.byUsername(u.username)) throw conflict(`user name ${u.username} is taken`);
    const passwordHash = await hashSecret(u.password);
    this.audit.append({ kind: 'user.create', outcome: 'ok', actor: by, address, target: u.username, detail: { role: u.role, org: u.orgId } });
    // Checked again after the hash: another request may have taken the name meanwhile.
    if (this.users.byUsername(u.username)) throw conflict(`user name ${u.username} is taken`);
    return this.users.insert({ username: u.username, passwordHash, role: u.role, orgId: u.orgId });
  }

  async update(by: Principal, address: string, id: string, change: UserChange): Promise<UserRecord> {
    const user = this.users.get(id);
    if (!user) throw notFound('user');
    if (id === by.userId && (change.disabled === true || change.role !== undefined || change.orgId !== undefined)) {
      throw conflict('you cannot disable yourself or change your own role or organisation: ask another administrator');
    }
    const role = change.role ?? user.role;
    const orgId = change.orgId ?? user.orgId;
    if (change.role !== undefined || change.orgId !== undefined) this.checkOrg(role, orgId);
    const passwordHash = change.password !== undefined ? await hashSecret(change.password) : undefined;
    const fields = Object.keys(change).filter((k) => change[k as keyof UserChange] !== undefined);
    this.audit.append({ kind: 'user.update', outcome: 'ok', actor: by, address, target: user.username, detail: { fields, role, org: orgId, disabled: change.disabled } });
    this.users.update(id, { role: change.role, orgId: change.orgId, passwordHash, disabled: change.disabled });
    const cause: EndCause | undefined =
      change.disabled === true ? { kind: 'user_disabled' } : change.role !== undefined || change.orgId !== undefined || passwordHash ? { kind: 'user_changed' } : undefined;
    // An administrator resetting their own password keeps the session they did it from.
    if (cause && id !== by.userId) this.endAccess(id, cause);
    return this.users.get(id)!;
  }

  /** Issues a new TOTP secret (replacing any); returned once, for the person to scan. */
  issueTotp(by: Principal, address: string, id: string): { secret: string; otpauthUri: string } {
    const user = this.users.get(id);
    if (!user) throw notFound('user');
    const secret = newTotpSecret();
    this.audit.append({ kind: 'user.update', outcome: 'ok', actor: by, address, target: user.username, detail: { fields: ['totp'], totp: 'issued' } });
    this.users.update(id, { totpSecret: secret });
    return { secret, otpauthUri: otpauthUri(secret, user.username) };
  }

  removeTotp(by: Principal, address: string, id: string): void {
    const user = this.users.get(id);
    if (!user) throw notFound('user');
    this.audit.append({ kind: 'user.update', outcome: 'ok', actor: by, address, target: user.username, detail: { fields: ['totp'], totp: 'removed' } });
    this.users.update(id, { totpSecret: null });
  }

  private endAccess(userId: string, cause: EndCause): void {
    this.sessions.endAllFor(userId);
    this.revocations.revoke({ user: userId }, cause);
  }

  /** A role belongs to one kind of organisation: school IT to a school, police to a force, the rest to the region. */
  private checkOrg(role: Role, orgId: string): void {
    const org = this.orgs.get(orgId);
    if (!org) throw badRequest(`organisation ${orgId} does not exist`);
    if (org.kind !== ROLE_ORG_KIND[role]) throw badRequest(`a ${role} account belongs to a ${ROLE_ORG_KIND[role]}, and ${orgId} is a ${org.kind}`);
  }
}
