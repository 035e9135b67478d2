import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, type FakeGateway, openViewer, until } from '../support/centre-fixture';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** `npm run center -- <args>`: exit code and output lines. */
function center(args: string[]): Promise<{ code: number; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, lines: stdout.trim().split('\n'), stderr });
    });
  });
}

let fx: CentreFixture;
let admin: CentreClient;
let auditor: CentreClient;
let gateway: FakeGateway;
let scratch: string;

/** A copy of the centre's database (consistent: the WAL is checkpointed first), edited by hand with SQLite as an intruder would. */
function tamperedCopy(name: string, sql: string): string {
  const dir = join(scratch, name);
  const probe = new Database(fx.dbFile);
  probe.pragma('wal_checkpoint(TRUNCATE)');
  probe.close();
  rmSync(dir, { recursive: true, force: true });
  const file = join(dir, 'centre.sqlite');
  mkdirSync(dir, { recursive: true });
  copyFileSync(fx.dbFile, file);
  const db = new Database(file);
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  db.exec(sql);
  db.close();
  return dir;
}

beforeAll(async () => {
  fx = await CentreFixture.start();
  scratch = mkdtempSync(join(tmpdir(), 'audit-tamper-'));
  admin = await fx.signIn(ACCOUNTS.admin);
  auditor = await fx.signIn(ACCOUNTS.auditor);
  gateway = await fx.connectGateway(admin, 'gw-sok', 'zs-sokolov', ['vchod']);
  await fx.signIn(ACCOUNTS.operator);
}, 60_000);

afterAll(async () => {
  await fx?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('audit log: verification, export, fail closed', () => {
  it('`center audit verify` prints {"ok":true,"entries":N} as its last line for an untouched log', async () => {
    const n = (await auditor.get<{ ok: boolean; entries: number }>('/api/audit/verify')).body.entries;
    const res = await center(['audit', 'verify', '--data', fx.dir]);
    expect(res.code).toBe(0);
    const last = JSON.parse(res.lines.at(-1)!) as { ok: boolean; entries: number };
    expect(last.ok).toBe(true);
    expect(last.entries).toBeGreaterThanOrEqual(n);
  });

  it('`center audit verify` exits 1 naming the first bad entry when a row was edited, deleted or reordered by hand', async () => {
    const cases: [string, string, number, string][] = [
      ['edited', `UPDATE audit_log SET actor_user = 'someone-else' WHERE seq = 3`, 3, 'hash_mismatch'],
      ['deleted', 'DELETE FROM audit_log WHERE seq = 3', 4, 'sequence_gap'],
      ['reordered', 'UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -3;', 3, 'chain_broken'],
    ];
    for (const [name, sql, seq, problem] of cases) {
      const res = await center(['audit', 'verify', '--data', tamperedCopy(name, sql)]);
      expect({ name, code: res.code }).toEqual({ name, code: 1 });
      expect(JSON.parse(res.lines.at(-1)!)).toMatchObject({ ok: false, firstBad: { seq, problem } });
    }
  });

  it('exports the log as CSV and JSON, to an auditor over the API and from the command line', async () => {
    const csv = await auditor.get<string>('/api/audit/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = csv.body.trim().split('\r\n');
    expect(rows[0]).toBe('seq,at,kind,outcome,actor,role,org,address,cameraId,schoolId,target,detail,prevHash,hash');
    expect(rows[1]).toMatch(/^1,\d{4}-\d\d-\d\dT/);
    const json = await auditor.get<{ entries: { seq: number; hash: string; prevHash: string }[] }>('/api/audit/export?format=json');
    const entries = json.body.entries;
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).toBe(entries[i - 1].hash);
    const cli = await center(['audit', 'export', '--format', 'csv', '--data', fx.dir]);
    expect(cli.code).toBe(0);
    expect(cli.lines[0].replace(/\r$/, '')).toBe(rows[0]);
    // The export itself is on record.
    expect((await auditor.get<{ entries: unknown[] }>('/api/audit?kind=audit.export')).body.entries.length).toBeGreaterThan(0);
  });

  it('fails closed: with the audit table read-only a view does not start, a sign-in is refused, and readiness says why', async () => {
    const operator = await fx.signIn(ACCOUNTS.operator);
    const viewer = await openViewer(fx.url, operator.cookie);
    if (typeof viewer === 'number') throw new Error(`viewer refused ${viewer}`);
    const intruder = new Database(fx.dbFile);
    intruder.exec(`CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit table is read-only'); END;`);
    try {
      const starts = gateway.messages.filter((m) => m.type === 'stream.start').length;
      viewer.ws.send(JSON.stringify({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' }));
      await until(() => viewer.events.some((e) => e.tile === 't1'), 'a reply to the watch');
      expect(viewer.events.find((e) => e.tile === 't1')).toMatchObject({ type: 'error', code: 'AUDIT_UNAVAILABLE' });
      expect(viewer.events.some((e) => e.type === 'offer')).toBe(false);
      expect(gateway.messages.filter((m) => m.type === 'stream.start').length).toBe(starts); // no media was asked for
      expect(fx.centre.liveViews.size).toBe(0);
      const login = await fetch(`${fx.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ACCOUNTS.operator.username, password: ACCOUNTS.operator.password }) });
      expect(login.status).toBe(503);
      expect(await login.json()).toMatchObject({ error: 'AUDIT_UNAVAILABLE' });
      const ready = await fetch(`${fx.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'not_ready', failing: ['audit'] });
    } finally {
      intruder.exec('DROP TRIGGER audit_read_only');
      intruder.close();
      viewer.ws.close();
    }
    expect((await fetch(`${fx.url}/readyz`)).status).toBe(200);
    expect((await auditor.get<{ ok: boolean }>('/api/audit/verify')).body.ok).toBe(true);
  });
});
