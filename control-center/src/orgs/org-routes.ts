import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import type { AuditLog } from '../audit/audit-log';
import { principalOf } from '../auth/request-auth';
import { ErrorBody } from '../auth/auth-schemas';
import { badRequest, conflict, notFound } from '../errors';
import { Latitude, Longitude, Name, OrgId } from '../http/schemas';
import { type OrgRecord, type OrgStore, PARENT_KIND } from '../storage/org-store';

export const OrgView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('region'), Type.Literal('town'), Type.Literal('school'), Type.Literal('police')]),
  name: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  /** Where it is (WGS84 degrees), for the region map; towns carry it. */
  lat: Type.Union([Type.Number(), Type.Null()]),
  lon: Type.Union([Type.Number(), Type.Null()]),
});
export type OrgView = Static<typeof OrgView>;

const CreateOrg = Type.Object(
  {
    id: OrgId,
    kind: Type.Union([Type.Literal('town'), Type.Literal('school'), Type.Literal('police')]),
    name: Name,
    /** The town of a school or police force, the region of a town. */
    parentId: OrgId,
    lat: Type.Optional(Latitude),
    lon: Type.Optional(Longitude),
  },
  { additionalProperties: false },
);
const PatchOrg = Type.Object(
  { name: Type.Optional(Name), parentId: Type.Optional(OrgId), lat: Type.Optional(Latitude), lon: Type.Optional(Longitude) },
  { additionalProperties: false, minProperties: 1 },
);

export interface OrgRoutesDeps {
  orgs: OrgStore;
  policy: AccessPolicy;
  audit: AuditLog;
}

/** `/api/orgs`: the region, towns, schools and police forces. Admins manage them. */
export const orgRoutes: FastifyPluginCallbackTypebox<OrgRoutesDeps> = (app, { orgs, policy, audit }, done) => {
  const checkPlace = (b: { lat?: number; lon?: number }): void => {
    if ((b.lat === undefined) !== (b.lon === undefined)) throw badRequest('give lat and lon together');
  };
  const checkParent = (kind: OrgRecord['kind'], parentId: string): void => {
    const parent = orgs.get(parentId);
    const want = PARENT_KIND[kind];
    if (!parent || parent.kind !== want) throw badRequest(`a ${kind} belongs to a ${want}; ${parentId} is ${parent ? `a ${parent.kind}` : 'unknown'}`);
  };

  app.get(
    '/api/orgs',
    {
      config: { access: { kind: 'session', permission: 'org.read' } },
      schema: { summary: 'Organisations the caller may see', tags: ['orgs'], response: { 200: Type.Object({ orgs: Type.Array(OrgView) }) } },
    },
    (req) => {
      const p = principalOf(req);
      const lineage = new Set(orgs.lineage(p.orgId).map((o) => o.id));
      return { orgs: policy.visibleOrgs(p, orgs.list(), lineage) };
    },
  );

  app.post(
    '/api/orgs',
    {
      config: { access: { kind: 'session', permission: 'org.manage' } },
      schema: { summary: 'Create a town, school or police force', tags: ['orgs'], body: CreateOrg, response: { 201: OrgView, 400: ErrorBody, 409: ErrorBody } },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { id, kind, name, parentId, lat, lon } = req.body;
      checkParent(kind, parentId);
      checkPlace(req.body);
      if (orgs.get(id)) throw conflict(`organisation ${id} exists`);
      audit.append({ kind: 'org.create', outcome: 'ok', actor: p, address: req.ip, target: id, detail: { kind, name, parentId, ...(lat !== undefined ? { lat, lon } : {}) } });
      if (!orgs.insert({ id, kind, name, parentId, lat: lat ?? null, lon: lon ?? null })) throw conflict(`organisation ${id} exists`);
      return reply.status(201).send(orgs.get(id)!);
    },
  );

  app.patch(
    '/api/orgs/:id',
    {
      config: { access: { kind: 'session', permission: 'org.manage' } },
      schema: {
        summary: 'Rename an organisation, move a school or force to a town, or place it on the map',
        tags: ['orgs'],
        params: Type.Object({ id: OrgId }),
        body: PatchOrg,
        response: { 200: OrgView, 400: ErrorBody, 404: ErrorBody },
      },
    },
    (req) => {
      const p = principalOf(req);
      const org = orgs.get(req.params.id);
      if (!org) throw notFound('organisation');
      if (req.body.parentId !== undefined) checkParent(org.kind, req.body.parentId);
      checkPlace(req.body);
      audit.append({ kind: 'org.update', outcome: 'ok', actor: p, address: req.ip, target: org.id, detail: { ...req.body } });
      orgs.update(org.id, req.body);
      return orgs.get(org.id);
    },
  );
  done();
};
