import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AccessBasis, AccessPolicy } from '../access/policy';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { AppError } from '../errors';
import { CameraId } from '../http/schemas';
import type { CameraCatalogue, CameraEntry } from './camera-catalogue';
import { CameraView, cameraView, visibleCameras } from './camera-view';

export interface CameraRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  cameras: Pick<CameraCatalogue, 'list' | 'get'>;
  policy: AccessPolicy;
}

/**
 * A camera the caller may see, with the decision that lets them (its basis: role or grant).
 * Anything else — unknown, or outside their scope — is NOT_FOUND for them, and the refusal is audited.
 */
export function readableCamera(req: FastifyRequest, deps: CameraRoutesDeps, id: string): { camera: CameraEntry; basis: AccessBasis } {
  const camera = deps.cameras.get(id);
  const decision = deps.policy.decide(principalOf(req), 'camera.read', camera && { schoolId: camera.schoolId, cameraId: camera.id });
  if (!decision.allowed || !camera) {
    refuse(req, deps, 'NOT_FOUND', decision.allowed ? 'unknown_resource' : decision.reason, { cameraId: id, schoolId: camera?.schoolId });
    throw new AppError('NOT_FOUND', 'camera not found', 404);
  }
  return { camera, basis: decision.basis };
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
    (req) => cameraView(policy, principalOf(req), readableCamera(req, deps, req.params.id).camera),
  );
  done();
};
