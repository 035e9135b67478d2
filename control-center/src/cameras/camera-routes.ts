import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { AppError } from '../errors';
import { CameraId } from '../http/schemas';
import type { CameraCatalogue } from './camera-catalogue';
import { CameraView, cameraView, visibleCameras } from './camera-view';

export interface CameraRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  cameras: Pick<CameraCatalogue, 'list' | 'get'>;
  policy: AccessPolicy;
}

/** `/api/cameras`: the cameras the caller may see. Any other camera does not exist for them. */
export const cameraRoutes: FastifyPluginCallbackTypebox<CameraRoutesDeps> = (app, deps, done) => {
  const { cameras, policy } = deps;

  app.get(
    '/api/cameras',
    {
      config: { access: { kind: 'session' } },
      schema: { summary: 'Cameras in the caller\'s scope, with health and registration', tags: ['cameras'], response: { 200: Type.Object({ cameras: Type.Array(CameraView) }) } },
    },
    (req) => ({ cameras: visibleCameras(policy, cameras, principalOf(req)) }),
  );

  app.get(
    '/api/cameras/:id',
    {
      config: { access: { kind: 'session' } },
      schema: { summary: 'One camera', tags: ['cameras'], params: Type.Object({ id: CameraId }), response: { 200: CameraView, 404: ErrorBody } },
    },
    (req) => {
      const p = principalOf(req);
      const camera = cameras.get(req.params.id);
      const decision = policy.decide(p, 'camera.read', camera && { schoolId: camera.schoolId, cameraId: camera.id });
      if (!decision.allowed || !camera) {
        refuse(req, deps, 'NOT_FOUND', decision.allowed ? 'unknown_resource' : decision.reason, { cameraId: req.params.id, schoolId: camera?.schoolId });
        throw new AppError('NOT_FOUND', 'camera not found', 404);
      }
      return cameraView(policy, p, camera);
    },
  );
  done();
};
