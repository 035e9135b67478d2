import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { GatewayEvent } from '@schoolcam/protocol/link/link-messages';
import type { Principal } from '../access/principal';
import type { AuditInput } from '../audit/audit-log';
import { publicCameraId } from '../cameras/camera-id';
import { conflict, notFound } from '../errors';
import type { LinkDownCause } from '../link/gateway-link-server';
import type { AlarmKind, AlarmRecord, AlarmStorePort, AlarmSubject, StoredEvent } from '../storage/alarm-store';
import type { AlarmChange } from './alarm-view';

export type { AlarmChange } from './alarm-view';

/** A link replaced by the gateway's own new connection, a revoked gateway and a centre shutting down are not outages. */
const NOT_AN_OUTAGE = new Set<LinkDownCause>(['replaced', 'revoked', 'shutdown']);

/**
 * Kinds that describe a condition (the camera or gateway is down) rather than a happening: while
 * the latest alarm of one is still active, the same condition reported again is not a new alarm,
 * even once that alarm is acknowledged (the operator knows already).
 */
const CONDITIONS = new Set<AlarmKind>(['camera_offline', 'gateway_offline']);

/** What an event does to alarms: raise (or repeat) one of a kind, or clear it. Undefined: nothing. */
export function eventRule(e: Pick<GatewayEvent, 'kind' | 'active'>): { kind: AlarmKind; raises: boolean } {
  switch (e.kind) {
    case 'motion':
    case 'tamper':
      // A pulse without a state (some cameras) counts as a start.
      return { kind: e.kind, raises: e.active !== false };
    case 'camera_offline':
      return { kind: 'camera_offline', raises: true };
    case 'camera_online':
      return { kind: 'camera_offline', raises: false };
  }
}

export interface AlarmAudit {
  append(input: AuditInput): unknown;
}

export interface AlarmServiceOptions {
  /**
   * A gateway whose link closed and that has not come back within this raises `gateway_offline`
   * (one that missed its heartbeat raises it at once: it has been silent that long already). Also
   * how long after the centre starts an enrolled gateway may take to connect. Default 15000 ms.
   */
  offlineGraceMs?: number;
  now?: () => number;
  newId?: () => string;
}

/**
 * Turns what gateways report into alarms, and keeps every event it was told.
 *
 * - Events are stored idempotently by id (a copy changes nothing and is acked again), in the
 *   gateway's `seq` order.
 * - **One open alarm per camera and kind.** Motion (or tamper) on a camera raises an alarm; more
 *   motion on the same camera while that alarm is unacknowledged updates it (`occurrences`,
 *   `lastAt`) instead of raising another, so a busy corridor does not bury the list. Motion ending
 *   marks it inactive (`clearedAt`); it stays open until someone acknowledges it. The next motion
 *   after an acknowledgement raises a new alarm. Every event stays linked to its alarm (history).
 * - `camera_offline` / `camera_online` events raise and clear `camera_offline` alarms; a gateway
 *   whose link goes away (missed heartbeat, or closed and not back within the grace) raises
 *   `gateway_offline`, cleared when it reconnects.
 */
export class AlarmService extends EventEmitter<{ change: [alarm: AlarmRecord, change: AlarmChange] }> {
  private readonly offline = new Map<string, NodeJS.Timeout>();
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private closed = false;

  constructor(
    private readonly store: AlarmStorePort,
    private readonly gateways: { get(id: string): { schoolId: string; lastSeenAt: number | null } | undefined },
    private readonly audit: AlarmAudit,
    private readonly log: Logger,
    opts: AlarmServiceOptions = {},
  ) {
    super();
    this.graceMs = opts.offlineGraceMs ?? 15_000;
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
  }

