import type { FastifyRequest } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { AppError } from '../errors';
import { CameraId, Name, OrgId } from '../http/schemas';
import type { GrantActor, GrantService } from './grant-service';
import type { GrantRecord } from './grant-store';
import { GrantView } from './grant-view';

/** Free text of a grant (reason, case reference, legal basis): no control characters or bidi overrides. */
const Text = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, pattern: Name.pattern, description });
const GrantId = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Minutes = Type.Integer({ minimum: 1, maximum: 30 * 24 * 60 });

export const CreateGrant = Type.Object(
  {
    forceId: OrgId,
    /** The cameras, or… */
    cameraIds: Type.Optional(Type.Array(CameraId, { minItems: 1, maxItems: 256 })),
    /** …a whole school (every camera it has, now or later). */
    schoolId: Type.Optional(OrgId),
    reason: Text(500, 'why the police need the cameras'),
    caseRef: Text(100, 'the police case reference'),
    legalBasis: Text(300, 'the law the sharing rests on'),
    /** Default: config `grants.defaultMinutes`; at most `grants.maxMinutes`. */
    minutes: Type.Optional(Minutes),
    snapshots: Type.Optional(Type.Boolean({ description: 'allow snapshots besides live view (default false)' })),
    audio: Type.Optional(Type.Boolean({ description: 'allow camera audio (default false: never unless said)' })),
  },
  { additionalProperties: false },
);
const Extend = Type.Object({ minutes: Minutes, reason: Text(500, 'why the grant must run longer') }, { additionalProperties: false });
const Emergency = Type.Object({ reason: Type.Optional(Text(500, 'what is happening')) }, { additionalProperties: false });
const Created = Type.Intersect([GrantView, Type.Object({ rtsp: Type.Array(Type.Object({ cameraId: Type.String(), url: Type.String() })) })]);
/** A grant request (`POST /api/grants`); shared (type-only) with the page's share form. */
export type CreateGrantBody = Static<typeof CreateGrant>;
/** The answer to `POST /api/grants`: the grant and its RTSP URLs (shown once). Shared (type-only) with the page. */
export type CreatedGrant = Static<typeof Created>;

export interface GrantRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  grants: GrantService;
}

/**
 * `/api/grants` and `/api/schools/:id/emergency`: police sharing. Who may do what is decided
 * per grant in {@link GrantService} (operators create and approve; police request for their
 * own force; the region and the school revoke), so the routes only need a session; every
 * refusal is audited.
 */
export const grantRoutes: FastifyPluginCallbackTypebox<GrantRoutesDeps> = (app, deps, done) => {
  const { grants } = deps;
  const session = { access: { kind: 'session' } } as const;
  const actor = (req: FastifyRequest): GrantActor => ({ principal: principalOf(req), address: req.ip });
  const view = (g: GrantRecord): GrantView => grants.view(g);
  /** Runs a grant action; a refusal (403/404) is audited like every other refusal. */
  const act = <T>(req: FastifyRequest, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof AppError && (err.code === 'FORBIDDEN' || err.code === 'NOT_FOUND')) refuse(req, deps, err.code, err.message);
      throw err;
    }
  };
  const params = Type.Object({ id: GrantId });

  app.get(
    '/api/grants',
    { config: session, schema: { summary: 'Grants the caller may see (police: their force\'s)', tags: ['grants'], response: { 200: Type.Object({ grants: Type.Array(GrantView) }) } } },
    (req) => ({ grants: grants.list(principalOf(req)).map(view) }),
  );

  app.post(
    '/api/grants',
    {
      config: session,
      schema: {
        summary: 'Create a grant (operator), or request one for your own force (police)',
        tags: ['grants'],
        body: CreateGrant,
        response: { 201: Created, 400: ErrorBody, 403: ErrorBody },
      },
    },
    async (req, reply) => {
      const { grant, rtsp } = act(req, () => grants.create(actor(req), req.body));
      return reply.status(201).send({ ...view(grant), rtsp });
    },
  );

  app.post(
    '/api/grants/:id/approve',
    { config: session, schema: { summary: 'Approve a request or a pending grant (another operator)', tags: ['grants'], params, response: { 200: GrantView, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody } } },
    (req) => view(act(req, () => grants.approve(actor(req), req.params.id))),
  );

  app.post(
    '/api/grants/:id/revoke',
    {
      config: session,
      schema: { summary: 'End a grant now; every session under it is cut', tags: ['grants'], params, response: { 200: GrantView, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody } },
    },
    (req) => view(act(req, () => grants.revoke(actor(req), req.params.id))),
  );

  app.post(
    '/api/grants/:id/extend',
    {
      config: session,
      schema: { summary: 'Lengthen an active grant (a reason is required)', tags: ['grants'], params, body: Extend, response: { 200: GrantView, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody } },
    },
    (req) => view(act(req, () => grants.extend(actor(req), req.params.id, req.body.minutes, req.body.reason))),
  );

  app.post(
    '/api/schools/:id/emergency',
    {
      config: session,
      schema: {
        summary: 'Raise an emergency: the school\'s cameras open to its town\'s police at once',
        tags: ['grants'],
        params: Type.Object({ id: OrgId }),
        body: Emergency,
        response: { 200: GrantView, 201: GrantView, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const { grant, created } = act(req, () => grants.emergency(actor(req), req.params.id, req.body.reason));
      return reply.status(created ? 201 : 200).send(view(grant));
    },
  );
  done();
};
