import type { OrgKind } from '../access/principal';
import type { Db } from './database';

export interface OrgRecord {
  id: string;
  kind: OrgKind;
  name: string;
  /** The town of a school or police force; the region of a town; null for the region (or a school not yet placed). */
  parentId: string | null;
  /** Where it is (WGS84 degrees), for the region map; towns carry it, null when unknown. */
  lat: number | null;
  lon: number | null;
}

/** Which kind of organisation each kind hangs under. */
export const PARENT_KIND: Readonly<Record<OrgKind, OrgKind | null>> = {
  region: null,
  town: 'region',
  school: 'town',
  police: 'town',
};

/** An organisation to store: its place is optional. */
export type OrgInput = Omit<OrgRecord, 'lat' | 'lon'> & Partial<Pick<OrgRecord, 'lat' | 'lon'>>;

const SELECT = 'SELECT id, kind, name, parent_id AS parentId, lat, lon FROM orgs';

/** Owns the `orgs` table: the region, its towns, schools and municipal police forces. */
export class OrgStore {
  constructor(private readonly db: Db) {}

  list(): OrgRecord[] {
    return this.db.prepare(`${SELECT} ORDER BY kind, name`).all() as OrgRecord[];
  }

  get(id: string): OrgRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as OrgRecord | undefined;
  }

  /** The organisation and every ancestor, nearest first. */
  lineage(id: string): OrgRecord[] {
    const out: OrgRecord[] = [];
    const seen = new Set<string>();
    for (let org = this.get(id); org && !seen.has(org.id); org = org.parentId ? this.get(org.parentId) : undefined) {
      seen.add(org.id);
      out.push(org);
    }
    return out;
  }

  /** Inserts a new organisation; false when the id is taken. */
  insert(org: OrgInput, now = Date.now()): boolean {
    const r = this.db
      .prepare('INSERT INTO orgs (id, kind, name, parent_id, lat, lon, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING')
      .run(org.id, org.kind, org.name, org.parentId, org.lat ?? null, org.lon ?? null, now);
    return r.changes > 0;
  }

  /** Inserts or updates (name, parent, and the place when given) an organisation of the same kind; false when the id belongs to another kind. */
  upsert(org: OrgInput, now = Date.now()): boolean {
    const existing = this.get(org.id);
    if (existing && existing.kind !== org.kind) return false;
    if (!existing) return this.insert(org, now);
    this.db.prepare('UPDATE orgs SET name = ?, parent_id = ? WHERE id = ?').run(org.name, org.parentId, org.id);
    if (org.lat != null && org.lon != null) this.update(org.id, { lat: org.lat, lon: org.lon });
    return true;
  }

  update(id: string, patch: { name?: string; parentId?: string; lat?: number; lon?: number }): void {
    if (patch.lat !== undefined && patch.lon !== undefined) this.db.prepare('UPDATE orgs SET lat = ?, lon = ? WHERE id = ?').run(patch.lat, patch.lon, id);
    if (patch.name !== undefined) this.db.prepare('UPDATE orgs SET name = ? WHERE id = ?').run(patch.name, id);
    if (patch.parentId !== undefined) this.db.prepare('UPDATE orgs SET parent_id = ? WHERE id = ?').run(patch.parentId, id);
  }
}
