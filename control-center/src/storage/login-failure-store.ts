import type { Db } from './database';
import type { FailureState, LockoutStore } from '../auth/login-guard';

/** Owns the `login_failures` table: failed sign-ins per user name, kept across restarts so a restart lifts no lock. */
export class LoginFailureStore implements LockoutStore {
  constructor(private readonly db: Db) {}

  get(username: string): FailureState | undefined {
    return this.db
      .prepare('SELECT failures, window_start AS windowStart, locked_until AS lockedUntil FROM login_failures WHERE username = ?')
      .get(username) as FailureState | undefined;
  }

  put(username: string, s: FailureState): void {
    this.db
      .prepare(
        `INSERT INTO login_failures (username, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
         ON CONFLICT(username) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until`,
      )
      .run(username, s.failures, s.windowStart, s.lockedUntil);
  }

  clear(username: string): void {
    this.db.prepare('DELETE FROM login_failures WHERE username = ?').run(username);
  }
}
