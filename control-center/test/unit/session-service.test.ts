import { beforeEach, describe, expect, it } from 'vitest';
import { SessionService } from '../../src/auth/session-service';
import { type Db, openDatabase } from '../../src/storage/database';
import { OrgStore } from '../../src/storage/org-store';
import { SessionStore } from '../../src/storage/session-store';
import { UserStore } from '../../src/storage/user-store';

const MIN = 60_000;
let db: Db;
let users: UserStore;
let clock: { t: number };
let sessions: SessionService;
let userId: string;

beforeEach(() => {
  db = openDatabase(':memory:');
  new OrgStore(db).insert({ id: 'kvk', kind: 'region', name: 'Karlovarský kraj', parentId: null });
  users = new UserStore(db);
  userId = users.insert({ username: 'operator', passwordHash: 'x', role: 'operator', orgId: 'kvk' }).id;
  clock = { t: 10_000_000 };
  sessions = new SessionService(new SessionStore(db), users, { idleMs: 30 * MIN, absoluteMs: 8 * 60 * MIN }, () => clock.t);
});

describe('sessions', () => {
  it('keeps only a hash of the cookie, and finds the account from the cookie', () => {
    const { cookie, session } = sessions.create(userId, '10.0.0.1');
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = db.prepare('SELECT id_hash FROM sessions').all() as { id_hash: string }[];
    expect(stored.map((r) => r.id_hash)).toEqual([session.id]);
    expect(stored[0].id_hash).not.toContain(cookie);
    const found = sessions.lookup(cookie);
    expect(found.state === 'valid' && found.principal).toMatchObject({ userId, username: 'operator', role: 'operator', orgId: 'kvk', sessionId: session.id });
  });

  it('refuses an unknown, forged or oversized cookie', () => {
    sessions.create(userId, null);
    expect(sessions.lookup(undefined).state).toBe('absent');
    expect(sessions.lookup('forged').state).toBe('absent');
    expect(sessions.lookup('x'.repeat(10_000)).state).toBe('absent');
  });

  it('expires a session left idle, and keeps one that is used', () => {
    const a = sessions.create(userId, null).cookie;
    const b = sessions.create(userId, null).cookie;
    for (let i = 0; i < 4; i++) {
      clock.t += 10 * MIN;
      expect(sessions.lookup(b).state).toBe('valid');
    }
    expect(sessions.lookup(a).state).toBe('expired');
    expect(sessions.lookup(a).state).toBe('absent'); // gone from the table
  });

  it('ends every session at the absolute limit, used or not', () => {
    const c = sessions.create(userId, null).cookie;
    for (let t = 0; t < 8 * 60; t += 20) {
      clock.t += 20 * MIN;
      const s = sessions.lookup(c);
      if (t + 20 < 8 * 60) expect(s.state).toBe('valid');
      else expect(s.state).toBe('expired');
    }
  });

  it('stops a disabled account at its next request, and reflects a role change at once', () => {
    const c = sessions.create(userId, null).cookie;
    users.update(userId, { role: 'auditor' });
    const s = sessions.lookup(c);
    expect(s.state === 'valid' && s.principal.role).toBe('auditor');
    users.update(userId, { disabled: true });
    expect(sessions.lookup(c).state).toBe('absent');
  });

  it('ends one session on logout and all of an account\'s sessions on demand', () => {
    const a = sessions.create(userId, null);
    const b = sessions.create(userId, null);
    expect(sessions.end(a.session.id)).toBe(true);
    expect(sessions.lookup(a.cookie).state).toBe('absent');
    expect(sessions.lookup(b.cookie).state).toBe('valid');
    expect(sessions.endAllFor(userId)).toEqual([b.session.id]);
    expect(sessions.lookup(b.cookie).state).toBe('absent');
  });
});
