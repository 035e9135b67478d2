import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../access/principal';
import type { SessionRecord, SessionStore } from '../storage/session-store';
import type { UserStore } from '../storage/user-store';

export interface SessionLimits {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, used or not. */
  absoluteMs: number;
}

/** The outcome of presenting a session cookie. */
export type SessionLookup =
  | { state: 'valid'; principal: Principal; session: SessionRecord }
  | { state: 'expired' }
  | { state: 'absent' };

/** Last-seen is written at most this often, so a busy page does not turn every request into a write. */
const TOUCH_EVERY_MS = 30_000;

export const sessionIdOf = (cookieValue: string): string => createHash('sha256').update(cookieValue).digest('hex');

/**
 * Server-side sessions. The cookie carries 256 random bits; the table keeps only their hash,
 * so a copy of the database opens no session. Each lookup re-reads the account, so a
 * disabled account or a changed role takes effect on the next request.
 */
export class SessionService {
  constructor(
    private readonly sessions: SessionStore,
    private readonly users: UserStore,
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a session; returns the cookie value (shown to nobody else) and the record. */
  create(userId: string, address: string | null): { cookie: string; session: SessionRecord } {
    const cookie = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: SessionRecord = {
      id: sessionIdOf(cookie),
      userId,
      csrfToken: randomBytes(24).toString('base64url'),
      address,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + this.limits.absoluteMs,
    };
    this.sessions.insert(session);
    return { cookie, session };
  }

  /** Looks a cookie value up; counts as activity unless `touch` is false. */
  lookup(cookie: string | undefined, touch = true): SessionLookup {
    if (!cookie || cookie.length > 128) return { state: 'absent' };
    return this.lookupById(sessionIdOf(cookie), touch);
  }

  /** The same, by session id (for sockets that outlive the request that opened them). */
  lookupById(id: string, touch = true): SessionLookup {
    const session = this.sessions.get(id);
    if (!session) return { state: 'absent' };
    const at = this.now();
    if (at >= session.expiresAt || at - session.lastSeenAt >= this.limits.idleMs) {
      this.sessions.delete(id);
      return { state: 'expired' };
    }
    const user = this.users.get(session.userId);
    if (!user || user.disabled) {
      this.sessions.delete(id);
      return { state: 'absent' };
    }
    if (touch && at - session.lastSeenAt >= TOUCH_EVERY_MS) {
      this.sessions.touch(id, at);
      session.lastSeenAt = at;
    }
    return { state: 'valid', session, principal: { userId: user.id, username: user.username, role: user.role, orgId: user.orgId, sessionId: id } };
  }

  /** Ends one session (logout). */
  end(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** Ends every session of an account (disabled, role or password changed); returns their ids. */
  endAllFor(userId: string): string[] {
    return this.sessions.deleteForUser(userId);
  }

  /** Removes expired sessions from the table (they are refused anyway); returns how many. */
  sweep(): number {
    return this.sessions.deleteExpired(this.now(), this.limits.idleMs);
  }

  get limitsMs(): SessionLimits {
    return this.limits;
  }
}

/** Constant-time CSRF token comparison. */
export function csrfMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
