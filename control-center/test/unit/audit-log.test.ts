import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type Row, auditCsvLine, entryHash } from '../../src/audit/audit-log';
import { type Db, openDatabase } from '../../src/storage/database';

let db: Db;
let log: AuditLog;
const actor = { username: 'operator', role: 'operator' as const, orgId: 'kvk' };

/** What a person with the file and the sqlite3 shell can do: drop the guards, then edit. */
function tamper(sql: string): void {
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  db.exec(sql);
}

beforeEach(() => {
  db = openDatabase(':memory:');
  let t = 1_700_000_000_000;
  log = new AuditLog(db, () => (t += 1000));
  for (let i = 0; i < 5; i++) log.append({ kind: 'view.start', outcome: 'ok', actor, address: '10.0.0.1', cameraId: `gw-1:cam-${i}`, schoolId: 'zs-sokolov' });
});

describe('audit log', () => {
  it('chains each entry to the one before and verifies', () => {
    const all = [...log.all()];
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < all.length; i++) expect(all[i].prevHash).toBe(all[i - 1].hash);
    expect(log.verify()).toEqual({ ok: true, entries: 5 });
  });

  it('refuses UPDATE and DELETE through SQLite itself', () => {
    expect(() => db.exec(`UPDATE audit_log SET actor_user = 'someone' WHERE seq = 2`)).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM audit_log WHERE seq = 2')).toThrow(/append-only/);
    expect(log.verify().ok).toBe(true);
  });

  it('catches an edited entry', () => {
    tamper(`UPDATE audit_log SET camera_id = 'gw-1:cam-other' WHERE seq = 3`);
    expect(log.verify()).toEqual({ ok: false, entries: 2, firstBad: { seq: 3, problem: 'hash_mismatch' } });
  });

  it('catches an edited entry whose own hash the editor recomputed: the next entry no longer chains to it', () => {
    const third = db.prepare(`SELECT seq, at, kind, outcome, actor_user AS actor, actor_role AS role, actor_org AS org, address, camera_id AS cameraId,
      school_id AS schoolId, target, detail, prev_hash AS prevHash FROM audit_log WHERE seq = 3`).get() as Omit<Row, 'hash'>;
    const edited = { ...third, cameraId: 'gw-1:cam-other' };
    tamper(`UPDATE audit_log SET camera_id = 'gw-1:cam-other', hash = '${entryHash(edited)}' WHERE seq = 3`);
    expect(log.verify()).toEqual({ ok: false, entries: 3, firstBad: { seq: 4, problem: 'chain_broken' } });
  });

  it('catches a deleted entry', () => {
    tamper('DELETE FROM audit_log WHERE seq = 2');
    expect(log.verify()).toEqual({ ok: false, entries: 1, firstBad: { seq: 3, problem: 'sequence_gap' } });
  });

  it('catches reordered entries', () => {
    tamper('UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 100;');
    expect(log.verify()).toEqual({ ok: false, entries: 1, firstBad: { seq: 2, problem: 'chain_broken' } });
  });

  it('recreates the append-only guards when the log is opened again', () => {
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    new AuditLog(db);
    expect(() => db.exec('DELETE FROM audit_log WHERE seq = 5')).toThrow(/append-only/);
  });

  it('throws AUDIT_UNAVAILABLE and reports the failure when an entry cannot be written, and says so when probed', () => {
    const failures: string[] = [];
    log.onWriteFailure((e) => failures.push(e.message));
    expect(log.writable()).toBe(true);
    db.exec(`CREATE TRIGGER audit_log_read_only BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'read-only'); END;`);
    expect(log.writable()).toBe(false);
    expect(() => log.append({ kind: 'login', outcome: 'ok', actor })).toThrow(expect.objectContaining({ code: 'AUDIT_UNAVAILABLE', status: 503 }));
    expect(log.record({ kind: 'logout', outcome: 'ok', actor })).toBe(false);
    expect(failures).toHaveLength(2);
    expect(log.verify()).toEqual({ ok: true, entries: 5 }); // nothing half-written
  });

  it('filters newest first and pages backwards', () => {
    log.append({ kind: 'login', outcome: 'refused', target: 'mallory', detail: { reason: 'bad_password' } });
    expect(log.list({ kind: 'login' }).map((e) => e.target)).toEqual(['mallory']);
    expect(log.list({ limit: 2 }).map((e) => e.seq)).toEqual([6, 5]);
    expect(log.list({ beforeSeq: 3 }).map((e) => e.seq)).toEqual([2, 1]);
    expect(log.list({ cameraId: "gw-1:cam-1' OR 1=1--" })).toEqual([]);
  });

  it('writes CSV that a spreadsheet will not run as a formula', () => {
    const e = log.append({ kind: 'access.refused', outcome: 'refused', target: '=HYPERLINK("http://x","y")', detail: { note: 'a,b' } });
    const line = auditCsvLine(e);
    expect(line).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(line.endsWith('\r\n')).toBe(true);
  });
});
