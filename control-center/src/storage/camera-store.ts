import type { CameraInventory, CameraState } from '@schoolcam/protocol/link/link-messages';
import type { Db } from './database';

export interface CameraRecord {
  id: string;
  gatewayId: string;
  schoolId: string;
  name: string;
  state: CameraState | 'offline';
  reason: string | null;
  width: number | null;
  height: number | null;
  updatedAt: number;
}

/** Owns the `cameras` table: what each gateway last reported about its cameras. */
export class CameraStore {
  constructor(private readonly db: Db) {}

  /**
   * Replaces a gateway's inventory: cameras it no longer reports are removed. Returns the ids
   * refused because another gateway owns them.
   */
  replaceInventory(gatewayId: string, cameras: readonly CameraInventory[]): string[] {
    const now = Date.now();
    return this.db.transaction(() => {
      const ids = new Set(cameras.map((c) => c.id));
      const existing = this.db.prepare('SELECT id FROM cameras WHERE gateway_id = ?').all(gatewayId) as { id: string }[];
      for (const { id } of existing) if (!ids.has(id)) this.db.prepare('DELETE FROM cameras WHERE id = ? AND gateway_id = ?').run(id, gatewayId);
      return cameras.filter((c) => !this.upsert(gatewayId, c, now)).map((c) => c.id);
    })();
  }

  /**
   * Records what a gateway reports about one of its cameras. Returns false, changing nothing,
   * when the id belongs to another gateway's camera: one school can never take over, rename
   * or mark offline another school's camera.
   */
  upsert(gatewayId: string, c: CameraInventory, now = Date.now()): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO cameras (id, gateway_id, name, state, reason, width, height, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, state = excluded.state,
           reason = excluded.reason, width = COALESCE(excluded.width, cameras.width),
           height = COALESCE(excluded.height, cameras.height), updated_at = excluded.updated_at
         WHERE cameras.gateway_id = excluded.gateway_id`,
      )
      .run(c.id, gatewayId, c.name, c.state, c.reason ?? null, c.width ?? null, c.height ?? null, now);
    return result.changes > 0;
  }

  /** Marks every camera of a gateway offline (its link went away). */
  markGatewayOffline(gatewayId: string): void {
    this.db.prepare(`UPDATE cameras SET state = 'offline', reason = 'gateway offline', updated_at = ? WHERE gateway_id = ?`).run(Date.now(), gatewayId);
  }

  list(): CameraRecord[] {
    return this.db.prepare(`${SELECT} ORDER BY g.school_id, c.name`).all() as CameraRecord[];
  }

  get(id: string): CameraRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE c.id = ?`).get(id) as CameraRecord | undefined;
  }
}

const SELECT = `SELECT c.id, c.gateway_id AS gatewayId, g.school_id AS schoolId, c.name, c.state, c.reason, c.width, c.height,
  c.updated_at AS updatedAt FROM cameras c JOIN gateways g ON g.id = c.gateway_id`;
