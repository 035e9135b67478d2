import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AccessPolicy } from '../access/policy';
import type { Principal } from '../access/principal';
import type { RouteAccess } from '../access/route-access';
import type { AuditLog } from '../audit/audit-log';
import { AppError, unauthorized } from '../errors';
import type { CentreMetrics } from '../metrics/metrics';
import type { SessionRecord } from '../storage/session-store';
import { type SessionService, csrfMatches } from './session-service';

/** The session cookie. httpOnly, SameSite=Strict, Secure under TLS, path `/`. */
export const SESSION_COOKIE = 'schoolcam_session';
/** The header carrying the session's CSRF token on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in account, on routes with `access.kind === 'session'`. */
    principal: Principal | null;
    sessionRecord: SessionRecord | null;
  }
}

export interface RequestAuthDeps {
  sessions: SessionService;
  policy: AccessPolicy;
  audit: AuditLog;
  metrics: CentreMetrics;
  /** The origin browsers use (`publicOrigin`), or undefined to derive it from the request. */
  publicOrigin: string | undefined;
  tls: boolean;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The principal of a session route (set by the access hook before any handler runs). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}

/** The origin this request's page should have come from. */
export function expectedOrigin(req: FastifyRequest, deps: Pick<RequestAuthDeps, 'publicOrigin' | 'tls'>): string {
  return (deps.publicOrigin ?? `${deps.tls ? 'https' : 'http'}://${req.headers.host ?? ''}`).toLowerCase();
}

/**
 * Builds the hook every route runs (after the rate limit) to enforce its `config.access`:
 * sessions, CSRF on state changes, same-origin on state changes and on the viewer socket,
 * role permissions. Refusals of a signed-in account are audited and counted.
 */
export function accessHook(access: RouteAccess, deps: RequestAuthDeps): onRequestHookHandler {
  return (req, reply, done) => {
    try {
      enforce(access, req, reply, deps);
      done();
    } catch (err) {
      done(err as Error);
    }
  };
}

function enforce(access: RouteAccess, req: FastifyRequest, _reply: FastifyReply, deps: RequestAuthDeps): void {
  const changing = STATE_CHANGING.has(req.method);
  const origin = req.headers.origin;
  const sameOrigin = (): boolean => typeof origin === 'string' && origin.toLowerCase() === expectedOrigin(req, deps);
  switch (access.kind) {
    case 'public':
    case 'enrolment-token':
    case 'gateway-secret':
    case 'metrics-token':
      return;
    case 'sign-in':
      // Login CSRF: a foreign page must not sign a browser in to an account of its choosing.
      if (origin !== undefined && !sameOrigin()) throw new AppError('FORBIDDEN', 'cross-origin request refused', 403);
      return;
    case 'session': {
      const cookie = (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE];
      const found = deps.sessions.lookup(cookie);
      if (found.state === 'expired') throw new AppError('SESSION_EXPIRED', 'the session has expired; sign in again', 401);
      if (found.state !== 'valid') throw unauthorized('sign in first');
      req.principal = found.principal;
      req.sessionRecord = found.session;
      const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
      if ((upgrade || (changing && origin !== undefined)) && !sameOrigin()) {
        refuse(req, deps, 'FORBIDDEN', 'foreign_origin');
        throw new AppError('FORBIDDEN', 'cross-origin request refused', 403);
      }
      if (changing && !csrfMatches(headerValue(req.headers[CSRF_HEADER]), found.session.csrfToken)) {
        refuse(req, deps, 'CSRF', 'csrf_token_missing_or_wrong');
        throw new AppError('CSRF', `the ${CSRF_HEADER} header is missing or wrong`, 403);
      }
      if (access.permission) {
        const decision = deps.policy.permits(found.principal, access.permission);
        if (!decision.allowed) {
          refuse(req, deps, decision.code, decision.reason);
          throw new AppError('FORBIDDEN', 'not permitted for this account', 403);
        }
      }
      return;
    }
  }
}

/** Audits and counts a refusal of a signed-in account (anonymous 401s are only counted: they would let anyone flood the log). */
export function refuse(req: FastifyRequest, deps: Pick<RequestAuthDeps, 'audit' | 'metrics'>, code: string, reason: string, extra: { cameraId?: string; schoolId?: string } = {}): void {
  deps.metrics.refusals.inc({ code, channel: 'http' });
  const p = req.principal;
  if (!p) return;
  deps.audit.record({
    kind: 'access.refused',
    outcome: 'refused',
    actor: p,
    address: req.ip,
    cameraId: extra.cameraId,
    schoolId: extra.schoolId,
    target: `${req.method} ${req.routeOptions.url ?? req.url}`,
    detail: { code, reason, path: req.url.slice(0, 300) },
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
