import type { Role } from '../access/principal';
import type { AccessRevocations } from '../access/revocation';
import type { AuditLog } from '../audit/audit-log';
import { AppError, unauthorized } from '../errors';
import type { CentreMetrics } from '../metrics/metrics';
import type { SessionRecord } from '../storage/session-store';
import type { UserRecord, UserStore } from '../storage/user-store';
import type { LoginGuard } from './login-guard';
import { dummyHash, verifySecret } from './secret-hash';
import type { SessionService } from './session-service';
import { verifyTotp } from './totp';

export interface SignInAttempt {
  username: string;
  password: string;
  totp?: string;
  address: string;
}

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionService;
  guard: LoginGuard;
  audit: AuditLog;
  metrics: CentreMetrics;
  revocations: AccessRevocations;
  totpRequiredFor: readonly Role[];
  now?: () => number;
}

/**
 * Signing in and out. Every attempt is audited (success and each kind of failure) and counted.
 * The answer to a wrong password, an unknown name and a disabled account is the same
 * `UNAUTHORIZED`, and costs the same time.
 */
export class AuthService {
  private readonly now: () => number;

  constructor(private readonly deps: AuthServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async signIn(a: SignInAttempt): Promise<{ user: UserRecord; cookie: string; session: SessionRecord }> {
    const { users, guard, audit, metrics } = this.deps;
    const verdict = guard.check(a.username, a.address);
    if (!verdict.ok) {
      const message = verdict.code === 'LOCKED' ? 'too many failed sign-ins: this account is locked for a while' : 'too many failed sign-ins from this address';
      return this.refuse(a, verdict.code === 'LOCKED' ? 'locked' : 'throttled', new AppError(verdict.code, message, 429, verdict.retryAfterS));
    }
    const user = users.byUsername(a.username);
    const stored = user ? users.passwordHash(user.id) : undefined;
    const passwordOk = await verifySecret(a.password, stored ?? (await dummyHash()));
    if (!user || !passwordOk || user.disabled) {
      guard.failed(a.username, a.address);
      return this.refuse(a, !user ? 'unknown_user' : user.disabled ? 'disabled' : 'bad_password', unauthorized('wrong user name or password'), user);
    }
    const secret = users.totpSecret(user.id);
    if (secret || this.deps.totpRequiredFor.includes(user.role)) {
      if (!secret) return this.refuse(a, 'totp_not_set_up', new AppError('TOTP_NOT_SET_UP', 'this account needs a one-time code but has none set up: ask an administrator', 401), user);
      if (!a.totp) return this.refuse(a, 'totp_required', new AppError('TOTP_REQUIRED', 'enter the one-time code from your authenticator app', 401), user);
      const step = verifyTotp(secret.secret, a.totp, this.now());
      if (step === undefined || !users.useTotpStep(user.id, step)) {
        guard.failed(a.username, a.address);
        return this.refuse(a, 'bad_totp', unauthorized('wrong or already used one-time code'), user);
      }
    }
    guard.succeeded(a.username);
    // Fail closed: a sign-in that cannot be recorded does not happen.
    audit.append({ kind: 'login', outcome: 'ok', actor: user, address: a.address, target: user.username });
    const { cookie, session } = this.deps.sessions.create(user.id, a.address);
    metrics.logins.inc({ outcome: 'ok' });
    return { user, cookie, session };
  }

  private refuse(a: SignInAttempt, reason: string, err: AppError, user?: UserRecord): never {
    this.deps.metrics.logins.inc({ outcome: reason });
    this.deps.audit.record({ kind: 'login', outcome: 'refused', actor: user, address: a.address, target: a.username.slice(0, 128), detail: { reason } });
    throw err;
  }

  /** Ends a session: the row goes, every live view of that session is cut, and it is audited. */
  signOut(sessionId: string, actor: { username: string; role: Role; orgId: string }, address: string): void {
    this.deps.sessions.end(sessionId);
    this.deps.revocations.revoke({ session: sessionId }, { kind: 'logout' });
    this.deps.audit.record({ kind: 'logout', outcome: 'ok', actor, address, target: actor.username });
  }
}
