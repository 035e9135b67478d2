import { type Static, Type } from '@sinclair/typebox';
import { ALARM_KINDS, type AlarmRecord, type StoredEvent } from '../storage/alarm-store';
import { Nullable } from '../http/nullable';

/** How an alarm changed, as pushed to dashboards: new, happened again, its condition ended, acknowledged. */
export type AlarmChange = 'raised' | 'updated' | 'cleared' | 'acked';

/** An event is late when the centre learnt of it this long after the gateway saw it (held back by a link cut). */
export const LATE_AFTER_MS = 10_000;

export const AlarmKindSchema = Type.Union(ALARM_KINDS.map((k) => Type.Literal(k)));
/** Alarm ids are UUIDs minted by the centre. */
export const AlarmId = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });

/** An alarm as the API and the viewer socket show it. Shared (type-only) with the page. */
export const AlarmView = Type.Object({
  id: Type.String(),
  kind: AlarmKindSchema,
  /** `<gatewayId>:<localId>`; null for `gateway_offline`. */
  cameraId: Nullable(Type.String()),
  cameraName: Nullable(Type.String()),
  gatewayId: Type.String(),
  schoolId: Type.String(),
  /** When it happened (the gateway's clock for events), ms since the epoch. */
  raisedAt: Type.Number(),
  /** When the centre learnt of it. */
  receivedAt: Type.Number(),
  /** Held back (a link cut) and delivered more than {@link LATE_AFTER_MS} after it happened. */
  late: Type.Boolean(),
  /** When it last happened again while open. */
  lastAt: Type.Number(),
  occurrences: Type.Integer(),
  /** The condition still holds (motion on, camera or gateway still down). */
  active: Type.Boolean(),
  clearedAt: Nullable(Type.Number()),
  reason: Nullable(Type.String()),
  state: Type.Union([Type.Literal('open'), Type.Literal('acked')]),
  ackedBy: Nullable(Type.String()),
  ackedAt: Nullable(Type.Number()),
  ackNote: Nullable(Type.String()),
});
export type AlarmView = Static<typeof AlarmView>;

/** One event behind an alarm (its history). */
export const AlarmEventView = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  kind: Type.String(),
  active: Nullable(Type.Boolean()),
  at: Type.Number(),
  cameraTime: Nullable(Type.String()),
  receivedAt: Type.Number(),
  late: Type.Boolean(),
  reason: Nullable(Type.String()),
});
export type AlarmEventView = Static<typeof AlarmEventView>;

export function alarmView(a: AlarmRecord, cameraName: string | null): AlarmView {
  return {
    id: a.id,
    kind: a.kind,
    cameraId: a.cameraId,
    cameraName,
    gatewayId: a.gatewayId,
    schoolId: a.schoolId,
    raisedAt: a.raisedAt,
    receivedAt: a.receivedAt,
    late: a.receivedAt - a.raisedAt > LATE_AFTER_MS,
    lastAt: a.lastAt,
    occurrences: a.occurrences,
    active: a.active,
    clearedAt: a.clearedAt,
    reason: a.reason,
    state: a.ackedAt === null ? 'open' : 'acked',
    ackedBy: a.ackedBy,
    ackedAt: a.ackedAt,
    ackNote: a.ackNote,
  };
}

export function alarmEventView(e: StoredEvent): AlarmEventView {
  return {
    id: e.id,
    seq: e.seq,
    kind: e.kind,
    active: e.active,
    at: e.at,
    cameraTime: e.cameraTime,
    receivedAt: e.receivedAt,
    late: e.receivedAt - e.at > LATE_AFTER_MS,
    reason: e.reason,
  };
}

/** An alarm as the access policy sees it: bound to its school and, when it has one, its camera. */
export function alarmScope(a: Pick<AlarmRecord, 'schoolId' | 'cameraId'>): { schoolId: string; cameraId?: string } {
  return a.cameraId === null ? { schoolId: a.schoolId } : { schoolId: a.schoolId, cameraId: a.cameraId };
}
