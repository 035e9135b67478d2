import { type Static, Type } from '@sinclair/typebox';
import type { GrantRecord } from './grant-store';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

/** A grant as the API and the viewer socket show it (never its RTSP credentials). Shared (type-only) with the page. */
export const GrantView = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('requested'), Type.Literal('pending'), Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  forceId: Type.String(),
  /** Set when the grant covers a whole school. */
  wholeSchoolId: Nullable(Type.String()),
  /** The cameras covered now (for a whole school: its cameras today). */
  cameraIds: Type.Array(Type.String()),
  schoolIds: Type.Array(Type.String()),
  /**
   * Display names of the force and the schools the grant names, by organisation id: a police
   * officer reads the school's name, and school IT the force's, without the right to list
   * those organisations.
   */
  names: Type.Record(Type.String(), Type.String()),
  emergency: Type.Boolean(),
  reason: Type.String(),
  caseRef: Type.String(),
  legalBasis: Type.String(),
  /** Live view is always allowed; snapshots only when this says so. */
  snapshots: Type.Boolean(),
  /** Camera audio: never unless this says so. */
  audio: Type.Boolean(),
  minutes: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.Number(),
  endorsedBy: Nullable(Type.String()),
  approvedBy: Nullable(Type.String()),
  /** ms since the epoch; null until active. */
  startsAt: Nullable(Type.Number()),
  expiresAt: Nullable(Type.Number()),
  endedAt: Nullable(Type.Number()),
  endedBy: Nullable(Type.String()),
  firstUsedAt: Nullable(Type.Number()),
});
export type GrantView = Static<typeof GrantView>;

/** The public shape of a grant; `cameraIds` are the cameras it covers now, `nameOf` an organisation's display name. */
export function grantView(g: GrantRecord, cameraIds: readonly string[], nameOf: (orgId: string) => string | undefined): GrantView {
  const names: Record<string, string> = {};
  for (const id of [g.forceId, ...g.schoolIds]) {
    const name = nameOf(id);
    if (name !== undefined) names[id] = name;
  }
  return {
    id: g.id,
    state: g.state,
    forceId: g.forceId,
    wholeSchoolId: g.wholeSchoolId,
    cameraIds: [...cameraIds],
    schoolIds: g.schoolIds,
    names,
    emergency: g.emergency,
    reason: g.reason,
    caseRef: g.caseRef,
    legalBasis: g.legalBasis,
    snapshots: g.snapshots,
    audio: g.audio,
    minutes: g.minutes,
    createdBy: g.createdBy,
    createdAt: g.createdAt,
    endorsedBy: g.endorsedBy,
    approvedBy: g.approvedBy,
    startsAt: g.startsAt,
    expiresAt: g.expiresAt,
    endedAt: g.endedAt,
    endedBy: g.endedBy,
    firstUsedAt: g.firstUsedAt,
  };
}
