import { type Static, Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import type { Principal } from '../access/principal';
import { Nullable } from '../http/nullable';
import type { CameraEntry } from './camera-catalogue';
import { CameraHealthView } from './camera-health';

/** What the centre records of a registered camera (null for a camera registered on the gateway alone, e.g. in its YAML). */
export const CameraRegistrationView = Type.Object({
  purpose: Type.String(),
  legalBasis: Type.String(),
  retentionHours: Type.Integer(),
  schedule: Nullable(Type.String()),
  /** The camera's ONVIF address or RTSP URL, without credentials. */
  source: Nullable(Type.String()),
  registeredBy: Type.String(),
  registeredAt: Type.Number(),
  updatedBy: Type.String(),
  updatedAt: Type.Number(),
});
export type CameraRegistrationView = Static<typeof CameraRegistrationView>;

/** A camera as the API and the viewer socket show it. Shared (type-only) with the page. */
export const CameraView = Type.Object({
  id: Type.String({ description: '<gatewayId>:<localId>' }),
  name: Type.String(),
  schoolId: Type.String(),
  gatewayId: Type.String(),
  state: Type.String({ description: 'idle, starting, streaming, stalled, failing, offline; unknown from a centre start until the gateway reports' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: Type.Number(),
  /** Whether the caller may watch it live (an admin sees health, not video). */
  live: Type.Boolean(),
  /** The gateway's last health report (null until it reports, or while its link is down). */
  health: Nullable(CameraHealthView),
  registration: Nullable(CameraRegistrationView),
});
export type CameraView = Static<typeof CameraView>;

const toView = (c: CameraEntry, live: boolean): CameraView => ({
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
  health: c.health,
  registration: c.registration && {
    purpose: c.registration.purpose,
    legalBasis: c.registration.legalBasis,
    retentionHours: c.registration.retentionHours,
    schedule: c.registration.schedule,
    source: c.registration.source,
    registeredBy: c.registration.registeredBy,
    registeredAt: c.registration.registeredAt,
    updatedBy: c.registration.updatedBy,
    updatedAt: c.registration.updatedAt,
  },
});

/** The cameras a principal may see, in the one shape the API and the socket share. */
export function visibleCameras(policy: AccessPolicy, cameras: { list(): CameraEntry[] }, principal: Principal): CameraView[] {
  return policy
    .filterByScope(principal, cameras.list().map((c) => ({ ...c, cameraId: c.id })))
    .map((c) => toView(c, policy.decide(principal, 'camera.view', c).allowed));
}

export function cameraView(policy: AccessPolicy, principal: Principal, c: CameraEntry): CameraView {
  return toView(c, policy.decide(principal, 'camera.view', { schoolId: c.schoolId, cameraId: c.id }).allowed);
}
