import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuditLog } from '../audit/audit-log';
import type { Db } from '../storage/database';

export interface HealthRoutesDeps {
  db: Db;
  audit: AuditLog;
}

/**
 * `/livez` (the process answers) and `/readyz` (it can do its job: the database answers and
 * the audit log takes entries — without it no view may start). Neither tells an anonymous
 * caller anything about gateways, cameras or viewers.
 */
export const healthRoutes: FastifyPluginCallbackTypebox<HealthRoutesDeps> = (app, { db, audit }, done) => {
  app.get(
    '/livez',
    { config: { access: { kind: 'public' } }, schema: { summary: 'Liveness', tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: { kind: 'public' } },
      schema: {
        summary: 'Readiness: database and audit log',
        tags: ['health'],
        response: {
          200: Type.Object({ status: Type.Literal('ready') }),
          503: Type.Object({ status: Type.Literal('not_ready'), failing: Type.Array(Type.String()) }),
        },
      },
    },
    async (_req, reply) => {
      const failing: string[] = [];
      try {
        db.prepare('SELECT 1').get();
      } catch {
        failing.push('database');
      }
      if (!audit.writable()) failing.push('audit');
      if (failing.length > 0) return reply.status(503).send({ status: 'not_ready' as const, failing });
      return { status: 'ready' as const };
    },
  );
  done();
};
