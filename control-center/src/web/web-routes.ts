import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { join } from 'node:path';
import { ASSET_PREFIX } from './web-build';
import type { WebAssets } from './web-assets';

/** A year: hashed files never change under their name. */
const IMMUTABLE_MAX_AGE_MS = 365 * 24 * 3600 * 1000;
const ASSET_NAME = '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$';

/**
 * The dashboard: the page at `/` (never cached: it names the current build's files) and its
 * content-hashed script and stylesheet under `/assets/`, cached as immutable. The files hold
 * no data: everything comes through the API after sign-in. The CSP (see `http-app.ts`)
 * allows no inline script and nothing from another origin.
 */
export const webRoutes: FastifyPluginAsyncTypebox<{ assets: WebAssets }> = async (app, { assets }) => {
  const open = { access: { kind: 'public' } } as const;
  const page = (reply: FastifyReply): FastifyReply => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(assets.html);
  app.get('/', { config: open, schema: { hide: true } }, async (_req, reply) => page(reply));

  const params = Type.Object({ file: Type.String({ pattern: ASSET_NAME }) });
  if (assets.kind === 'dir') {
    await app.register(fastifyStatic, { root: join(assets.dir, 'assets'), serve: false });
    app.get(`${ASSET_PREFIX}:file`, { config: open, schema: { hide: true, params } }, async (req, reply) =>
      reply.sendFile(req.params.file, { immutable: true, maxAge: IMMUTABLE_MAX_AGE_MS, cacheControl: true, dotfiles: 'deny' }),
    );
    return;
  }
  // Development build in memory: re-built at every start, so never cached.
  app.get(`${ASSET_PREFIX}:file`, { config: open, schema: { hide: true, params } }, async (req, reply) => {
    const asset = assets.assets.get(req.params.file);
    if (!asset) return reply.status(404).send({ error: 'NOT_FOUND', message: 'no such file' });
    const type = asset.name.endsWith('.js') ? 'text/javascript; charset=utf-8' : asset.name.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/octet-stream';
    return reply.type(type).header('cache-control', 'no-store').send(Buffer.from(asset.contents));
  });
};
