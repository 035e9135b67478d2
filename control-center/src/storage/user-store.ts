import { randomUUID } from 'node:crypto';
import type { Role } from '../access/principal';
import type { Db } from './database';

export interface UserRecord {
  id: string;
  username: string;
  role: Role;
  orgId: string;
  /** Whether a TOTP secret is set (the secret itself never leaves the store but through `totpSecret`). */
  totp: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: string;
  username: string;
  role: Role;
  orgId: string;
  totpSecret: string | null;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
}

const SELECT = `SELECT id, username, role, org_id AS orgId, totp_secret AS totpSecret, disabled_at AS disabledAt,
  created_at AS createdAt, updated_at AS updatedAt FROM users`;

const toRecord = (r: Row): UserRecord => ({
  id: r.id,
  username: r.username,
  role: r.role,
  orgId: r.orgId,
  totp: r.totpSecret !== null,
  disabled: r.disabledAt !== null,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** Owns the `users` table. Password hashes go in and are compared elsewhere; they never come out in a record. */
export class UserStore {
  constructor(private readonly db: Db) {}

  list(): UserRecord[] {
    return (this.db.prepare(`${SELECT} ORDER BY username`).all() as Row[]).map(toRecord);
  }

  get(id: string): UserRecord | undefined {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as Row | undefined;
    return row && toRecord(row);
  }

  byUsername(username: string): UserRecord | undefined {
    const row = this.db.prepare(`${SELECT} WHERE username = ?`).get(username) as Row | undefined;
    return row && toRecord(row);
  }

  passwordHash(id: string): string | undefined {
    return (this.db.prepare('SELECT password_hash AS h FROM users WHERE id = ?').get(id) as { h: string } | undefined)?.h;
  }

  totpSecret(id: string): { secret: string; lastStep: number | null } | undefined {
    const row = this.db.prepare('SELECT totp_secret AS secret, totp_last_step AS lastStep FROM users WHERE id = ?').get(id) as
      | { secret: string | null; lastStep: number | null }
      | undefined;
    return row?.secret ? { secret: row.secret, lastStep: row.lastStep } : undefined;
  }

  /**
   * Records the time step of an accepted TOTP code, refusing (false) a step at or before the
   * last one accepted: a code seen over someone's shoulder cannot be replayed.
   */
  useTotpStep(id: string, step: number): boolean {
    const r = this.db
      .prepare('UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)')
      .run(step, id, step);
    return r.changes > 0;
  }

  insert(u: { username: string; passwordHash: string; role: Role; orgId: string }, now = Date.now()): UserRecord {
    const id = randomUUID();
    this.db
      .prepare('INSERT INTO users (id, username, password_hash, role, org_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, u.username, u.passwordHash, u.role, u.orgId, now, now);
    return this.get(id)!;
  }

  update(
    id: string,
    patch: { role?: Role; orgId?: string; passwordHash?: string; disabled?: boolean; totpSecret?: string | null },
    now = Date.now(),
  ): void {
    this.db.transaction(() => {
      const set = (column: string, value: unknown): void => {
        // Column names come from this fixed list, never from input.
        this.db.prepare(`UPDATE users SET ${column} = ?, updated_at = ? WHERE id = ?`).run(value, now, id);
      };
      if (patch.role !== undefined) set('role', patch.role);
      if (patch.orgId !== undefined) set('org_id', patch.orgId);
      if (patch.passwordHash !== undefined) set('password_hash', patch.passwordHash);
      if (patch.disabled !== undefined) set('disabled_at', patch.disabled ? now : null);
      if (patch.totpSecret !== undefined) {
        set('totp_secret', patch.totpSecret);
        set('totp_last_step', null);
      }
    })();
  }
}
