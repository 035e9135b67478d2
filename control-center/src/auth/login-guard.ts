/** Failed sign-ins of one user name inside the current window. */
export interface FailureState {
  failures: number;
  windowStart: number;
  lockedUntil: number | null;
}

/** Where per-user-name failures persist (SQLite in the centre, a Map in unit tests). */
export interface LockoutStore {
  get(username: string): FailureState | undefined;
  put(username: string, state: FailureState): void;
  clear(username: string): void;
}

export interface LoginGuardOptions {
  /** Failures of one user name, inside `windowMs`, that lock it. Default 5. */
  maxFailuresPerUser: number;
  /** How long a lock lasts. Default 15 min. */
  lockMs: number;
  /** Window failures are counted in. Default 15 min. */
  windowMs: number;
  /** Failures from one address, inside `windowMs`, after which it is throttled. Default 20. */
  maxFailuresPerAddress: number;
}

export type GuardVerdict = { ok: true } | { ok: false; code: 'LOCKED' | 'THROTTLED'; retryAfterS: number };

/** Addresses remembered at most; the oldest are forgotten first (a flood of spoofed sources cannot grow memory). */
const MAX_ADDRESSES = 10_000;

/**
 * Brute-force protection for sign-in. Per user name (whether or not the account exists, so a
 * lock reveals nothing): too many failures lock the name for a while, and the lock survives
 * restarts. Per address: too many failures throttle it until old failures age out.
 */
export class LoginGuard {
  private readonly byAddress = new Map<string, number[]>();

  constructor(
    private readonly store: LockoutStore,
    private readonly opts: LoginGuardOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** May this attempt go ahead? Call before checking the password. */
  check(username: string, address: string): GuardVerdict {
    const at = this.now();
    const state = this.store.get(key(username));
    if (state?.lockedUntil && state.lockedUntil > at) return { ok: false, code: 'LOCKED', retryAfterS: seconds(state.lockedUntil - at) };
    const recent = this.recentFor(address, at);
    if (recent.length >= this.opts.maxFailuresPerAddress) {
      return { ok: false, code: 'THROTTLED', retryAfterS: seconds(recent[0] + this.opts.windowMs - at) };
    }
    return { ok: true };
  }

  /** Records a failed attempt (wrong password, unknown name, wrong one-time code). */
  failed(username: string, address: string): void {
    const at = this.now();
    const k = key(username);
    const prev = this.store.get(k);
    const fresh = !prev || at - prev.windowStart >= this.opts.windowMs || (prev.lockedUntil !== null && prev.lockedUntil <= at);
    const state: FailureState = fresh ? { failures: 1, windowStart: at, lockedUntil: null } : { ...prev, failures: prev.failures + 1 };
    if (state.failures >= this.opts.maxFailuresPerUser) {
      state.lockedUntil = at + this.opts.lockMs;
      state.failures = 0;
      state.windowStart = at;
    }
    this.store.put(k, state);

    const list = this.recentFor(address, at);
    list.push(at);
    this.byAddress.delete(address);
    this.byAddress.set(address, list); // re-insert: Map order is the eviction order
    if (this.byAddress.size > MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value!);
  }

  /** A successful sign-in clears the name's failures (not the address's: one good account does not excuse a spray). */
  succeeded(username: string): void {
    this.store.clear(key(username));
  }

  private recentFor(address: string, at: number): number[] {
    const list = (this.byAddress.get(address) ?? []).filter((t) => at - t < this.opts.windowMs);
    if (list.length === 0) this.byAddress.delete(address);
    return list;
  }
}

const key = (username: string): string => username.trim().toLowerCase().slice(0, 128);
const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
