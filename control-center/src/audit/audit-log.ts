import { createHash } from 'node:crypto';
import type { Role } from '../access/principal';
import { AppError } from '../errors';
import type { Db } from '../storage/database';

/** What happened. Extend by appending: kinds are stored as text and hashed. */
export type AuditKind =
  | 'login'
  | 'logout'
  | 'view.start'
  | 'view.stop'
  | 'access.refused'
  | 'user.create'
  | 'user.update'
  | 'org.create'
  | 'org.update'
  | 'gateway.create'
  | 'gateway.enrol'
  | 'gateway.revoke'
  | 'audit.export'
  | 'alarm.ack'
  | 'camera.discover'
  | 'camera.check'
  | 'camera.register'
  | 'camera.update'
  | 'camera.unregister'
  | 'camera.snapshot'
  /** Grants (see grants/): every event carries the case reference in `detail.caseRef`. */
  | 'grant.create'
  | 'grant.request'
  | 'grant.approve'
  | 'grant.use'
  | 'grant.expire'
  | 'grant.revoke'
  | 'grant.emergency'
  | 'grant.extend';

export type AuditOutcome = 'ok' | 'refused' | 'failed';

/** Who did it: an account, or nobody known (a failed login names the attempted user in `target`). */
export interface AuditActor {
  username: string;
  role: Role;
  orgId: string;
}

export interface AuditInput {
  kind: AuditKind;
  outcome: AuditOutcome;
  actor?: AuditActor | null;
  /** Where from: the client's address. */
  address?: string | null;
  cameraId?: string | null;
  schoolId?: string | null;
  /** What was acted on (a user name, a gateway id, an organisation id…). */
  target?: string | null;
  /** Structured details (cause, duration, fields changed…). Never secrets. */
  detail?: Record<string, unknown>;
}

export interface AuditFilter {
  kind?: string;
  actor?: string;
  cameraId?: string;
  schoolId?: string;
  /** Inclusive, ms since the epoch. */
  from?: number;
  /** Exclusive. */
  to?: number;
  /** Entries with a smaller sequence number only (paging backwards). */
  beforeSeq?: number;
  limit?: number;
}

export type VerifyProblem = 'hash_mismatch' | 'chain_broken' | 'sequence_gap';
export type VerifyResult = { ok: true; entries: number } | { ok: false; entries: number; firstBad: { seq: number; problem: VerifyProblem } };

/** The previous-hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** An entry as stored (column aliases). */
export interface Row {
  seq: number;
  at: number;
  kind: string;
  outcome: string;
  actor: string | null;
  role: string | null;
  org: string | null;
  address: string | null;
  cameraId: string | null;
  schoolId: string | null;
  target: string | null;
  detail: string;
  prevHash: string;
  hash: string;
}

/** An entry as read: the stored row with its details parsed. */
export type AuditRecord = Omit<Row, 'detail'> & { detail: Record<string, unknown> };

const SELECT = `SELECT seq, at, kind, outcome, actor_user AS actor, actor_role AS role, actor_org AS org, address,
  camera_id AS cameraId, school_id AS schoolId, target, detail, prev_hash AS prevHash, hash FROM audit_log`;

/**
 * The content an entry's hash covers, in a fixed order: every column but the hash itself.
 * `prev_hash` is part of it, so each entry seals the one before.
 */
