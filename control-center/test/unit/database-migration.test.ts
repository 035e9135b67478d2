import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/storage/database';
import { CameraStore } from '../../src/storage/camera-store';
import { GatewayStore } from '../../src/storage/gateway-store';

/**
 * Upgrades keep data: a centre database written by an earlier release (kept as files under
 * fixtures/, see its README) is opened with today's code. Whatever the newest migration is, the
 * result must have exactly the schema of a fresh database, and every row the old release stored
 * must still be there. A migration that moves or reshapes rows says here where they went.
 */
const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url));
const releases = readdirSync(FIXTURES)
  .map((f) => /^centre-v(\d+)\.sqlite$/.exec(f))
  .filter((m) => m !== null)
  .map((m) => ({ file: m[0], version: Number(m[1]) }));

type Row = Record<string, unknown>;

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

function primaryKeyOf(db: Db, table: string): string[] {
  const cols = db.pragma(`table_info("${table}")`) as { name: string; pk: number }[];
  return cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
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

      it('keeps every row the old release stored, with the values it stored', () => {
        const before = contentsOf(file);
        expect([...before.values()].some((rows) => rows.length > 0)).toBe(true);
        const db = openDatabase(file);
        try {
          for (const [table, rows] of before) {
            const key = primaryKeyOf(db, table);
            expect({ table, primaryKey: key.length > 0 }).toEqual({ table, primaryKey: true });
            const find = db.prepare(`SELECT * FROM "${table}" WHERE ${key.map((k) => `"${k}" = ?`).join(' AND ')}`);
            for (const old of rows) {
              const now = find.get(...key.map((k) => old[k])) as Row | undefined;
              // The old columns keep their values; columns added since may hold anything.
              expect({ table, row: now && Object.fromEntries(Object.keys(old).map((c) => [c, now[c]])) }).toEqual({ table, row: old });
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
      expect(await gateways.authenticate('gw-sokolov', 'sokolov-gateway-secret')).toMatchObject({ id: 'gw-sokolov', schoolId: 'zs-sokolov', name: 'ZŠ Sokolov, Pionýrů' });
      expect(await gateways.authenticate('gw-cheb', 'cheb-gateway-secret')).toMatchObject({ id: 'gw-cheb', schoolId: 'gym-cheb' });
      expect(await gateways.authenticate('gw-cheb', 'sokolov-gateway-secret')).toBeUndefined();
      const cameras = new CameraStore(db).list().map((c) => ({ id: c.id, schoolId: c.schoolId, name: c.name, state: c.state, width: c.width }));
      expect(cameras).toEqual([
        { id: 'cheb-telocvicna', schoolId: 'gym-cheb', name: 'Tělocvična', state: 'offline', width: 640 },
        { id: 'sokolov-jidelna', schoolId: 'zs-sokolov', name: 'Jídelna', state: 'idle', width: null },
        { id: 'sokolov-vchod', schoolId: 'zs-sokolov', name: 'Vchod', state: 'streaming', width: 1280 },
      ]);
    } finally {
      db.close();
    }
  });
});
