import { createHash } from 'node:crypto';
import type { Db } from './database';

export interface GatewayRecord {
  id: string;
  schoolId: string;
  name: string;
  /** When it exchanged its enrolment token for a secret; null while the token is outstanding. */
  enrolledAt: number | null;
  /** When an enrolment token (still unused) expires. */
  enrolmentExpiresAt: number | null;
  revokedAt: number | null;
  createdAt: number;
  lastSeenAt: number | null;
}

const SELECT = `SELECT id, school_id AS schoolId, name, enrolled_at AS enrolledAt, enrolment_expires_at AS enrolmentExpiresAt,
  revoked_at AS revokedAt, created_at AS createdAt, last_seen_at AS lastSeenAt FROM gateways`;

/** Enrolment tokens carry 256 random bits: a plain SHA-256 is enough to keep them out of the table. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Owns the `gateways` table. Secrets are stored as salted scrypt hashes only, tokens as SHA-256. */
export class GatewayStore {
  constructor(private readonly db: Db) {}

  list(): GatewayRecord[] {
    return this.db.prepare(`${SELECT} ORDER BY school_id, id`).all() as GatewayRecord[];
  }

  get(id: string): GatewayRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as GatewayRecord | undefined;
  }

  /** Creates a gateway awaiting enrolment; false when the id is taken. */
  create(g: { id: string; schoolId: string; name: string; enrolmentHash: string; enrolmentExpiresAt: number }, now = Date.now()): boolean {
    const r = this.db
      .prepare(
        `INSERT INTO gateways (id, school_id, name, enrolment_hash, enrolment_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO NOTHING`,
      )
      .run(g.id, g.schoolId, g.name, g.enrolmentHash, g.enrolmentExpiresAt, now);
    return r.changes > 0;
  }

  /**
   * Redeems an enrolment token: when it is known, unexpired and the gateway not revoked, stores
   * the new secret's hash, forgets the token (it works once) and returns the gateway.
   * One transaction, so two gateways racing with the same token cannot both win.
   */
  redeem(enrolmentHash: string, secretHash: string, now = Date.now()): GatewayRecord | undefined {
    return this.db.transaction(() => {
      const row = this.db
        .prepare('SELECT id FROM gateways WHERE enrolment_hash = ? AND enrolment_expires_at > ? AND revoked_at IS NULL')
        .get(enrolmentHash, now) as { id: string } | undefined;
      if (!row) return undefined;
      this.db
        .prepare('UPDATE gateways SET secret_hash = ?, enrolment_hash = NULL, enrolment_expires_at = NULL, enrolled_at = ? WHERE id = ?')
        .run(secretHash, now, row.id);
      return this.get(row.id);
    }).immediate();
  }

  /** The stored secret hash of a gateway that may connect (enrolled, not revoked). */
  secretHashFor(id: string): string | undefined {
    const row = this.db.prepare('SELECT secret_hash AS h FROM gateways WHERE id = ? AND revoked_at IS NULL').get(id) as { h: string | null } | undefined;
    return row?.h ?? undefined;
  }

  /** Revokes a gateway for good: its secret and any outstanding token stop working. False when already revoked or unknown. */
  revoke(id: string, now = Date.now()): boolean {
    const r = this.db
      .prepare('UPDATE gateways SET revoked_at = ?, secret_hash = NULL, enrolment_hash = NULL, enrolment_expires_at = NULL WHERE id = ? AND revoked_at IS NULL')
      .run(now, id);
    return r.changes > 0;
  }

  touch(id: string, at = Date.now()): void {
    this.db.prepare('UPDATE gateways SET last_seen_at = ? WHERE id = ?').run(at, id);
  }
}
