import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from '../../src/auth/secret-hash';
import { SCHEMA_VERSION, openDatabase } from '../../src/storage/database';
import { CameraStore } from '../../src/storage/camera-store';
import { GatewayStore } from '../../src/storage/gateway-store';
import { OrgStore } from '../../src/storage/org-store';
import { GrantStore } from '../../src/grants/grant-store';

/** The first release's schema, exactly as it shipped (user_version 1). */
const V1 = `CREATE TABLE gateways (id TEXT PRIMARY KEY, school_id TEXT NOT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER);
  CREATE TABLE cameras (id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL REFERENCES gateways(id) ON DELETE CASCADE, name TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT, width INTEGER, height INTEGER, updated_at INTEGER NOT NULL);
  CREATE INDEX cameras_gateway ON cameras(gateway_id);
  PRAGMA user_version = 1;`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('database migrations', () => {
  it('carries a first-release database forward: gateways keep working, cameras get gateway-scoped ids, schools become organisations', async () => {
    dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    const file = join(dir, 'centre.sqlite');
    const v1 = new Database(file);
    v1.exec(V1);
    const hash = await hashSecret('the-old-bootstrap-secret');
    v1.prepare('INSERT INTO gateways VALUES (?, ?, ?, ?, ?, ?)').run('gw-sokolov', 'zs-sokolov', 'Sokolov', hash, 1000, 2000);
    v1.prepare('INSERT INTO cameras VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run('cam-1', 'gw-sokolov', 'Vchod', 'idle', null, 640, 360, 3000);
    v1.close();

    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(new OrgStore(db).get('zs-sokolov')).toEqual({ id: 'zs-sokolov', kind: 'school', name: 'zs-sokolov', parentId: null, lat: null, lon: null });
    const gateways = new GatewayStore(db);
    expect(gateways.get('gw-sokolov')).toMatchObject({ schoolId: 'zs-sokolov', enrolledAt: 1000, revokedAt: null, lastSeenAt: 2000 });
    expect(await verifySecret('the-old-bootstrap-secret', gateways.secretHashFor('gw-sokolov')!)).toBe(true);
    expect(new CameraStore(db).get('gw-sokolov:cam-1')).toMatchObject({ localId: 'cam-1', gatewayId: 'gw-sokolov', schoolId: 'zs-sokolov', name: 'Vchod', width: 640 });
    // v4 (grants) and v5 (the dashboard) came after: their tables are there, empty, and usable.
    expect(new GrantStore(db).inState('active')).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) FROM user_prefs').pluck().get()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM saved_views').pluck().get()).toBe(0);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
    // Opening again migrates nothing twice.
    openDatabase(file).close();
  });

  it('refuses a database written by a newer build', () => {
    dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    const file = join(dir, 'centre.sqlite');
    const future = new Database(file);
    future.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    future.close();
    expect(() => openDatabase(file)).toThrow(/newer than this build/);
  });
});
