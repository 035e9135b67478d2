import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, expectedOrigin, principalOf } from '../auth/request-auth';
import { notFound } from '../errors';
import { GatewayId, Name, OrgId } from '../http/schemas';
import type { GatewayRecord, GatewayStore } from '../storage/gateway-store';
import { type GatewayAdmin, type GatewayLinkControl, gatewayState } from './gateway-admin';

export const GatewayView = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  name: Type.String(),
  state: Type.Union([Type.Literal('awaiting_enrolment'), Type.Literal('enrolment_expired'), Type.Literal('enrolled'), Type.Literal('revoked')]),
  online: Type.Boolean(),
  createdAt: Type.Number(),
  enrolledAt: Type.Union([Type.Number(), Type.Null()]),
  enrolmentExpiresAt: Type.Union([Type.Number(), Type.Null()]),
  revokedAt: Type.Union([Type.Number(), Type.Null()]),
  lastSeenAt: Type.Union([Type.Number(), Type.Null()]),
});
export type GatewayView = Static<typeof GatewayView>;

/** The answer to creating a gateway: its one-time enrolment token, shown once. */
export const CreatedGateway = Type.Object({
  gateway: GatewayView,
  enrolment: Type.Object({ token: Type.String(), expiresAt: Type.Number(), command: Type.String() }),
});
export type CreatedGateway = Static<typeof CreatedGateway>;

export interface GatewayRoutesDeps extends Pick<RequestAuthDeps, 'publicOrigin' | 'tls'> {
  gateways: GatewayStore;
  admin: GatewayAdmin;
  link: GatewayLinkControl;
}

/** `/api/gateways`: create (with a one-time enrolment token), list, revoke; and the gateway's token exchange. */
export const gatewayRoutes: FastifyPluginCallbackTypebox<GatewayRoutesDeps> = (app, deps, done) => {
  const { gateways, admin, link } = deps;
  const view = (g: GatewayRecord) => ({ ...g, state: gatewayState(g), online: link.isOnline(g.id) });
  const manage = { access: { kind: 'session', permission: 'gateway.manage' } } as const;

  app.get(
    '/api/gateways',
    { config: manage, schema: { summary: 'Every gateway with its state', tags: ['gateways'], response: { 200: Type.Object({ gateways: Type.Array(GatewayView) }) } } },
    () => ({ gateways: gateways.list().map(view) }),
  );

  app.post(
    '/api/gateways',
    {
      config: manage,
      schema: {
        summary: 'Create a gateway for a school; returns its one-time enrolment token (shown once)',
        tags: ['gateways'],
        body: Type.Object({ id: Type.Optional(GatewayId), schoolId: OrgId, name: Name }, { additionalProperties: false }),
        response: {
          201: CreatedGateway,
          400: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const { gateway, token, expiresAt } = admin.create(principalOf(req), req.ip, req.body);
      const command = `npm run gateway -- enroll ${expectedOrigin(req, deps)} ${token}`;
      return reply.status(201).send({ gateway: view(gateway), enrolment: { token, expiresAt, command } });
    },
  );

  app.post(
    '/api/gateways/:id/revoke',
    {
      config: manage,
      schema: {
        summary: 'Revoke a gateway: its link and viewers are cut now, and it can never connect again',
        tags: ['gateways'],
        params: Type.Object({ id: GatewayId }),
        response: { 200: GatewayView, 404: ErrorBody },
      },
    },
    (req) => {
      if (!gateways.get(req.params.id)) throw notFound('gateway');
      return view(admin.revoke(principalOf(req), req.ip, req.params.id));
    },
  );

  app.post(
    '/api/gateways/enroll',
    {
      config: { access: { kind: 'enrolment-token' }, rateLimit: { max: 20, timeWindow: 60_000 } },
      schema: {
        summary: 'Exchange a one-time enrolment token for the gateway\'s secret (the gateway CLI calls this)',
        description: 'Authenticated by the token itself; no session, no CSRF header. The token works once.',
        tags: ['gateways'],
        body: Type.Object({ token: Type.String({ minLength: 20, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ gatewayId: Type.String(), schoolId: Type.String(), secret: Type.String() }), 401: ErrorBody },
      },
    },
    async (req) => admin.enrol(req.body.token, req.ip),
  );
  done();
};
