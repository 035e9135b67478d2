import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { SessionRecord } from '../storage/session-store';
import type { UserRecord } from '../storage/user-store';
import { ErrorBody, SessionBody, SignInRequest } from './auth-schemas';
import type { AuthService } from './auth-service';
import { SESSION_COOKIE, principalOf } from './request-auth';
import type { SessionService } from './session-service';

export interface AuthRoutesDeps {
  auth: AuthService;
  sessions: SessionService;
  /** Mark the cookie `Secure` (the centre serves TLS). */
  secureCookie: boolean;
}

const sessionBody = (user: Pick<UserRecord, 'username' | 'role' | 'orgId'>, session: SessionRecord): SessionBody => ({
  user: { username: user.username, role: user.role, org: user.orgId },
  csrfToken: session.csrfToken,
});

/** `/api/session`: sign in, who am I, sign out. */
export const authRoutes: FastifyPluginCallbackTypebox<AuthRoutesDeps> = (app, deps, done) => {
  app.post(
    '/api/session',
    {
      config: { access: { kind: 'sign-in' }, rateLimit: { max: 60, timeWindow: 60_000 } },
      schema: {
        summary: 'Sign in',
        description: 'Sets the httpOnly session cookie. 401 on bad credentials (or TOTP_REQUIRED), 429 when throttled or locked.',
        tags: ['auth'],
        body: SignInRequest,
        response: { 200: SessionBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const { user, cookie, session } = await deps.auth.signIn({ ...req.body, address: req.ip });
      void reply.setCookie(SESSION_COOKIE, cookie, {
        httpOnly: true,
        sameSite: 'strict',
        secure: deps.secureCookie,
        path: '/',
        maxAge: Math.floor(deps.sessions.limitsMs.absoluteMs / 1000),
      });
      return sessionBody(user, session);
    },
  );

  app.get(
    '/api/session',
    {
      config: { access: { kind: 'session' } },
      schema: { summary: 'The current session', tags: ['auth'], response: { 200: SessionBody, 401: ErrorBody } },
    },
    (req) => {
      const p = principalOf(req);
      return sessionBody({ username: p.username, role: p.role, orgId: p.orgId }, req.sessionRecord!);
    },
  );

  app.delete(
    '/api/session',
    {
      config: { access: { kind: 'session' } },
      schema: { summary: 'Sign out', description: 'Ends the session on the server and cuts its live views.', tags: ['auth'], response: { 204: Type.Null() } },
    },
    async (req, reply) => {
      const p = principalOf(req);
      deps.auth.signOut(p.sessionId, p, req.ip);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );
  done();
};
