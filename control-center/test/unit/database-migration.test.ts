import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/storage/database';
import { CameraStore } from '../../src/storage/camera-store';
import { GatewayStore } from '../../src/storage/gateway-store';
import { verifySecret } from '../../src/auth/secret-hash';
import { GrantStore } from '../../src/grants/grant-store';
import { OrgStore } from '../../src/storage/org-store';

/**
 * Upgrades keep data: a centre database written by an earlier release (kept as files under
 * fixtures/, see its README) is opened with today's code. Whatever the newest migration is, the
 * result must have exactly the schema of a fresh database, and every row the old release stored
 * must still be there: in the table of the same name under the same primary key with the same
 * values, or where CARRIED_OVER says a migration moved it.
 */
const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url));
const releases = readdirSync(FIXTURES)
  .map((f) => /^centre-v(\d+)\.sqlite$/.exec(f))
  .filter((m) => m !== null)
  .map((m) => ({ file: m[0], version: Number(m[1]) }));

type Row = Record<string, unknown>;

/**
 * Where a migration moved the rows of an old table: for a row as release `v<n>` stored it, the
 * row to look up today and the values it must hold. A migration that reshapes a table adds an
 * entry here, under the oldest schema version it applies to (`<version>:<table>`).
 */
const CARRIED_OVER: Record<string, (old: Row) => { table: string; key: Row; expected: Row }> = {
  // v2 keys cameras per gateway: the old id is the camera's local id, its public id is "<gateway>:<id>".
  '1:cameras': ({ id, ...rest }) => ({
    table: 'cameras',
    key: { gateway_id: rest.gateway_id, local_id: id },
    expected: { ...rest, local_id: id, public_id: `${String(rest.gateway_id)}:${String(id)}` },
  }),
};

