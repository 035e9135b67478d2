import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '../errors';
import type { CentreMetrics } from './metrics';

export interface MetricsRoutesDeps {
  metrics: CentreMetrics;
  /** Bearer token the scraper sends; undefined on a separate monitoring listener that needs none. */
  token: string | undefined;
}

/** `GET /metrics` in Prometheus text format. */
export const metricsRoutes: FastifyPluginCallback<MetricsRoutesDeps> = (app, { metrics, token }, done) => {
  app.get(
    '/metrics',
    {
      config: { access: { kind: token === undefined ? 'public' : 'metrics-token' } },
      schema: { summary: 'Prometheus metrics (Authorization: Bearer <metrics token>)', tags: ['health'] },
    },
    async (req, reply) => {
      if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
        throw new AppError('UNAUTHORIZED', 'metrics need the metrics token', 401);
      }
      void reply.type(metrics.contentType);
      return metrics.text();
    },
  );
  done();
};

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
