import type { CameraInventory, CameraState } from '@schoolcam/protocol/link/link-messages';
import { publicCameraId } from '../cameras/camera-id';
import type { Db } from './database';

export interface CameraRecord {
  /** Public id, `<gatewayId>:<localId>` (see camera-id.ts). */
  id: string;
  /** The id the gateway knows the camera by. */
  localId: string;
  gatewayId: string;
  schoolId: string;
  name: string;
  /** What the gateway last reported; `offline` when its link is down, `unknown` from a centre start until the gateway reports. */
  state: CameraState | 'unknown';
  reason: string | null;
  width: number | null;
  height: number | null;
  updatedAt: number;
}

const SELECT = `SELECT c.public_id AS id, c.local_id AS localId, c.gateway_id AS gatewayId, g.school_id AS schoolId, c.name, c.state,
  c.reason, c.width, c.height, c.updated_at AS updatedAt FROM cameras c JOIN gateways g ON g.id = c.gateway_id`;

/** Owns the `cameras` table: what each gateway last reported about its cameras. */
export class CameraStore {
  constructor(private readonly db: Db) {}

  /**
   * Replaces a gateway's inventory: cameras it no longer reports are removed. Returns the local
   * ids refused (their public id is taken, which only a first-release gateway id containing
   * `:` could cause).
   */
  replaceInventory(gatewayId: string, cameras: readonly CameraInventory[]): string[] {
    const now = Date.now();
    return this.db.transaction(() => {
      const ids = new Set(cameras.map((c) => c.id));
      const existing = this.db.prepare('SELECT local_id AS id FROM cameras WHERE gateway_id = ?').all(gatewayId) as { id: string }[];
      const remove = this.db.prepare('DELETE FROM cameras WHERE gateway_id = ? AND local_id = ?');
      for (const { id } of existing) if (!ids.has(id)) remove.run(gatewayId, id);
      return cameras.filter((c) => !this.upsert(gatewayId, c, now)).map((c) => c.id);
    })();
  }

  /** Records what a gateway reports about one of its own cameras (ids are local to it). */
  upsert(gatewayId: string, c: CameraInventory, now = Date.now()): boolean {
    try {
      this.db
        .prepare(
          `INSERT INTO cameras (gateway_id, local_id, public_id, name, state, reason, width, height, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(gateway_id, local_id) DO UPDATE SET name = excluded.name, state = excluded.state,
             reason = excluded.reason, width = COALESCE(excluded.width, cameras.width),
             height = COALESCE(excluded.height, cameras.height), updated_at = excluded.updated_at`,
        )
        .run(gatewayId, c.id, publicCameraId(gatewayId, c.id), c.name, c.state, c.reason ?? null, c.width ?? null, c.height ?? null, now);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }

  /**
   * Records a state a gateway reported in its health (the same states as `camera.state`). Returns
   * whether it changed anything.
   */
  setState(gatewayId: string, localId: string, state: CameraState, reason: string | null): boolean {
    return (
      this.db
        .prepare('UPDATE cameras SET state = ?, reason = ?, updated_at = ? WHERE gateway_id = ? AND local_id = ? AND (state IS NOT ? OR reason IS NOT ?)')
        .run(state, reason, Date.now(), gatewayId, localId, state, reason).changes > 0
    );
  }

  /** Forgets one camera (it was unregistered); its gateway's next hello says the same. */
  remove(gatewayId: string, localId: string): boolean {
    return this.db.prepare('DELETE FROM cameras WHERE gateway_id = ? AND local_id = ?').run(gatewayId, localId).changes > 0;
  }

  /** At start: nothing is known of any camera until its gateway reports. */
  markAllUnknown(reason: string): void {
    this.db.prepare(`UPDATE cameras SET state = 'unknown', reason = ?, updated_at = ?`).run(reason, Date.now());
  }

  /** Marks every camera of a gateway offline (its link went away, or it was revoked). */
  markGatewayOffline(gatewayId: string, reason: string): void {
    this.db.prepare(`UPDATE cameras SET state = 'offline', reason = ?, updated_at = ? WHERE gateway_id = ?`).run(reason, Date.now(), gatewayId);
  }

  list(): CameraRecord[] {
    return this.db.prepare(`${SELECT} ORDER BY g.school_id, c.name, c.public_id`).all() as CameraRecord[];
  }

  get(id: string): CameraRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE c.public_id = ?`).get(id) as CameraRecord | undefined;
  }
}
