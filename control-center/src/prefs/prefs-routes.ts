import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../auth/auth-schemas';
import { principalOf } from '../auth/request-auth';
import { AppError, notFound } from '../errors';
import { MAX_VIEWS_PER_USER, type PrefsStore } from './prefs-store';
import { Prefs, SavedView, SavedViewInput, ViewId } from './prefs-schemas';

/**
 * `/api/me/…`: the signed-in account's own dashboard settings — its language and its saved
 * live views. Every account has its own and sees no one else's. A saved view names cameras
 * but grants nothing: opening one still asks the centre for each camera.
 */
export const prefsRoutes: FastifyPluginCallbackTypebox<{ prefs: PrefsStore }> = (app, { prefs }, done) => {
  const own = { access: { kind: 'session' } } as const;

  app.get('/api/me/prefs', { config: own, schema: { summary: 'My dashboard preferences', tags: ['me'], response: { 200: Prefs } } }, (req) => prefs.prefs(principalOf(req).userId));

  app.put(
    '/api/me/prefs',
    { config: own, schema: { summary: 'Set my dashboard preferences', tags: ['me'], body: Prefs, response: { 200: Prefs } } },
    (req) => {
      const { userId } = principalOf(req);
      prefs.setPrefs(userId, req.body);
      return prefs.prefs(userId);
    },
  );

  app.get(
    '/api/me/views',
    { config: own, schema: { summary: 'My saved live views', tags: ['me'], response: { 200: Type.Object({ views: Type.Array(SavedView) }) } } },
    (req) => ({ views: prefs.views(principalOf(req).userId) }),
  );

  app.post(
    '/api/me/views',
    {
      config: own,
      schema: {
        summary: 'Save a live view under a name (replaces my view of that name)',
        tags: ['me'],
        body: SavedViewInput,
        response: { 200: SavedView, 409: ErrorBody },
      },
    },
    (req) => {
      const saved = prefs.saveView(principalOf(req).userId, req.body);
      if (!saved) throw new AppError('CONFLICT', `at most ${MAX_VIEWS_PER_USER} saved views per account: delete one first`, 409);
      return saved;
    },
  );

  app.delete(
    '/api/me/views/:id',
    {
      config: own,
      schema: { summary: 'Delete one of my saved views', tags: ['me'], params: Type.Object({ id: ViewId }), response: { 204: Type.Null(), 404: ErrorBody } },
    },
    async (req, reply) => {
      if (!prefs.deleteView(principalOf(req).userId, req.params.id)) throw notFound('saved view');
      return reply.status(204).send(null);
    },
  );
  done();
};
