import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order, each once (tracked by `PRAGMA user_version`).
 * Append only: never edit a migration that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   CREATE TABLE cameras (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     -- the camera's config without its passwords (JSON)
     spec TEXT NOT NULL,
     -- its passwords, AES-256-GCM under the key file (see secret-box.ts); NULL when it has none
     secrets BLOB,
     origin TEXT NOT NULL CHECK (origin IN ('config', 'cli', 'centre')),
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   -- AUTOINCREMENT: a seq is never reused, even after the newest events were acked and deleted.
   CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );`,
  // The last motion/tamper state heard from each camera, so a change that happens while the
  // gateway is down (or restarting) is reported when it subscribes again.
  `CREATE TABLE camera_event_state (
     camera_id TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('motion', 'tamper')),
     active INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (camera_id, kind)
   );`,
];

/**
 * Opens (creating if needed) the gateway's SQLite file in WAL mode and migrates it. WAL with
 * synchronous=NORMAL keeps every committed write across a crash or SIGKILL of the process (only a
 * power cut may lose the last transactions); the CLI may write while the gateway runs.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) throw new Error(`${file} was written by a newer gateway (schema ${current}, this one knows ${MIGRATIONS.length})`);
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]);
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
