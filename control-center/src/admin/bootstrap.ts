import { ROLE_ORG_KIND, type Role } from '../access/principal';
import { AuditLog } from '../audit/audit-log';
import { hashSecret } from '../auth/secret-hash';
import type { Db } from '../storage/database';
import { OrgStore } from '../storage/org-store';
import { SessionStore } from '../storage/session-store';
import { UserStore } from '../storage/user-store';
import { type RegionFile, importRegion } from './region-file';

/**
 * Offline administration of a centre's database (the `center orgs import` and `center users
 * add` commands, and the demo): what has to exist before anyone can sign in. Audited like the
 * same changes made through the API, with the command as the source.
 */
export function importRegionInto(db: Db, region: RegionFile, source: string): number {
  const n = importRegion(new OrgStore(db), region, (fn) => db.transaction(fn)());
  new AuditLog(db).append({ kind: 'org.update', outcome: 'ok', target: region.region.id, detail: { source, organisations: n } });
  return n;
}

/**
 * Creates an account, or (when the name exists) sets its role, organisation and password and
 * enables it. Returns which. Throws when the organisation is missing or of the wrong kind.
 */
export async function setUser(db: Db, u: { username: string; role: Role; orgId: string; password: string }, source: string): Promise<'created' | 'updated'> {
  const org = new OrgStore(db).get(u.orgId);
  if (!org) throw new Error(`organisation ${u.orgId} does not exist (import the region first)`);
  if (org.kind !== ROLE_ORG_KIND[u.role]) throw new Error(`a ${u.role} account belongs to a ${ROLE_ORG_KIND[u.role]}; ${u.orgId} is a ${org.kind}`);
  const users = new UserStore(db);
  const passwordHash = await hashSecret(u.password);
  const audit = new AuditLog(db);
  const existing = users.byUsername(u.username);
  if (existing) {
    audit.append({ kind: 'user.update', outcome: 'ok', target: u.username, detail: { source, fields: ['role', 'orgId', 'password', 'disabled'], role: u.role, org: u.orgId } });
    users.update(existing.id, { role: u.role, orgId: u.orgId, passwordHash, disabled: false });
    // A changed password or role must not leave old sessions open.
    new SessionStore(db).deleteForUser(existing.id);
    return 'updated';
  }
  audit.append({ kind: 'user.create', outcome: 'ok', target: u.username, detail: { source, role: u.role, org: u.orgId } });
  users.insert({ username: u.username, passwordHash, role: u.role, orgId: u.orgId });
  return 'created';
}
