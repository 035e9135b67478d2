import type { Db } from './database';

export type PropertyKind = 'motion' | 'tamper';

/**
 * Owns `camera_event_state`: the last motion and tamper state the gateway heard from each camera.
 * ONVIF reports these as properties (a subscription starts with the current state), so knowing the
 * state from before a restart is what tells a change that happened meanwhile from no change.
 */
export class EventStateStore {
  constructor(private readonly db: Db) {}

  get(cameraId: string): Map<PropertyKind, boolean> {
    const rows = this.db.prepare('SELECT kind, active FROM camera_event_state WHERE camera_id = ?').all(cameraId) as { kind: PropertyKind; active: number }[];
    return new Map(rows.map((r) => [r.kind, r.active === 1]));
  }

  set(cameraId: string, kind: PropertyKind, active: boolean, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO camera_event_state (camera_id, kind, active, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(camera_id, kind) DO UPDATE SET active = excluded.active, updated_at = excluded.updated_at`,
      )
      .run(cameraId, kind, active ? 1 : 0, now);
  }

  /** A camera left the registry. */
  forget(cameraId: string): void {
    this.db.prepare('DELETE FROM camera_event_state WHERE camera_id = ?').run(cameraId);
  }
}
