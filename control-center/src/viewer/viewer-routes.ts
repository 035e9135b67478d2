import type { FastifyPluginCallback } from 'fastify';
import { principalOf } from '../auth/request-auth';
import type { ViewerHub } from './viewer-hub';

/**
 * `/api/view`: the page's signalling socket. Opened with the session cookie; the access hook
 * has already refused a missing session and a foreign `Origin` (a page on another site
 * cannot ride the cookie: cross-site WebSocket hijacking).
 */
export const viewerRoutes: FastifyPluginCallback<{ hub: ViewerHub }> = (app, { hub }, done) => {
  app.get('/api/view', { websocket: true, config: { access: { kind: 'session' } }, schema: { hide: true } }, (socket, req) => {
    const p = principalOf(req);
    hub.accept(socket, p.sessionId, p.userId, req.ip);
  });
  done();
};
