import type { Db } from './database';

/**
 * What the centre records of a registered camera, for the school's records of processing
 * (EDPB Guidelines 3/2019: a purpose per camera, its legal basis, a retention period). The
 * camera's credentials are not here: they live on the school's gateway only.
 */
export interface RegistrationRecord {
  /** Public id, `<gatewayId>:<localId>`. */
  cameraId: string;
  gatewayId: string;
  localId: string;
  schoolId: string;
  purpose: string;
  legalBasis: string;
  retentionHours: number;
  /** When it records or is watched (e.g. outside school hours), if limited. */
  schedule: string | null;
  /** The camera's ONVIF address or RTSP URL, without credentials. */
  source: string | null;
  registeredBy: string;
  registeredAt: number;
  updatedBy: string;
  updatedAt: number;
}

const SELECT = `SELECT public_id AS cameraId, gateway_id AS gatewayId, local_id AS localId, school_id AS schoolId, purpose,
  legal_basis AS legalBasis, retention_hours AS retentionHours, schedule, source, registered_by AS registeredBy,
  registered_at AS registeredAt, updated_by AS updatedBy, updated_at AS updatedAt FROM camera_registrations`;

/** Owns the `camera_registrations` table. */
export class RegistrationStore {
  constructor(private readonly db: Db) {}

  get(cameraId: string): RegistrationRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE public_id = ?`).get(cameraId) as RegistrationRecord | undefined;
  }

  /** Every registration, by public camera id. */
  all(): Map<string, RegistrationRecord> {
    return new Map((this.db.prepare(SELECT).all() as RegistrationRecord[]).map((r) => [r.cameraId, r]));
  }

  /** Records a registration, or replaces one (a camera registered again keeps its first registration time). */
  put(r: RegistrationRecord): void {
    this.db
      .prepare(
        `INSERT INTO camera_registrations (gateway_id, local_id, public_id, school_id, purpose, legal_basis, retention_hours, schedule, source,
           registered_by, registered_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(gateway_id, local_id) DO UPDATE SET purpose = excluded.purpose, legal_basis = excluded.legal_basis,
           retention_hours = excluded.retention_hours, schedule = excluded.schedule, source = COALESCE(excluded.source, camera_registrations.source),
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      )
      .run(r.gatewayId, r.localId, r.cameraId, r.schoolId, r.purpose, r.legalBasis, r.retentionHours, r.schedule, r.source, r.registeredBy, r.registeredAt, r.updatedBy, r.updatedAt);
  }

  remove(cameraId: string): boolean {
    return this.db.prepare('DELETE FROM camera_registrations WHERE public_id = ?').run(cameraId).changes > 0;
  }
}
