import type { FastifyPluginCallback } from 'fastify';
import type { WebAssets } from './web-bundle';

/** The live page's three files. They hold no data: everything comes through the API after sign-in. */
export const webRoutes: FastifyPluginCallback<{ assets: WebAssets }> = (app, { assets }, done) => {
  const open = { access: { kind: 'public' } } as const;
  app.get('/', { config: open, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(assets.html),
  );
  app.get('/app.js', { config: open, schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(assets.js));
  app.get('/style.css', { config: open, schema: { hide: true } }, async (_req, reply) => reply.type('text/css; charset=utf-8').send(assets.css));
  done();
};
