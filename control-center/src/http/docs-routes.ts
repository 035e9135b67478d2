import type { FastifyPluginCallback } from 'fastify';

/**
 * `GET /docs`: the OpenAPI 3 document of every route, generated from the same TypeBox
 * schemas that validate requests. JSON only (no UI page, so the strict CSP needs no exception).
 */
export const docsRoutes: FastifyPluginCallback = (app, _opts, done) => {
  app.get('/docs', { config: { access: { kind: 'public' } }, schema: { hide: true } }, () => app.swagger());
  done();
};