  /**
   * Stores a batch of a gateway's events (oldest first) and applies them to alarms, all in one
   * transaction; returns the ids to ack: every id of the batch, copies included. Throws when
   * storing fails — nothing is then acked, and the gateway sends the batch again.
   */
  ingest(gatewayId: string, events: readonly GatewayEvent[]): string[] {
    const gateway = this.gateways.get(gatewayId);
    if (!gateway) throw new Error(`events from unknown gateway ${gatewayId}`);
    const receivedAt = this.now();
    const changes: [AlarmRecord, AlarmChange][] = [];
    this.store.transaction(() => {
      let last = this.store.lastSeq(gatewayId);
      for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
        const stored: StoredEvent = {
          id: e.id,
          gatewayId,
          seq: e.seq,
          cameraId: publicCameraId(gatewayId, e.cameraId),
          schoolId: gateway.schoolId,
          kind: e.kind,
          active: e.active ?? null,
          at: e.at,
          cameraTime: e.cameraTime ?? null,
          reason: e.reason ?? null,
          receivedAt,
          alarmId: null,
        };
        if (!this.store.insertEvent(stored)) continue; // a copy of one already stored
        if (e.seq <= last) this.log.warn({ gateway: gatewayId, seq: e.seq, last }, 'event sequence went backwards: the gateway’s outbox was reset; stored anyway');
        last = Math.max(last, e.seq);
        const rule = eventRule(e);
        const subject: AlarmSubject = { gatewayId, cameraId: stored.cameraId, kind: rule.kind };
        const alarmId = rule.raises ? this.raise(subject, gateway.schoolId, e.at, receivedAt, stored.reason, changes) : this.clear(subject, e.at, changes);
        if (alarmId) this.store.linkEvent(e.id, alarmId);
      }
    });
    this.publish(changes);
    return events.map((e) => e.id);
  }

  /** A gateway's link is up (its hello accepted): a pending or active `gateway_offline` ends. */
  linkUp(gatewayId: string): void {
    clearTimeout(this.offline.get(gatewayId));
    this.offline.delete(gatewayId);
    const changes: [AlarmRecord, AlarmChange][] = [];
    this.store.transaction(() => this.clear({ gatewayId, cameraId: null, kind: 'gateway_offline' }, this.now(), changes));
    this.publish(changes);
  }

  /** A gateway's link went away. */
  linkDown(gatewayId: string, cause: LinkDownCause): void {
    if (NOT_AN_OUTAGE.has(cause)) return;
    this.awaitGateway(gatewayId, cause === 'missed_heartbeat' ? 0 : this.graceMs, this.now(), describe(cause));
  }

  /** The centre started: each of these gateways must connect within the grace, or it is offline (since it was last seen). */
  awaitGateways(gatewayIds: readonly string[]): void {
    for (const id of gatewayIds) this.awaitGateway(id, this.graceMs, this.gateways.get(id)?.lastSeenAt ?? this.now(), 'has not connected since the control centre started');
  }

  /**
   * Acknowledges an alarm (the caller has checked the principal may see it). Audited first: if the
   * audit entry cannot be written, nothing is acknowledged.
   */
  ack(by: Principal, address: string, alarmId: string, note: string | undefined): AlarmRecord {
    const alarm = this.store.getAlarm(alarmId);
    if (!alarm) throw notFound('alarm');
    if (alarm.ackedAt !== null) throw conflict(`the alarm was already acknowledged by ${alarm.ackedBy ?? 'someone'}`);
    this.audit.append({
      kind: 'alarm.ack',
      outcome: 'ok',
      actor: by,
      address,
      cameraId: alarm.cameraId,
      schoolId: alarm.schoolId,
      target: alarm.id,
      detail: { alarmKind: alarm.kind, raisedAt: alarm.raisedAt, occurrences: alarm.occurrences, ...(note ? { note } : {}) },
    });
    this.store.ack(alarm.id, by.username, this.now(), note ?? null);
    const acked = this.store.getAlarm(alarm.id)!;
    this.publish([[acked, 'acked']]);
    return acked;
  }

  /** Idempotent: pending offline checks are dropped. */
  close(): void {
    this.closed = true;
    for (const t of this.offline.values()) clearTimeout(t);
    this.offline.clear();
  }

  private awaitGateway(gatewayId: string, delayMs: number, since: number, reason: string): void {
    if (this.closed) return;
    clearTimeout(this.offline.get(gatewayId));
    const timer = setTimeout(() => {
      this.offline.delete(gatewayId);
      const gateway = this.gateways.get(gatewayId);
      if (!gateway || this.closed) return;
      const changes: [AlarmRecord, AlarmChange][] = [];
      try {
        this.store.transaction(() => this.raise({ gatewayId, cameraId: null, kind: 'gateway_offline' }, gateway.schoolId, since, this.now(), reason, changes));
      } catch (err) {
        this.log.error({ gateway: gatewayId, err: (err as Error).message }, 'gateway_offline alarm could not be stored');
        return;
      }
      this.publish(changes);
    }, delayMs);
    timer.unref();
    this.offline.set(gatewayId, timer);
  }

  /** Raises an alarm of a subject, or repeats its open one; returns the alarm the happening belongs to. */
  private raise(s: AlarmSubject, schoolId: string, at: number, receivedAt: number, reason: string | null, changes: [AlarmRecord, AlarmChange][]): string {
    const condition = CONDITIONS.has(s.kind);
    const open = this.store.openAlarm(s);
    if (open) {
      if (condition && open.active) return open.id;
      this.store.updateAlarm(open.id, { lastAt: at, occurrences: open.occurrences + 1, active: true, clearedAt: null, reason });
      changes.push([this.store.getAlarm(open.id)!, 'updated']);
      return open.id;
    }
    if (condition) {
      const latest = this.store.latestAlarm(s);
      if (latest?.active) return latest.id;
    }
    const alarm: AlarmRecord = {
      id: this.newId(),
      kind: s.kind,
      gatewayId: s.gatewayId,
      cameraId: s.cameraId,
      schoolId,
      raisedAt: at,
      receivedAt,
      lastAt: at,
      occurrences: 1,
      active: true,
      clearedAt: null,
      reason,
      ackedBy: null,
      ackedAt: null,
      ackNote: null,
    };
    this.store.createAlarm(alarm);
    changes.push([alarm, 'raised']);
    return alarm.id;
  }

  /** The condition of a subject's latest alarm ended (motion stopped, camera back). */
  private clear(s: AlarmSubject, at: number, changes: [AlarmRecord, AlarmChange][]): string | undefined {
    const latest = this.store.latestAlarm(s);
    if (!latest?.active) return latest?.id;
    this.store.updateAlarm(latest.id, { active: false, clearedAt: at });
    changes.push([this.store.getAlarm(latest.id)!, 'cleared']);
    return latest.id;
  }

  /**
   * Tells listeners, once per alarm and batch: its final state, as `raised` when the batch raised
   * it (a backlog of thousands of events after a long link cut makes a few pushes, not thousands).
   */
  private publish(changes: readonly [AlarmRecord, AlarmChange][]): void {
    const last = new Map<string, [AlarmRecord, AlarmChange]>();
    for (const [alarm, change] of changes) last.set(alarm.id, [alarm, last.get(alarm.id)?.[1] === 'raised' ? 'raised' : change]);
    for (const [alarm, change] of last.values()) this.emit('change', alarm, change);
  }
}

function describe(cause: LinkDownCause): string {
  switch (cause) {
    case 'missed_heartbeat':
      return 'the gateway stopped answering (missed heartbeat)';
    case 'flooding':
      return 'the gateway was cut off for flooding its link';
    case 'not_reading':
      return 'the gateway was cut off for not reading its link';
    case 'bad_hello':
      return 'the gateway announced itself with the wrong identity';
    default:
      return 'the gateway’s link closed and did not come back';
  }
}