function schemaOf(db: Db): { userVersion: number; objects: Row[] } {
  const objects = db
    .prepare(`SELECT type, name, tbl_name AS tableName, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
    .all() as { sql: string | null }[];
  return {
    userVersion: db.pragma('user_version', { simple: true }) as number,
    objects: objects.map((o) => ({ ...o, sql: o.sql?.replace(/\s+/g, ' ') ?? null })),
  };
}

/** Every table's rows, as the old release left them. */
function contentsOf(file: string): Map<string, Row[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    return new Map(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all() as Row[]]));
  } finally {
    db.close();
  }
}

/** The schema version today's code creates. */
function newestVersion(): number {
  const db = openDatabase(':memory:');
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/** An old row that no migration moved: same table, same primary key, same values. */
function sameRow(db: Db, table: string, old: Row): { table: string; key: Row; expected: Row } {
  const cols = db.pragma(`table_info("${table}")`) as { name: string; pk: number }[];
  const key = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  if (key.length === 0 || key.some((k) => !(k in old))) {
    throw new Error(`table ${table} is gone or rekeyed since this release: say in CARRIED_OVER where its rows went`);
  }
  return { table, key: Object.fromEntries(key.map((k) => [k, old[k]])), expected: old };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'centre-migration-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('opening a centre database written by an earlier release', () => {
  it('has a database file from every earlier schema to start from', () => {
    expect(releases.map((r) => r.version)).toContain(1);
  });

  for (const release of releases) {
    describe(`schema v${release.version} (${release.file})`, () => {
      let file: string;
      beforeEach(() => {
        file = join(dir, 'centre.sqlite');
        copyFileSync(join(FIXTURES, release.file), file);
      });

      it('really is that release\'s file: its recorded schema version is the one in its name', () => {
        const db = new Database(file, { readonly: true });
        try {
          expect(db.pragma('user_version', { simple: true })).toBe(release.version);
        } finally {
          db.close();
        }
      });

      it('migrates to exactly the schema a fresh database gets, at the newest version', () => {
        const migrated = openDatabase(file);
        const fresh = openDatabase(join(dir, 'fresh.sqlite'));
        try {
          const expected = schemaOf(fresh);
          expect(expected.userVersion).toBe(newestVersion());
          expect(expected.userVersion).toBeGreaterThanOrEqual(release.version);
          expect(schemaOf(migrated)).toEqual(expected);
          expect(migrated.pragma('integrity_check', { simple: true })).toBe('ok');
          expect(migrated.pragma('foreign_key_check')).toEqual([]);
        } finally {
          migrated.close();
          fresh.close();
        }
      });

      it('keeps every row the old release stored, with the values it stored, where it is today', () => {
        const before = contentsOf(file);
        expect([...before.values()].some((rows) => rows.length > 0)).toBe(true);
        const db = openDatabase(file);
        try {
          for (const [table, rows] of before) {
            const moved = CARRIED_OVER[`${release.version}:${table}`];
            for (const old of rows) {
              const { table: where, key, expected } = moved ? moved(old) : sameRow(db, table, old);
              const now = db.prepare(`SELECT * FROM "${where}" WHERE ${Object.keys(key).map((k) => `"${k}" = ?`).join(' AND ')}`).get(...Object.values(key)) as Row | undefined;
              // The values it had keep them; columns added since may hold anything.
              expect({ from: table, row: now && Object.fromEntries(Object.keys(expected).map((c) => [c, now[c]])) }).toEqual({ from: table, row: expected });
            }
          }
        } finally {
          db.close();
        }
      });

      it('opens again without migrating twice', () => {
        openDatabase(file).close();
        const once = contentsOf(file);
        const db = openDatabase(file);
        try {
          expect(db.pragma('user_version', { simple: true })).toBe(newestVersion());
        } finally {
          db.close();
        }
        expect(contentsOf(file)).toEqual(once);
      });
    });
  }

  it('v1: the gateways enrolled before the upgrade still sign in with their secrets, and their cameras are listed under their schools', async () => {
    const file = join(dir, 'centre.sqlite');
    copyFileSync(join(FIXTURES, 'centre-v1.sqlite'), file);
    const db = openDatabase(file);
    try {
      const gateways = new GatewayStore(db);
      expect(gateways.get('gw-sokolov')).toMatchObject({ schoolId: 'zs-sokolov', name: 'ZŠ Sokolov, Pionýrů', revokedAt: null });
      expect(await verifySecret('sokolov-gateway-secret', gateways.secretHashFor('gw-sokolov')!)).toBe(true);
      expect(await verifySecret('cheb-gateway-secret', gateways.secretHashFor('gw-cheb')!)).toBe(true);
      expect(await verifySecret('sokolov-gateway-secret', gateways.secretHashFor('gw-cheb')!)).toBe(false);
      const cameras = new CameraStore(db).list().map((c) => ({ id: c.id, schoolId: c.schoolId, name: c.name, state: c.state, width: c.width }));
      expect(cameras.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: 'gw-cheb:cheb-telocvicna', schoolId: 'gym-cheb', name: 'Tělocvična', state: 'offline', width: 640 },
        { id: 'gw-sokolov:sokolov-jidelna', schoolId: 'zs-sokolov', name: 'Jídelna', state: 'idle', width: null },
        { id: 'gw-sokolov:sokolov-vchod', schoolId: 'zs-sokolov', name: 'Vchod', state: 'streaming', width: 1280 },
      ]);
    } finally {
      db.close();
    }
  });

  it('v4 (grants): the grants keep their state, cameras and case references, and the dashboard\'s tables (v5) start empty beside them', () => {
    const file = join(dir, 'centre.sqlite');
    copyFileSync(join(FIXTURES, 'centre-v4.sqlite'), file);
    const db = openDatabase(file);
    try {
      const grants = new GrantStore(db);
      expect(grants.get('00000000-0000-4000-8000-000000000001')).toMatchObject({ state: 'revoked', forceId: 'mp-sokolov', cameraIds: ['gw-zs-sokolov:vchod'], caseRef: 'MP-SO-2026/1', endedBy: 'operator' });
      expect(grants.get('00000000-0000-4000-8000-000000000002')).toMatchObject({ state: 'expired', emergency: true, wholeSchoolId: 'zs-sokolov', caseRef: 'EMERGENCY-zs-sokolov' });
      // v5: towns have no map position until an admin gives one; nobody has preferences or saved views yet.
      expect(new OrgStore(db).get('sokolov')).toEqual({ id: 'sokolov', kind: 'town', name: 'Sokolov', parentId: 'kvk', lat: null, lon: null });
      expect(db.prepare('SELECT COUNT(*) FROM user_prefs').pluck().get()).toBe(0);
      expect(db.prepare('SELECT COUNT(*) FROM saved_views').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});
