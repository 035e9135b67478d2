import type { FastifyRequest } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccessPolicy } from '../access/policy';
import type { Principal } from '../access/principal';
import { ErrorBody } from '../auth/auth-schemas';
import { type RequestAuthDeps, principalOf, refuse } from '../auth/request-auth';
import { notFound } from '../errors';
import { CameraId, OrgId } from '../http/schemas';
import type { AlarmRecord, AlarmStore } from '../storage/alarm-store';
import type { CameraStore } from '../storage/camera-store';
import type { AlarmService } from './alarm-service';
import { AlarmEventView, AlarmId, AlarmKindSchema, AlarmView, alarmEventView, alarmScope, alarmView } from './alarm-view';

export interface AlarmRoutesDeps extends Pick<RequestAuthDeps, 'audit' | 'metrics'> {
  alarms: AlarmService;
  store: Pick<AlarmStore, 'list' | 'getAlarm' | 'eventsOf'>;
  cameras: Pick<CameraStore, 'get' | 'list'>;
  policy: AccessPolicy;
}

/** Longest list one request returns. */
const MAX_LIST = 1000;

/**
 * The alarms a principal may see, newest first: open ones (unacknowledged), or all of them with
 * their history. Scoped like cameras — a school's IT sees its school's, police nothing until a
 * grant covers the camera — first in SQL, then by the access policy's one filter.
 */
export function visibleAlarms(
  policy: AccessPolicy,
  store: Pick<AlarmStore, 'list'>,
  cameras: Pick<CameraStore, 'list'>,
  principal: Principal,
  q: { open: boolean; kind?: AlarmRecord['kind']; schoolId?: string; cameraId?: string; before?: number; limit: number },
): AlarmView[] {
  const scope = policy.scopeOf(principal);
  const rows = store.list({ ...q, scope: { region: scope.region, schoolIds: [...scope.schoolIds], cameraIds: [...scope.cameraIds] } });
  const names = new Map(cameras.list().map((c) => [c.id, c.name]));
  return policy
    .filterByScope(principal, rows.map((a) => ({ ...alarmScope(a), alarm: a })))
    .map(({ alarm }) => alarmView(alarm, alarm.cameraId === null ? null : (names.get(alarm.cameraId) ?? null)));
}

/** `/api/alarms`: list, read with history, acknowledge. */
export const alarmRoutes: FastifyPluginCallbackTypebox<AlarmRoutesDeps> = (app, deps, done) => {
  const { alarms, store, cameras, policy } = deps;
  const nameOf = (a: AlarmRecord): string | null => (a.cameraId === null ? null : (cameras.get(a.cameraId)?.name ?? null));

  /** The alarm, when the caller may see it; 404 (audited) otherwise. */
  const visible = (req: FastifyRequest, id: string): AlarmRecord => {
    const alarm = store.getAlarm(id);
    const decision = policy.decide(principalOf(req), 'camera.read', alarm && alarmScope(alarm));
    if (!decision.allowed || !alarm) {
      refuse(req, deps, 'NOT_FOUND', decision.allowed ? 'unknown_resource' : decision.reason, { cameraId: alarm?.cameraId ?? undefined, schoolId: alarm?.schoolId });
      throw notFound('alarm');
    }
    return alarm;
  };

  app.get(
    '/api/alarms',
    {
      config: { access: { kind: 'session' } },
      schema: {
        summary: 'Alarms in the caller’s scope, newest first',
        description: '`state=open` (default): not yet acknowledged. `state=all`: acknowledged ones too (history). Page back with `before` = the last `raisedAt`.',
        tags: ['alarms'],
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')])),
            kind: Type.Optional(AlarmKindSchema),
            schoolId: Type.Optional(OrgId),
            cameraId: Type.Optional(CameraId),
            before: Type.Optional(Type.Integer({ minimum: 0, description: 'alarms raised before this time (ms since the epoch)' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST, description: 'default 200' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alarms: Type.Array(AlarmView) }) },
      },
    },
    (req) => {
      const { state, limit, ...filter } = req.query;
      return { alarms: visibleAlarms(policy, store, cameras, principalOf(req), { ...filter, open: state !== 'all', limit: limit ?? 200 }) };
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      config: { access: { kind: 'session' } },
      schema: {
        summary: 'One alarm with the events behind it, in the gateway’s order',
        tags: ['alarms'],
        params: Type.Object({ id: AlarmId }),
        response: { 200: Type.Object({ alarm: AlarmView, events: Type.Array(AlarmEventView) }), 404: ErrorBody },
      },
    },
    (req) => {
      const alarm = visible(req, req.params.id);
      return { alarm: alarmView(alarm, nameOf(alarm)), events: store.eventsOf(alarm.id).map(alarmEventView) };
    },
  );

  app.post(
    '/api/alarms/:id/ack',
    {
      config: { access: { kind: 'session', permission: 'alarm.ack' } },
      schema: {
        summary: 'Acknowledge an alarm (audited); it stays in the history',
        description: 'Body `{}` or `{"note": "…"}`; an empty body is taken as `{}`. 409 when someone acknowledged it already.',
        tags: ['alarms'],
        params: Type.Object({ id: AlarmId }),
        body: Type.Object({ note: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069]+$' })) }, { additionalProperties: false }),
        response: { 200: AlarmView, 404: ErrorBody, 409: ErrorBody },
      },
      preValidation: (req, _reply, next) => {
        req.body ??= {};
        next();
      },
    },
    (req) => {
      const alarm = visible(req, req.params.id);
      const acked = alarms.ack(principalOf(req), req.ip, alarm.id, req.body.note);
      return alarmView(acked, nameOf(acked));
    },
  );
  done();
};
