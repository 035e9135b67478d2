import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { AppError } from '../errors';
import { CameraId } from '../http/schemas';
import type { CameraStore } from '../storage/camera-store';
import type { SnapshotService } from './snapshot-service';

export interface SnapshotRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  cameras: CameraStore;
  policy: AccessPolicy;
  snapshots: SnapshotService;
}

/**
 * `GET /api/cameras/:id/snapshot`: a JPEG of the camera's current picture, for whoever may
 * watch it live. A snapshot is a view: it is audited first, and not taken when the audit log
 * cannot record it (fail closed).
 */
export const snapshotRoutes: FastifyPluginCallbackTypebox<SnapshotRoutesDeps> = (app, deps, done) => {
  const { cameras, policy, snapshots, audit } = deps;
  app.addHook('onClose', (_app, next) => {
    snapshots.close();
    next();
  });
  app.get(
    '/api/cameras/:id/snapshot',
    {
      config: { access: { kind: 'session' }, rateLimit: { max: 120, timeWindow: 60_000 } },
      schema: {
        summary: 'A JPEG of the camera\'s current picture (audited)',
        description: 'Taken by the school gateway from the camera\'s ONVIF snapshot address. Needs live-view rights to the camera.',
        tags: ['cameras'],
        params: Type.Object({ id: CameraId }),
        produces: ['image/jpeg'],
        response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'image/jpeg' }), 403: ErrorBody, 404: ErrorBody, 502: ErrorBody, 503: ErrorBody, 504: ErrorBody },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const camera = cameras.get(req.params.id);
      const decision = policy.decide(p, 'camera.view', camera && { schoolId: camera.schoolId, cameraId: camera.id });
      if (!decision.allowed || !camera) {
        const code = decision.allowed ? 'NOT_FOUND' : decision.code;
        refuse(req, deps, code, decision.allowed ? 'unknown_resource' : decision.reason, { cameraId: req.params.id, schoolId: camera?.schoolId });
        throw code === 'NOT_FOUND' ? new AppError('NOT_FOUND', 'camera not found', 404) : new AppError('FORBIDDEN', 'this account may not see this camera\'s picture', 403);
      }
      audit.append({ kind: 'camera.snapshot', outcome: 'ok', actor: p, address: req.ip, cameraId: camera.id, schoolId: camera.schoolId, target: camera.id, detail: { basis: decision.basis } });
      const jpeg = await snapshots.take(camera.gatewayId, camera.localId);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      return reply
        .type('image/jpeg')
        .header('cache-control', 'no-store')
        .header('content-disposition', `inline; filename="${camera.localId.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.jpg"`)
        .send(jpeg);
    },
  );
  done();
};
