import type { Db } from './database';

/** What an alarm is about. `gateway_offline` comes from the link, the rest from gateway events. */
export const ALARM_KINDS = ['motion', 'tamper', 'camera_offline', 'gateway_offline'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

/** An event as the centre stored it (a gateway's `GatewayEvent` with the public camera id and the receipt time). */
export interface StoredEvent {
  id: string;
  gatewayId: string;
  seq: number;
  /** Public id, `<gatewayId>:<localId>`. */
  cameraId: string;
  schoolId: string;
  kind: string;
  active: boolean | null;
  /** When the gateway observed it. */
  at: number;
  cameraTime: string | null;
  reason: string | null;
  /** When the centre stored it. */
  receivedAt: number;
  alarmId: string | null;
}

export interface AlarmRecord {
  id: string;
  kind: AlarmKind;
  gatewayId: string;
  /** Public camera id; null for `gateway_offline`. */
  cameraId: string | null;
  schoolId: string;
  /** When what raised it happened (the gateway's time of the first event, or when the link went). */
  raisedAt: number;
  /** When the centre learnt of it. */
  receivedAt: number;
  /** When it last happened again (a new motion start on the same open alarm). */
  lastAt: number;
  /** How many times it happened while this alarm was open. */
  occurrences: number;
  /** Whether the condition still holds (motion still on, camera still offline). */
  active: boolean;
  clearedAt: number | null;
  reason: string | null;
  ackedBy: string | null;
  ackedAt: number | null;
  ackNote: string | null;
}

/** Which alarms to list. Scope is applied here (in SQL) and again by the access policy. */
export interface AlarmQuery {
  /** Only unacknowledged alarms. */
  open?: boolean;
  /** Whole region, or only these schools and cameras. */
  scope: { region: boolean; schoolIds: readonly string[]; cameraIds: readonly string[] };
  kind?: AlarmKind;
  schoolId?: string;
  cameraId?: string;
  /** Alarms raised strictly before this time (paging backwards). */
  before?: number;
  limit: number;
}

/** The subject an alarm is kept per: one camera, or (for `gateway_offline`) one gateway. */
export interface AlarmSubject {
  gatewayId: string;
  cameraId: string | null;
  kind: AlarmKind;
}

/** What the alarm logic needs of storage; {@link AlarmStore} implements it on SQLite, tests with a plain fake. */
export interface AlarmStorePort {
  /** Runs `fn` atomically (all or nothing). */
  transaction<T>(fn: () => T): T;
  /** Stores an event unless its id is already stored; true when stored now. */
  insertEvent(e: StoredEvent): boolean;
  /** The highest seq stored for a gateway (0 when none). */
  lastSeq(gatewayId: string): number;
  linkEvent(eventId: string, alarmId: string): void;
  /** The unacknowledged alarm of a subject, if any. */
  openAlarm(s: AlarmSubject): AlarmRecord | undefined;
  /** The most recent alarm of a subject, acknowledged or not. */
  latestAlarm(s: AlarmSubject): AlarmRecord | undefined;
  createAlarm(a: AlarmRecord): void;
  updateAlarm(id: string, fields: Partial<Pick<AlarmRecord, 'lastAt' | 'occurrences' | 'active' | 'clearedAt' | 'reason'>>): void;
  /** Acknowledges an open alarm; false when it is unknown or already acknowledged. */
  ack(id: string, by: string, at: number, note: string | null): boolean;
  getAlarm(id: string): AlarmRecord | undefined;
}

const ALARM_SELECT = `SELECT id, kind, gateway_id AS gatewayId, camera_id AS cameraId, school_id AS schoolId, raised_at AS raisedAt,
  received_at AS receivedAt, last_at AS lastAt, occurrences, active, cleared_at AS clearedAt, reason, acked_by AS ackedBy,
  acked_at AS ackedAt, ack_note AS ackNote FROM alarms`;
const EVENT_SELECT = `SELECT id, gateway_id AS gatewayId, seq, camera_id AS cameraId, school_id AS schoolId, kind, active, at,
  camera_time AS cameraTime, reason, received_at AS receivedAt, alarm_id AS alarmId FROM gateway_events`;

type AlarmRow = Omit<AlarmRecord, 'active'> & { active: number };
type EventRow = Omit<StoredEvent, 'active'> & { active: number | null };

const toAlarm = (r: AlarmRow): AlarmRecord => ({ ...r, active: r.active === 1 });
const toEvent = (r: EventRow): StoredEvent => ({ ...r, active: r.active === null ? null : r.active === 1 });

/** Owns the `gateway_events` and `alarms` tables. */
export class AlarmStore implements AlarmStorePort {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertEvent(e: StoredEvent): boolean {
    const r = this.db
      .prepare(
        `INSERT INTO gateway_events (id, gateway_id, seq, camera_id, school_id, kind, active, at, camera_time, reason, received_at, alarm_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
      )
      .run(e.id, e.gatewayId, e.seq, e.cameraId, e.schoolId, e.kind, e.active === null ? null : e.active ? 1 : 0, e.at, e.cameraTime, e.reason, e.receivedAt, e.alarmId);
    return r.changes > 0;
  }

  lastSeq(gatewayId: string): number {
    const row = this.db.prepare('SELECT MAX(seq) AS seq FROM gateway_events WHERE gateway_id = ?').get(gatewayId) as { seq: number | null };
    return row.seq ?? 0;
  }

  linkEvent(eventId: string, alarmId: string): void {
    this.db.prepare('UPDATE gateway_events SET alarm_id = ? WHERE id = ?').run(alarmId, eventId);
  }

  openAlarm(s: AlarmSubject): AlarmRecord | undefined {
    return this.subjectAlarm(s, true);
  }

  latestAlarm(s: AlarmSubject): AlarmRecord | undefined {
    return this.subjectAlarm(s, false);
  }

  createAlarm(a: AlarmRecord): void {
    this.db
      .prepare(
        `INSERT INTO alarms (id, kind, gateway_id, camera_id, school_id, raised_at, received_at, last_at, occurrences, active, cleared_at, reason, acked_by, acked_at, ack_note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.id, a.kind, a.gatewayId, a.cameraId, a.schoolId, a.raisedAt, a.receivedAt, a.lastAt, a.occurrences, a.active ? 1 : 0, a.clearedAt, a.reason, a.ackedBy, a.ackedAt, a.ackNote);
  }

  updateAlarm(id: string, fields: Partial<Pick<AlarmRecord, 'lastAt' | 'occurrences' | 'active' | 'clearedAt' | 'reason'>>): void {
    const columns = { lastAt: 'last_at', occurrences: 'occurrences', active: 'active', clearedAt: 'cleared_at', reason: 'reason' } as const;
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [key, column] of Object.entries(columns) as [keyof typeof columns, string][]) {
      if (!(key in fields)) continue;
      const v = fields[key];
      sets.push(`${column} = ?`);
      args.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    }
    if (sets.length > 0) this.db.prepare(`UPDATE alarms SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
  }

  ack(id: string, by: string, at: number, note: string | null): boolean {
    return this.db.prepare('UPDATE alarms SET acked_by = ?, acked_at = ?, ack_note = ? WHERE id = ? AND acked_at IS NULL').run(by, at, note, id).changes > 0;
  }

  getAlarm(id: string): AlarmRecord | undefined {
    const row = this.db.prepare(`${ALARM_SELECT} WHERE id = ?`).get(id) as AlarmRow | undefined;
    return row && toAlarm(row);
  }

  /** Alarms newest first (by the time they were raised). */
  list(q: AlarmQuery): AlarmRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (!q.scope.region) {
      const schools = q.scope.schoolIds;
      const cams = q.scope.cameraIds;
      if (schools.length === 0 && cams.length === 0) return [];
      const parts = [];
      if (schools.length > 0) parts.push(`school_id IN (${schools.map(() => '?').join(', ')})`);
      if (cams.length > 0) parts.push(`camera_id IN (${cams.map(() => '?').join(', ')})`);
      where.push(`(${parts.join(' OR ')})`);
      args.push(...schools, ...cams);
    }
    if (q.open) where.push('acked_at IS NULL');
    if (q.kind !== undefined) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    if (q.schoolId !== undefined) {
      where.push('school_id = ?');
      args.push(q.schoolId);
    }
    if (q.cameraId !== undefined) {
      where.push('camera_id = ?');
      args.push(q.cameraId);
    }
    if (q.before !== undefined) {
      where.push('raised_at < ?');
      args.push(q.before);
    }
    const sql = `${ALARM_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as AlarmRow[]).map(toAlarm);
  }

  /** The events that made an alarm, in the gateway's order. */
  eventsOf(alarmId: string, limit = 1000): StoredEvent[] {
    return (this.db.prepare(`${EVENT_SELECT} WHERE alarm_id = ? ORDER BY gateway_id, seq LIMIT ?`).all(alarmId, limit) as EventRow[]).map(toEvent);
  }

  private subjectAlarm(s: AlarmSubject, openOnly: boolean): AlarmRecord | undefined {
    const row = this.db
      .prepare(`${ALARM_SELECT} WHERE gateway_id = ? AND camera_id IS ? AND kind = ?${openOnly ? ' AND acked_at IS NULL' : ''} ORDER BY rowid DESC LIMIT 1`)
      .get(s.gatewayId, s.cameraId, s.kind) as AlarmRow | undefined;
    return row && toAlarm(row);
  }
}
