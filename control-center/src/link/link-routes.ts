import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '../errors';
import type { GatewayLinkServer } from './gateway-link-server';

declare module 'fastify' {
  interface FastifyRequest {
    gatewayId?: string;
  }
}

/** `/link`: the gateways' WebSocket, authenticated by each gateway's secret on the upgrade. */
export const linkRoutes: FastifyPluginCallback<{ link: GatewayLinkServer }> = (app, { link }, done) => {
  app.get(
    '/link',
    {
      websocket: true,
      config: { access: { kind: 'gateway-secret' } },
      schema: { hide: true },
      preValidation: async (req) => {
        const id = await link.authenticate(req.raw);
        if (!id) throw new AppError('UNAUTHORIZED', 'unknown or revoked gateway, or wrong secret', 401);
        req.gatewayId = id;
      },
    },
    (socket, req) => link.accept(socket, req.gatewayId!),
  );
  done();
};
