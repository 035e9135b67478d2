/** The five roles of the centre (see the README's "Accounts and roles"). */
export const ROLES = ['admin', 'operator', 'police', 'school_it', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Kinds of organisation: the region, its towns, schools (each in a town), municipal police forces (one per town). */
export const ORG_KINDS = ['region', 'town', 'school', 'police'] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

/** The kind of organisation each role belongs to: a school IT account to one school, an officer to one force. */
export const ROLE_ORG_KIND: Readonly<Record<Role, OrgKind>> = {
  admin: 'region',
  operator: 'region',
  police: 'police',
  school_it: 'school',
  auditor: 'region',
};

/**
 * Who is asking, rebuilt from the database on every request and every signalling message,
 * so a role change, a disabled account or an ended session takes effect at once.
 */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  orgId: string;
  /** The server-side session the request came with. */
  sessionId: string;
}
