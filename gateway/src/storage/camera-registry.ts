import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CameraConfig, checkCameraConfig } from '../config';
import { GatewayError } from '../errors';
import type { Db } from './database';
import type { SecretBox } from './secret-box';

/** Who put a camera in the registry. */
export type CameraOrigin = 'config' | 'cli' | 'centre';

/** A camera as listed without its passwords. */
export interface CameraSummary {
  id: string;
  name: string;
  source: 'onvif' | 'rtsp';
  /** the ONVIF device address or the RTSP URL (without credentials) */
  address: string;
  username: string | undefined;
  transport: 'tcp' | 'udp';
  allowBasicAuth: boolean;
  origin: CameraOrigin;
  updatedAt: number;
}

interface Row {
  id: string;
  name: string;
  spec: string;
  secrets: Buffer | null;
  origin: CameraOrigin;
  updated_at: number;
}

interface Secrets {
  onvif?: string;
  rtsp?: string;
}

const specChecker = TypeCompiler.Compile(CameraConfig);

/** Cameras one gateway holds at most (the link's `hello` carries up to 1024). */
export const MAX_CAMERAS = 1024;

/**
 * Owns the `cameras` table: every camera this gateway relays, whoever registered it. Passwords are
 * sealed with the {@link SecretBox} (bound to the camera id); the rest of the entry is JSON.
 */
export class CameraRegistry {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  /** Every camera with its passwords, ordered by id. Throws GatewayError when a row cannot be decrypted. */
  list(): CameraConfig[] {
    return (this.db.prepare('SELECT * FROM cameras ORDER BY id').all() as Row[]).map((r) => this.decode(r));
  }

  get(id: string): CameraConfig | undefined {
    const row = this.db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as Row | undefined;
    return row && this.decode(row);
  }

  summaries(): CameraSummary[] {
    return (this.db.prepare('SELECT * FROM cameras ORDER BY id').all() as Row[]).map((r) => {
      const spec = JSON.parse(r.spec) as CameraConfig;
      return {
        id: r.id,
        name: r.name,
        source: spec.onvif ? 'onvif' : 'rtsp',
        address: spec.onvif?.xaddr ?? spec.rtsp?.url ?? '',
        username: spec.onvif?.username ?? spec.rtsp?.username,
        transport: spec.transport ?? 'tcp',
        allowBasicAuth: spec.allowBasicAuth ?? false,
        origin: r.origin,
        updatedAt: r.updated_at,
      };
    });
  }

  /** Adds or replaces a camera (validated like a config entry). Throws GatewayError BAD_REQUEST. */
  upsert(camera: CameraConfig, origin: CameraOrigin, now = Date.now()): void {
    if (!specChecker.Check(camera)) {
      const e = specChecker.Errors(camera).First();
      if (e?.path === '/id') throw new GatewayError('BAD_REQUEST', 'a camera id is 1–128 characters of A–Z, a–z, 0–9 and . _ : - (no spaces or accents)');
      throw new GatewayError('BAD_REQUEST', `camera ${e?.path || '/'} ${e?.message ?? 'invalid'}`);
    }
    try {
      checkCameraConfig(camera, 'camera');
    } catch (err) {
      throw new GatewayError('BAD_REQUEST', (err as Error).message);
    }
    const secrets: Secrets = {};
    const spec = structuredClone(camera);
    if (spec.onvif) {
      secrets.onvif = spec.onvif.password;
      spec.onvif.password = '';
    }
    if (spec.rtsp?.password !== undefined) {
      secrets.rtsp = spec.rtsp.password;
      delete spec.rtsp.password;
    }
    const exists = this.db.prepare('SELECT 1 FROM cameras WHERE id = ?').get(camera.id) !== undefined;
    if (!exists && (this.db.prepare('SELECT COUNT(*) AS n FROM cameras').get() as { n: number }).n >= MAX_CAMERAS) {
      throw new GatewayError('CONFLICT', `this gateway already holds ${MAX_CAMERAS} cameras`);
    }
    const sealed = secrets.onvif === undefined && secrets.rtsp === undefined ? null : this.box.seal(Buffer.from(JSON.stringify(secrets)), `camera:${camera.id}`);
    this.db
      .prepare(
        `INSERT INTO cameras (id, name, spec, secrets, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, spec = excluded.spec, secrets = excluded.secrets,
           origin = excluded.origin, updated_at = excluded.updated_at`,
      )
      .run(camera.id, camera.name, JSON.stringify(spec), sealed, origin, now, now);
  }

  /** Removes a camera; false when there was none. */
  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM cameras WHERE id = ?').run(id).changes > 0;
  }

  /**
   * The YAML `cameras:` of the gateway's config, applied at start: each is stored (replacing a
   * camera of the same id), and cameras that came from the config but left it are removed.
   * Cameras registered through the CLI or the centre stay.
   */
  seedFromConfig(cameras: readonly CameraConfig[]): void {
    this.db.transaction(() => {
      const keep = new Set(cameras.map((c) => c.id));
      for (const { id } of this.db.prepare("SELECT id FROM cameras WHERE origin = 'config'").all() as { id: string }[]) {
        if (!keep.has(id)) this.remove(id);
      }
      for (const c of cameras) {
        const existing = this.db.prepare('SELECT * FROM cameras WHERE id = ?').get(c.id) as Row | undefined;
        // Unchanged entries keep their row (and updated_at): a restart is not a change.
        if (existing?.origin === 'config' && sameCamera(this.decode(existing), c)) continue;
        this.upsert(c, 'config');
      }
    })();
  }

  /**
   * A number that changes whenever another connection (the CLI, say) committed to the database
   * since the last call on this one (SQLite `PRAGMA data_version`).
   */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private decode(row: Row): CameraConfig {
    const spec = JSON.parse(row.spec) as CameraConfig;
    if (row.secrets !== null) {
      const plain = this.box.open(row.secrets, `camera:${row.id}`);
      if (!plain) throw new GatewayError('KEY_FILE', `the password of camera ${row.id} cannot be decrypted with this key file`);
      const secrets = JSON.parse(plain.toString('utf8')) as Secrets;
      if (spec.onvif && secrets.onvif !== undefined) spec.onvif.password = secrets.onvif;
      if (spec.rtsp && secrets.rtsp !== undefined) spec.rtsp.password = secrets.rtsp;
    }
    return spec;
  }
}

function sameCamera(a: CameraConfig, b: CameraConfig): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** Key order and absent-vs-undefined do not make two entries different. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, normalize(x)]),
    );
  }
  return v;
}
