import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Db } from './database';

export interface GatewayRecord {
  id: string;
  schoolId: string;
  name: string;
  createdAt: number;
  lastSeenAt: number | null;
}

/** Owns the `gateways` table. Secrets are stored as salted scrypt hashes only. */
export class GatewayStore {
  constructor(private readonly db: Db) {}

  /** Registers a gateway (or replaces its secret) and returns the secret to hand to it. */
  upsert(g: { id: string; schoolId: string; name: string; secret?: string }): string {
    const secret = g.secret ?? randomBytes(24).toString('base64url');
    this.db
      .prepare(
        `INSERT INTO gateways (id, school_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET school_id = excluded.school_id, name = excluded.name, secret_hash = excluded.secret_hash`,
      )
      .run(g.id, g.schoolId, g.name, hashSecret(secret), Date.now());
    return secret;
  }

  /**
   * Returns the gateway when the secret matches, else undefined (no hint which part was wrong).
   * The hash runs off the event loop, and an unknown id costs the same as a wrong secret, so
   * neither a flood of upgrades nor response times reveal which gateway ids exist.
   */
  async authenticate(id: string, secret: string): Promise<GatewayRecord | undefined> {
    const row = this.db.prepare('SELECT secret_hash FROM gateways WHERE id = ?').get(id) as { secret_hash: string } | undefined;
    const ok = await verifySecret(secret, row?.secret_hash ?? DUMMY_HASH);
    return ok && row ? this.get(id) : undefined;
  }

  get(id: string): GatewayRecord | undefined {
    const row = this.db
      .prepare('SELECT id, school_id AS schoolId, name, created_at AS createdAt, last_seen_at AS lastSeenAt FROM gateways WHERE id = ?')
      .get(id) as GatewayRecord | undefined;
    return row;
  }

  touch(id: string, at = Date.now()): void {
    this.db.prepare('UPDATE gateways SET last_seen_at = ? WHERE id = ?').run(at, id);
  }
}

function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${scryptSync(secret, salt, 32).toString('base64')}`;
}

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const DUMMY_HASH = hashSecret(randomBytes(24).toString('base64url'));

async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}
