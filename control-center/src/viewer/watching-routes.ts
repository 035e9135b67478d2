import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import type { Principal } from '../access/principal';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { AppError } from '../errors';
import { CameraId, OrgId } from '../http/schemas';
import type { CameraCatalogue } from '../cameras/camera-catalogue';
import { readableCamera } from '../cameras/camera-routes';
import type { OrgStore } from '../storage/org-store';
import type { LiveViewInfo, LiveViews } from './live-views';

/** One person watching one camera now. */
export const WatcherView = Type.Object({
  cameraId: Type.String(),
  user: Type.String(),
  role: Type.String(),
  /** The viewer's organisation (the region, a force, a school). */
  organisation: Type.String(),
  /** When the view started, ms since the epoch. */
  since: Type.Number(),
  /** The grant the view runs under (police), or null (the viewer's own role). */
  grant: Type.Union([Type.Object({ id: Type.String(), caseRef: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
});
export type WatcherView = Static<typeof WatcherView>;

const toWatcher = (v: LiveViewInfo): WatcherView => ({
  cameraId: v.camera.id,
  user: v.owner.username,
  role: v.owner.role,
  organisation: v.owner.orgId,
  since: v.startedAt,
  grant: v.basis.kind === 'grant' ? { id: v.basis.grantId, caseRef: v.basis.caseRef ?? null } : null,
});

/** Who may see who is watching: the region's operators and auditors, and a school's own staff. Police and admins may not. */
const WATCH_OVERSIGHT = new Set<Principal['role']>(['operator', 'auditor', 'school_it']);

export interface WatchingRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  liveViews: Pick<LiveViews, 'list'>;
  cameras: Pick<CameraCatalogue, 'get' | 'list'>;
  orgs: Pick<OrgStore, 'get'>;
  policy: AccessPolicy;
}

/** Who is watching now, per camera and per school. */
export const watchingRoutes: FastifyPluginCallbackTypebox<WatchingRoutesDeps> = (app, deps, done) => {
  const { liveViews, orgs } = deps;
  const body = Type.Object({ viewers: Type.Array(WatcherView) });

  app.get(
    '/api/cameras/:id/viewers',
    {
      config: { access: { kind: 'session' } },
      schema: { summary: 'Who is watching this camera now', tags: ['cameras'], params: Type.Object({ id: CameraId }), response: { 200: body, 403: ErrorBody, 404: ErrorBody } },
    },
    (req) => {
      const p = principalOf(req);
      const { camera, basis } = readableCamera(req, deps, req.params.id);
      if (!WATCH_OVERSIGHT.has(p.role) || basis.kind !== 'role') {
        refuse(req, deps, 'FORBIDDEN', 'role_not_permitted', { cameraId: camera.id, schoolId: camera.schoolId });
        throw new AppError('FORBIDDEN', 'this account may not see who is watching', 403);
      }
      return { viewers: liveViews.list().filter((v) => v.camera.id === camera.id).map(toWatcher) };
    },
  );

  app.get(
    '/api/schools/:id/viewers',
    {
      config: { access: { kind: 'session' } },
      schema: { summary: 'Who is watching this school\'s cameras now', tags: ['cameras'], params: Type.Object({ id: OrgId }), response: { 200: body, 403: ErrorBody, 404: ErrorBody } },
    },
    (req) => {
      const p = principalOf(req);
      const school = orgs.get(req.params.id);
      const own = p.role !== 'school_it' || p.orgId === req.params.id;
      if (!school || school.kind !== 'school' || !own) {
        refuse(req, deps, 'NOT_FOUND', 'out_of_scope', { schoolId: req.params.id });
        throw new AppError('NOT_FOUND', 'school not found', 404);
      }
      if (!WATCH_OVERSIGHT.has(p.role)) {
        refuse(req, deps, 'FORBIDDEN', 'role_not_permitted', { schoolId: school.id });
        throw new AppError('FORBIDDEN', 'this account may not see who is watching', 403);
      }
      return { viewers: liveViews.list().filter((v) => v.camera.schoolId === school.id).map(toWatcher) };
    },
  );
  done();
};