export function entryHash(r: Omit<Row, 'hash'>): string {
  const canonical = JSON.stringify([r.seq, r.at, r.kind, r.outcome, r.actor, r.role, r.org, r.address, r.cameraId, r.schoolId, r.target, r.detail, r.prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Owns the `audit_log` table: append-only and hash-chained. SQLite triggers refuse UPDATE and
 * DELETE (re-created at every start if someone dropped them); the chain catches what a person
 * with the file in hand changes anyway (an edited, deleted or reordered entry). Appending
 * throws `AUDIT_UNAVAILABLE` when the entry cannot be written, so callers that must fail
 * closed (a view start) can.
 */
export class AuditLog {
  private readonly failureListeners: ((err: Error) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
    opts: { readOnly?: boolean } = {},
  ) {
    if (!opts.readOnly) {
      db.exec(`CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
                 BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
               CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
                 BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`);
    }
  }

  /** Called with every write failure (metrics, alerts). */
  onWriteFailure(listener: (err: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Appends an entry and returns it. Throws `AppError('AUDIT_UNAVAILABLE')` when it cannot be
   * written: nothing that must be audited may go ahead then.
   */
  append(input: AuditInput): AuditRecord {
    try {
      return this.db.transaction(() => {
        const last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
        const row: Omit<Row, 'hash'> = {
          seq: (last?.seq ?? 0) + 1,
          at: this.now(),
          kind: input.kind,
          outcome: input.outcome,
          actor: input.actor?.username ?? null,
          role: input.actor?.role ?? null,
          org: input.actor?.orgId ?? null,
          address: input.address ?? null,
          cameraId: input.cameraId ?? null,
          schoolId: input.schoolId ?? null,
          target: input.target ?? null,
          detail: JSON.stringify(input.detail ?? {}),
          prevHash: last?.hash ?? GENESIS_HASH,
        };
        const hash = entryHash(row);
        this.db
          .prepare(
            `INSERT INTO audit_log (seq, at, kind, outcome, actor_user, actor_role, actor_org, address, camera_id, school_id, target, detail, prev_hash, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(row.seq, row.at, row.kind, row.outcome, row.actor, row.role, row.org, row.address, row.cameraId, row.schoolId, row.target, row.detail, row.prevHash, hash);
        return toRecord({ ...row, hash });
      }).immediate();
    } catch (err) {
      for (const l of this.failureListeners) l(err as Error);
      throw new AppError('AUDIT_UNAVAILABLE', 'the audit log cannot be written; refusing what would go unrecorded', 503);
    }
  }

  /** Appends, and on failure only reports it (for records of things that already happened, like a view's end). */
  record(input: AuditInput): boolean {
    try {
      this.append(input);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether an entry could be written now (readiness): a probe insert, rolled back. */
  writable(): boolean {
    try {
      this.db.transaction(() => {
        this.db
          .prepare(`INSERT INTO audit_log (seq, at, kind, outcome, detail, prev_hash, hash) VALUES (-1, 0, 'probe', 'ok', '{}', '', '')`)
          .run();
        throw new RollbackProbe();
      })();
    } catch (err) {
      return err instanceof RollbackProbe;
    }
    return false;
  }

  /** Entries matching a filter, newest first. */
  list(filter: AuditFilter = {}): AuditRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown): void => {
      where.push(clause);
      args.push(value);
    };
    if (filter.kind !== undefined) add('kind = ?', filter.kind);
    if (filter.actor !== undefined) add('actor_user = ?', filter.actor);
    if (filter.cameraId !== undefined) add('camera_id = ?', filter.cameraId);
    if (filter.schoolId !== undefined) add('school_id = ?', filter.schoolId);
    if (filter.from !== undefined) add('at >= ?', filter.from);
    if (filter.to !== undefined) add('at < ?', filter.to);
    if (filter.beforeSeq !== undefined) add('seq < ?', filter.beforeSeq);
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    args.push(Math.min(Math.max(filter.limit ?? 100, 1), 10_000));
    return (this.db.prepare(sql).all(...args) as Row[]).map(toRecord);
  }

  /**
   * Every entry, oldest first (export). Read a page at a time, each page in one synchronous
   * query: a statement left open across event-loop turns would block the connection for
   * every other request.
   */
  *all(pageSize = 1000): Generator<AuditRecord> {
    const page = this.db.prepare(`${SELECT} WHERE seq > ? ORDER BY seq LIMIT ?`);
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = page.all(after, pageSize) as Row[];
      for (const row of rows) yield toRecord(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1].seq;
    }
  }

  /**
   * Walks the chain from the first entry: sequence numbers 1, 2, 3… with no gap, each entry's
   * previous-hash equal to the hash before it, each hash equal to its recomputed content.
   */
  verify(): VerifyResult {
    let expectedSeq = 1;
    let prev = GENESIS_HASH;
    let entries = 0;
    for (const row of this.db.prepare(`${SELECT} ORDER BY seq`).iterate() as Iterable<Row>) {
      const bad = (problem: VerifyProblem): VerifyResult => ({ ok: false, entries, firstBad: { seq: row.seq, problem } });
      if (row.seq !== expectedSeq) return bad('sequence_gap');
      if (row.prevHash !== prev) return bad('chain_broken');
      const { hash, ...content } = row;
      if (entryHash(content) !== hash) return bad('hash_mismatch');
      prev = hash;
      expectedSeq++;
      entries++;
    }
    return { ok: true, entries };
  }
}

class RollbackProbe extends Error {}

function toRecord(r: Row): AuditRecord {
  let detail: Record<string, unknown>;
  try {
    detail = JSON.parse(r.detail) as Record<string, unknown>;
  } catch {
    detail = { unparsable: r.detail };
  }
  return { ...r, detail };
}

const CSV_COLUMNS = ['seq', 'at', 'kind', 'outcome', 'actor', 'role', 'org', 'address', 'cameraId', 'schoolId', 'target', 'detail', 'prevHash', 'hash'] as const;

/** CSV header line. */
export const auditCsvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

/**
 * One CSV line (RFC 4180). `at` is ISO 8601 UTC. A cell that a spreadsheet would run as a
 * formula (starting with = + - @ or a tab) gets a leading apostrophe: names come from
 * gateways and users. The JSON export carries the exact stored values.
 */
export function auditCsvLine(r: AuditRecord): string {
  const cells = CSV_COLUMNS.map((c) => {
    if (c === 'at') return new Date(r.at).toISOString();
    if (c === 'detail') return JSON.stringify(r.detail);
    const v = r[c];
    return v === null ? '' : String(v);
  });
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
