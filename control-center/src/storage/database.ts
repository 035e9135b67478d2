import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order, each once (tracked by `PRAGMA user_version`).
 * Append only: never edit a migration that has shipped.
 */
const MIGRATIONS: readonly string[] = [
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
];

/** Opens (creating if needed) the centre's SQLite file in WAL mode and migrates it. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
