import type { Db } from './database';

export interface SessionRecord {
  /** SHA-256 of the cookie value: the cookie itself is never stored. */
  id: string;
  userId: string;
  csrfToken: string;
  address: string | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

const SELECT = `SELECT id_hash AS id, user_id AS userId, csrf_token AS csrfToken, address, created_at AS createdAt,
  last_seen_at AS lastSeenAt, expires_at AS expiresAt FROM sessions`;

/** Owns the `sessions` table: server-side sessions behind the httpOnly cookie. */
export class SessionStore {
  constructor(private readonly db: Db) {}

  insert(s: SessionRecord): void {
    this.db
      .prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, address, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(s.id, s.userId, s.csrfToken, s.address, s.createdAt, s.lastSeenAt, s.expiresAt);
  }

  get(id: string): SessionRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE id_hash = ?`).get(id) as SessionRecord | undefined;
  }

  touch(id: string, at: number): void {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(at, id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(id).changes > 0;
  }

  /** Ends every session of a user; returns their ids. */
  deleteForUser(userId: string): string[] {
    const ids = (this.db.prepare('SELECT id_hash AS id FROM sessions WHERE user_id = ?').all(userId) as { id: string }[]).map((r) => r.id);
    this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
    return ids;
  }

  /** Removes sessions past their absolute or idle limit; returns how many. */
  deleteExpired(now: number, idleMs: number): number {
    return this.db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now, now - idleMs).changes;
  }
}
