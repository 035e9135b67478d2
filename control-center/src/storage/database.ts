import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order, each once (tracked by `PRAGMA user_version`).
 * Append only: never edit a migration that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  // v1 (first release): gateways with bootstrap secrets, cameras keyed by the gateway's own id.
  `CREATE TABLE gateways (
     id TEXT PRIMARY KEY,
     school_id TEXT NOT NULL,
     name TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER
   );
   CREATE TABLE cameras (
     id TEXT PRIMARY KEY,
     gateway_id TEXT NOT NULL REFERENCES gateways(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     reason TEXT,
     width INTEGER,
     height INTEGER,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX cameras_gateway ON cameras(gateway_id);`,

  // v2: organisations, accounts, sessions, login lockout, the audit log; gateways gain
  // enrolment and revocation; cameras are keyed per gateway (public id "<gateway>:<local id>").
  // Carried over from v1: every gateway (its secret keeps working; it counts as enrolled),
  // every camera (under its gateway-scoped id), and each school a gateway named, as a school
  // organisation not yet placed in a town.
  `CREATE TABLE orgs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('region', 'town', 'school', 'police')),
     name TEXT NOT NULL,
     parent_id TEXT REFERENCES orgs(id),
     created_at INTEGER NOT NULL
   );
   INSERT INTO orgs (id, kind, name, parent_id, created_at)
     SELECT school_id, 'school', school_id, NULL, MIN(created_at) FROM gateways GROUP BY school_id;

   CREATE TABLE gateways_v2 (
     id TEXT PRIMARY KEY,
     school_id TEXT NOT NULL REFERENCES orgs(id),
     name TEXT NOT NULL,
     secret_hash TEXT,
     enrolment_hash TEXT UNIQUE,
     enrolment_expires_at INTEGER,
     enrolled_at INTEGER,
     revoked_at INTEGER,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER
   );
   INSERT INTO gateways_v2 (id, school_id, name, secret_hash, enrolled_at, created_at, last_seen_at)
     SELECT id, school_id, name, secret_hash, created_at, created_at, last_seen_at FROM gateways;

   CREATE TABLE cameras_v2 (
     gateway_id TEXT NOT NULL REFERENCES gateways_v2(id) ON DELETE CASCADE,
     local_id TEXT NOT NULL,
     public_id TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     reason TEXT,
     width INTEGER,
     height INTEGER,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (gateway_id, local_id)
   );
   INSERT INTO cameras_v2 (gateway_id, local_id, public_id, name, state, reason, width, height, updated_at)
     SELECT gateway_id, id, gateway_id || ':' || id, name, state, reason, width, height, updated_at FROM cameras;
   DROP TABLE cameras;
   DROP TABLE gateways;
   ALTER TABLE gateways_v2 RENAME TO gateways;
   ALTER TABLE cameras_v2 RENAME TO cameras;
   CREATE INDEX gateways_school ON gateways(school_id);

   CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE COLLATE NOCASE,
     password_hash TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'police', 'school_it', 'auditor')),
     org_id TEXT NOT NULL REFERENCES orgs(id),
     totp_secret TEXT,
     totp_last_step INTEGER,
     disabled_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );

   CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     csrf_token TEXT NOT NULL,
     address TEXT,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_user ON sessions(user_id);

   CREATE TABLE login_failures (
     username TEXT PRIMARY KEY,
     failures INTEGER NOT NULL,
     window_start INTEGER NOT NULL,
     locked_until INTEGER
   );

   CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     outcome TEXT NOT NULL,
     actor_user TEXT,
     actor_role TEXT,
     actor_org TEXT,
     address TEXT,
     camera_id TEXT,
     school_id TEXT,
     target TEXT,
     detail TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX audit_at ON audit_log(at);`,
  // v3: events and alarms; what the centre records of each registered camera. Every event a
  // gateway delivered, stored once by its id and ordered per gateway by its seq; alarms made
  // from them (and from gateway links going away); each camera's purpose, legal basis and
  // retention (camera passwords are never stored here: they live on the school's gateway).
  `CREATE TABLE gateway_events (
     id TEXT PRIMARY KEY,
     gateway_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     camera_id TEXT NOT NULL,
     school_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     active INTEGER,
     at INTEGER NOT NULL,
     camera_time TEXT,
     reason TEXT,
     received_at INTEGER NOT NULL,
     alarm_id TEXT
   );
   CREATE INDEX gateway_events_order ON gateway_events(gateway_id, seq);
   CREATE INDEX gateway_events_alarm ON gateway_events(alarm_id);

   CREATE TABLE alarms (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('motion', 'tamper', 'camera_offline', 'gateway_offline')),
     gateway_id TEXT NOT NULL,
     camera_id TEXT,
     school_id TEXT NOT NULL,
     raised_at INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     occurrences INTEGER NOT NULL,
     active INTEGER NOT NULL,
     cleared_at INTEGER,
     reason TEXT,
     acked_by TEXT,
     acked_at INTEGER,
     ack_note TEXT
   );
   CREATE INDEX alarms_raised ON alarms(raised_at);
   CREATE INDEX alarms_subject ON alarms(gateway_id, camera_id, kind, raised_at);
   CREATE INDEX alarms_school ON alarms(school_id, raised_at);

   CREATE TABLE camera_registrations (
     gateway_id TEXT NOT NULL,
     local_id TEXT NOT NULL,
     public_id TEXT NOT NULL UNIQUE,
     school_id TEXT NOT NULL,
     purpose TEXT NOT NULL,
     legal_basis TEXT NOT NULL,
     retention_hours INTEGER NOT NULL,
     schedule TEXT,
     source TEXT,
     registered_by TEXT NOT NULL,
     registered_at INTEGER NOT NULL,
     updated_by TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (gateway_id, local_id)
   );`,
  // v4: grants — a police force's time-limited access to cameras (grants/grant-store.ts owns it).
  // `camera_ids` and `school_ids` are JSON arrays: the cameras named (empty for a whole school)
  // and the schools the grant touches. Only the RTSP Digest HA1 is kept, never the password.
  `CREATE TABLE grants (
     id TEXT PRIMARY KEY,
     force_id TEXT NOT NULL REFERENCES orgs(id),
     whole_school_id TEXT REFERENCES orgs(id),
     camera_ids TEXT NOT NULL,
     school_ids TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('requested', 'pending', 'active', 'expired', 'revoked')),
     emergency INTEGER NOT NULL DEFAULT 0,
     reason TEXT NOT NULL,
     case_ref TEXT NOT NULL,
     legal_basis TEXT NOT NULL,
     snapshots INTEGER NOT NULL DEFAULT 0,
     audio INTEGER NOT NULL DEFAULT 0,
     minutes INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     endorsed_by TEXT,
     approved_by TEXT,
     starts_at INTEGER,
     expires_at INTEGER,
     ended_at INTEGER,
     ended_by TEXT,
     first_used_at INTEGER,
     rtsp_user TEXT UNIQUE,
     rtsp_ha1 TEXT
   );
   CREATE INDEX grants_state ON grants(state, expires_at);
   CREATE INDEX grants_force ON grants(force_id);`,
  // v5: the dashboard — towns' coordinates for the region map, each account's preferences and saved live views.
  `ALTER TABLE orgs ADD COLUMN lat REAL;
   ALTER TABLE orgs ADD COLUMN lon REAL;

   CREATE TABLE user_prefs (
     user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
     lang TEXT,
     updated_at INTEGER NOT NULL
   );

   CREATE TABLE saved_views (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     layout TEXT NOT NULL,
     cameras TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     UNIQUE (user_id, name)
   );`,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (creating if needed) the centre's SQLite file in WAL mode and migrates it. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    db.close();
    throw new Error(`${file} has schema version ${current}, newer than this build (${MIGRATIONS.length}); refusing to open it`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/** Opens an existing centre database for reading only (audit verification, export): no migration, no writes. */
export function openDatabaseReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}
