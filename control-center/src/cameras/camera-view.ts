import { type Static, Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import type { Principal } from '../access/principal';
import type { CameraRecord, CameraStore } from '../storage/camera-store';

/** A camera as the API and the viewer socket show it. Shared (type-only) with the page. */
export const CameraView = Type.Object({
  id: Type.String({ description: '<gatewayId>:<localId>' }),
  name: Type.String(),
  schoolId: Type.String(),
  gatewayId: Type.String(),
  state: Type.String({ description: 'idle, starting, streaming, failing or offline' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: Type.Number(),
  /** Whether the caller may watch it live (an admin sees health, not video). */
  live: Type.Boolean(),
});
export type CameraView = Static<typeof CameraView>;

const toView = (c: CameraRecord, live: boolean): CameraView => ({
  id: c.id,
  name: c.name,
  schoolId: c.schoolId,
  gatewayId: c.gatewayId,
  state: c.state,
  reason: c.reason,
  width: c.width,
  height: c.height,
  updatedAt: c.updatedAt,
  live,
});

/** The cameras a principal may see, in the one shape the API and the socket share. */
export function visibleCameras(policy: AccessPolicy, cameras: Pick<CameraStore, 'list'>, principal: Principal): CameraView[] {
  return policy
    .filterByScope(principal, cameras.list().map((c) => ({ ...c, cameraId: c.id })))
    .map((c) => toView(c, policy.decide(principal, 'camera.view', c).allowed));
}

export function cameraView(policy: AccessPolicy, principal: Principal, c: CameraRecord): CameraView {
  return toView(c, policy.decide(principal, 'camera.view', { schoolId: c.schoolId, cameraId: c.id }).allowed);
}
