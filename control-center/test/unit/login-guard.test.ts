import { describe, expect, it } from 'vitest';
import { type FailureState, LoginGuard, type LockoutStore } from '../../src/auth/login-guard';

class MapStore implements LockoutStore {
  readonly map = new Map<string, FailureState>();
  get(u: string): FailureState | undefined {
    const s = this.map.get(u);
    return s && { ...s };
  }
  put(u: string, s: FailureState): void {
    this.map.set(u, { ...s });
  }
  clear(u: string): void {
    this.map.delete(u);
  }
}

const MIN = 60_000;
const opts = { maxFailuresPerUser: 3, lockMs: 15 * MIN, windowMs: 10 * MIN, maxFailuresPerAddress: 5 };

function guard(): { g: LoginGuard; clock: { t: number }; store: MapStore } {
  const clock = { t: 1_000_000 };
  const store = new MapStore();
  return { g: new LoginGuard(store, opts, () => clock.t), clock, store };
}

describe('login guard', () => {
  it('locks a user name after too many failures, whichever address they came from, and unlocks it after the lock time', () => {
    const { g, clock } = guard();
    g.failed('Operator', '10.0.0.1');
    g.failed('operator', '10.0.0.2');
    expect(g.check('operator', '10.0.0.3')).toEqual({ ok: true });
    g.failed('operator', '10.0.0.3');
    const locked = g.check('OPERATOR', '10.0.0.9');
    expect(locked).toMatchObject({ ok: false, code: 'LOCKED' });
    expect(locked.ok === false && locked.retryAfterS).toBe(15 * 60);
    clock.t += 15 * MIN;
    expect(g.check('operator', '10.0.0.9')).toEqual({ ok: true });
  });

  it('locks an unknown name exactly like a real one, so a lock reveals nothing', () => {
    const { g } = guard();
    for (let i = 0; i < 3; i++) g.failed('nobody-here', '10.0.0.1');
    expect(g.check('nobody-here', '10.0.0.2')).toMatchObject({ ok: false, code: 'LOCKED' });
  });

  it('forgets failures older than the window', () => {
    const { g, clock } = guard();
    g.failed('operator', '10.0.0.1');
    g.failed('operator', '10.0.0.1');
    clock.t += 11 * MIN;
    g.failed('operator', '10.0.0.1');
    expect(g.check('operator', '10.0.0.1')).toEqual({ ok: true });
  });

  it('throttles an address that sprays many user names, until its failures age out', () => {
    const { g, clock } = guard();
    for (let i = 0; i < 5; i++) g.failed(`user${i}`, '192.0.2.7');
    expect(g.check('someone-else', '192.0.2.7')).toMatchObject({ ok: false, code: 'THROTTLED' });
    expect(g.check('someone-else', '192.0.2.8')).toEqual({ ok: true });
    clock.t += 10 * MIN;
    expect(g.check('someone-else', '192.0.2.7')).toEqual({ ok: true });
  });

  it('clears a name\'s failures on success', () => {
    const { g, store } = guard();
    g.failed('operator', '10.0.0.1');
    g.failed('operator', '10.0.0.1');
    g.succeeded('operator');
    expect(store.map.has('operator')).toBe(false);
    g.failed('operator', '10.0.0.1');
    expect(g.check('operator', '10.0.0.1')).toEqual({ ok: true });
  });
});
