import type { FastifyRequest } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CheckResult, DiscoveredDevice } from '@schoolcam/protocol/link/link-messages';
import type { AccessPolicy, CameraPermission } from '../access/policy';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { AppError } from '../errors';
import { CameraId, GatewayId, Name, OrgId } from '../http/schemas';
import type { GatewayStore } from '../storage/gateway-store';
import type { OrgStore } from '../storage/org-store';
import type { CameraCatalogue, CameraEntry } from './camera-catalogue';
import { CameraView, cameraView } from './camera-view';
import type { CameraRegistration } from './registration-service';

export interface RegistrationRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  registration: CameraRegistration;
  catalogue: CameraCatalogue;
  orgs: Pick<OrgStore, 'get'>;
  gateways: Pick<GatewayStore, 'list'>;
  link: { isOnline(gatewayId: string): boolean };
  policy: AccessPolicy;
}

/** Camera passwords and user names: sent on to the gateway, never stored or logged by the centre. */
const Secret = Type.String({ maxLength: 256 });
/** Free text for the records of processing: no control characters or bidirectional overrides. */
const Text = (max: number) => Type.String({ minLength: 3, maxLength: max, pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069]+$' });
const LocalId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$', description: 'the camera’s id on its gateway; default made from the name' });
const Ipv4 = Type.String({ maxLength: 15, pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' });

const Facts = {
  /** What the camera is for, specifically (not “for your safety”). */
  purpose: Text(500),
  /** E.g. “čl. 6 odst. 1 písm. e) GDPR – úkol ve veřejném zájmu”. */
  legalBasis: Text(500),
  /** How long recordings and snapshots may be kept, in hours: 1 h to 30 days. */
  retentionHours: Type.Integer({ minimum: 1, maximum: 720 }),
  /** When it is in use, if limited (e.g. outside school hours). */
  schedule: Type.Optional(Text(200)),
};

const GatewayChoice = { gatewayId: Type.Optional(GatewayId) };
/** The camera's login, when it needs one. */
const Login = { username: Type.Optional(Secret), password: Type.Optional(Secret) };

const DiscoverBody = Type.Object(
  {
    ...GatewayChoice,
    /** Addresses to probe directly: `10.0.0.1-10.0.0.254` or `10.0.0.0/24` (at most 4096). */
    range: Type.Optional(Type.String({ minLength: 7, maxLength: 64, pattern: '^[0-9./-]+$' })),
    /** The gateway's interface to send the multicast probe on (default: every one). */
    interface: Type.Optional(Ipv4),
    /** false: directed probes to `range` only. Default true. */
    multicast: Type.Optional(Type.Boolean()),
    /** With credentials, each camera found is asked for its video profiles. */
    ...Login,
    timeoutMs: Type.Optional(Type.Integer({ minimum: 200, maximum: 30_000 })),
  },
  { additionalProperties: false },
);

const CheckBody = Type.Object(
  {
    ...GatewayChoice,
    /** `rtsp://…` or the camera's ONVIF device service `http(s)://…/onvif/device_service`. */
    url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^(rtsp|https?)://\\S+$' }),
    ...Login,
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
  },
  { additionalProperties: false },
);

const RegisterBody = Type.Object(
  {
    ...GatewayChoice,
    id: Type.Optional(LocalId),
    name: Name,
    onvif: Type.Optional(
      Type.Object(
        {
          xaddr: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://\\S+$' }),
          username: Secret,
          password: Secret,
          profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])),
        },
        { additionalProperties: false },
      ),
    ),
    rtsp: Type.Optional(Type.Object({ url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^rtsp://\\S+$' }), ...Login }, { additionalProperties: false })),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    allowBasicAuth: Type.Optional(Type.Boolean()),
    ...Facts,
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  { purpose: Type.Optional(Facts.purpose), legalBasis: Type.Optional(Facts.legalBasis), retentionHours: Type.Optional(Facts.retentionHours), schedule: Facts.schedule },
  { additionalProperties: false, minProperties: 1 },
);

const GatewayBrief = Type.Object({ id: Type.String(), name: Type.String(), online: Type.Boolean(), lastSeenAt: Type.Union([Type.Number(), Type.Null()]) });

/**
 * Camera registration through the school's gateway: `/api/schools/:id/{gateways,discover,check,cameras}`,
 * `PATCH`/`DELETE /api/cameras/:id`, and `GET /api/cameras/:id/snapshot`. Managing cameras is for
 * school IT (own school) and admins (any school); a snapshot for whoever may watch the camera live.
 */
export const registrationRoutes: FastifyPluginCallbackTypebox<RegistrationRoutesDeps> = (app, deps, done) => {
  const { registration, catalogue, orgs, policy } = deps;
  const session = { access: { kind: 'session' } } as const;

  /** The school, when the caller may do this there; 404 outside scope, 403 for a role that may not (both audited). */
  const school = (req: FastifyRequest, id: string, permission: CameraPermission): string => {
    const org = orgs.get(id);
    const decision = policy.decide(principalOf(req), permission, org?.kind === 'school' ? { schoolId: org.id } : undefined);
    if (decision.allowed) return id;
    refuse(req, deps, decision.code, decision.reason, { schoolId: org?.id });
    throw decision.code === 'FORBIDDEN' ? new AppError('FORBIDDEN', 'not permitted for this account', 403) : new AppError('NOT_FOUND', 'school not found', 404);
  };

  /** The camera, when the caller may do this with it; as {@link school}. */
  const camera = (req: FastifyRequest, id: string, permission: CameraPermission): CameraEntry => {
    const found = catalogue.get(id);
    const decision = policy.decide(principalOf(req), permission, found && { schoolId: found.schoolId, cameraId: found.id });
    if (decision.allowed && found) return found;
    const code = decision.allowed ? 'NOT_FOUND' : decision.code;
    refuse(req, deps, code, decision.allowed ? 'unknown_resource' : decision.reason, { cameraId: id, schoolId: found?.schoolId });
    throw code === 'FORBIDDEN' ? new AppError('FORBIDDEN', 'not permitted for this account', 403) : new AppError('NOT_FOUND', 'camera not found', 404);
  };

  const SchoolParams = Type.Object({ id: OrgId });
  const CameraParams = Type.Object({ id: CameraId });

  app.get(
    '/api/schools/:id/gateways',
    {
      config: session,
      schema: { summary: 'The school’s gateways and whether each is connected', tags: ['cameras'], params: SchoolParams, response: { 200: Type.Object({ gateways: Type.Array(GatewayBrief) }), 404: ErrorBody } },
    },
    (req) => {
      const id = school(req, req.params.id, 'camera.read');
      const list = deps.gateways.list().filter((g) => g.schoolId === id && g.enrolledAt !== null && g.revokedAt === null);
      return { gateways: list.map((g) => ({ id: g.id, name: g.name, online: deps.link.isOnline(g.id), lastSeenAt: g.lastSeenAt })) };
    },
  );

  app.post(
    '/api/schools/:id/discover',
    {
      config: session,
      schema: {
        summary: 'Find cameras on the school’s network through its gateway (WS-Discovery; audited)',
        tags: ['cameras'],
        params: SchoolParams,
        body: DiscoverBody,
        response: { 200: Type.Object({ gatewayId: Type.String(), devices: Type.Array(DiscoveredDevice) }), 404: ErrorBody },
      },
    },
    (req) => registration.discover(principalOf(req), req.ip, school(req, req.params.id, 'camera.manage'), req.body),
  );

  app.post(
    '/api/schools/:id/check',
    {
      config: session,
      schema: {
        summary: 'Check and grade one camera through the school’s gateway (audited)',
        description: 'Answers the grade (`ready`, `works_with_reasons`, `not_supported`) with reasons in Czech and English. Takes up to about 15 s: the stream is sampled.',
        tags: ['cameras'],
        params: SchoolParams,
        body: CheckBody,
        response: { 200: Type.Object({ gatewayId: Type.String(), result: CheckResult }), 404: ErrorBody },
      },
    },
    (req) => registration.check(principalOf(req), req.ip, school(req, req.params.id, 'camera.manage'), req.body),
  );

  app.post(
    '/api/schools/:id/cameras',
    {
      config: session,
      schema: {
        summary: 'Register a camera with the school’s gateway, with its purpose, legal basis and retention (audited)',
        description: 'Exactly one of `onvif` or `rtsp`. An `id` the gateway has already replaces that camera (200); otherwise 201. The password goes to the gateway only.',
        tags: ['cameras'],
        params: SchoolParams,
        body: RegisterBody,
        response: { 200: Type.Object({ camera: CameraView }), 201: Type.Object({ camera: CameraView }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { cameraId, replaced } = await registration.register(p, req.ip, school(req, req.params.id, 'camera.manage'), req.body);
      const entry = catalogue.get(cameraId);
      if (!entry) throw new AppError('GATEWAY_FAILED', 'the gateway registered the camera, but the centre cannot list it', 502);
      return reply.status(replaced ? 200 : 201).send({ camera: cameraView(policy, p, entry) });
    },
  );

  app.patch(
    '/api/cameras/:id',
    {
      config: session,
      schema: {
        summary: 'Change a camera’s purpose, legal basis, retention or schedule (audited)',
        tags: ['cameras'],
        params: CameraParams,
        body: PatchBody,
        response: { 200: Type.Object({ camera: CameraView }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    (req) => {
      const p = principalOf(req);
      const entry = camera(req, req.params.id, 'camera.manage');
      registration.update(p, req.ip, entry, req.body);
      return { camera: cameraView(policy, p, catalogue.get(entry.id) ?? entry) };
    },
  );

  app.delete(
    '/api/cameras/:id',
    {
      config: session,
      schema: { summary: 'Remove a camera from its gateway and forget its registration (audited); 204', tags: ['cameras'], params: CameraParams },
    },
    async (req, reply) => {
      await registration.unregister(principalOf(req), req.ip, camera(req, req.params.id, 'camera.manage'));
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/cameras/:id/snapshot',
    {
      config: session,
      schema: {
        summary: 'A JPEG of what the camera sees now, from its ONVIF snapshot (audited); for whoever may watch it live',
        tags: ['cameras'],
        params: CameraParams,
        querystring: Type.Object({ profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const entry = camera(req, req.params.id, 'camera.snapshot');
      const jpeg = await registration.snapshot(principalOf(req), req.ip, entry, req.query.profile);
      return reply.type('image/jpeg').header('cache-control', 'no-store').send(jpeg);
    },
  );
  done();
};
