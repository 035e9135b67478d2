import type { Db } from '../storage/database';

/**
 * A grant's life: `requested` (a police officer asked) → `pending` (an operator endorsed it and
 * the two-person rule wants a second one) → `active` → `expired` or `revoked`. A grant can be
 * revoked from any state before it ends.
 */
export type GrantState = 'requested' | 'pending' | 'active' | 'expired' | 'revoked';

export interface GrantRecord {
  id: string;
  /** The police force (organisation id) the grant opens cameras to. */
  forceId: string;
  /** Set when the grant covers a whole school (every camera it has now or later). */
  wholeSchoolId: string | null;
  /** The cameras named (public ids); empty for a whole-school grant. */
  cameraIds: string[];
  /** The schools the grant touches. */
  schoolIds: string[];
  state: GrantState;
  emergency: boolean;
  reason: string;
  caseRef: string;
  legalBasis: string;
  /** Snapshots allowed besides live view. */
  snapshots: boolean;
  /** Camera audio allowed (never unless the grant says so). */
  audio: boolean;
  /** Length once active. */
  minutes: number;
  createdBy: string;
  createdAt: number;
  /** The first operator to stand behind the grant (its creator, or whoever approved a police request first). */
  endorsedBy: string | null;
  /** The operator whose approval made it active (the second person under the two-person rule). */
  approvedBy: string | null;
  startsAt: number | null;
  expiresAt: number | null;
  endedAt: number | null;
  endedBy: string | null;
  firstUsedAt: number | null;
  rtspUser: string | null;
  rtspHa1: string | null;
}

interface Row extends Omit<GrantRecord, 'cameraIds' | 'schoolIds' | 'emergency' | 'snapshots' | 'audio'> {
  cameraIds: string;
  schoolIds: string;
  emergency: number;
  snapshots: number;
  audio: number;
}

const SELECT = `SELECT id, force_id AS forceId, whole_school_id AS wholeSchoolId, camera_ids AS cameraIds, school_ids AS schoolIds, state, emergency,
  reason, case_ref AS caseRef, legal_basis AS legalBasis, snapshots, audio, minutes, created_by AS createdBy, created_at AS createdAt,
  endorsed_by AS endorsedBy, approved_by AS approvedBy, starts_at AS startsAt, expires_at AS expiresAt, ended_at AS endedAt, ended_by AS endedBy,
  first_used_at AS firstUsedAt, rtsp_user AS rtspUser, rtsp_ha1 AS rtspHa1 FROM grants`;

const toRecord = (r: Row): GrantRecord => ({
  ...r,
  cameraIds: JSON.parse(r.cameraIds) as string[],
  schoolIds: JSON.parse(r.schoolIds) as string[],
  emergency: r.emergency === 1,
  snapshots: r.snapshots === 1,
  audio: r.audio === 1,
});

/** Owns the `grants` table. */
export class GrantStore {
  constructor(private readonly db: Db) {}

  insert(g: GrantRecord): void {
    this.db
      .prepare(
        `INSERT INTO grants (id, force_id, whole_school_id, camera_ids, school_ids, state, emergency, reason, case_ref, legal_basis, snapshots, audio, minutes,
           created_by, created_at, endorsed_by, approved_by, starts_at, expires_at, ended_at, ended_by, first_used_at, rtsp_user, rtsp_ha1)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        g.id,
        g.forceId,
        g.wholeSchoolId,
        JSON.stringify(g.cameraIds),
        JSON.stringify(g.schoolIds),
        g.state,
        g.emergency ? 1 : 0,
        g.reason,
        g.caseRef,
        g.legalBasis,
        g.snapshots ? 1 : 0,
        g.audio ? 1 : 0,
        g.minutes,
        g.createdBy,
        g.createdAt,
        g.endorsedBy,
        g.approvedBy,
        g.startsAt,
        g.expiresAt,
        g.endedAt,
        g.endedBy,
        g.firstUsedAt,
        g.rtspUser,
        g.rtspHa1,
      );
  }

  get(id: string): GrantRecord | undefined {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** The grant whose RTSP user name this is. */
  byRtspUser(username: string): GrantRecord | undefined {
    const row = this.db.prepare(`${SELECT} WHERE rtsp_user = ?`).get(username) as Row | undefined;
    return row && toRecord(row);
  }

  /** Every grant, newest first. */
  list(): GrantRecord[] {
    return (this.db.prepare(`${SELECT} ORDER BY created_at DESC, id`).all() as Row[]).map(toRecord);
  }

  /** Grants in a state. */
  inState(state: GrantState): GrantRecord[] {
    return (this.db.prepare(`${SELECT} WHERE state = ? ORDER BY created_at`).all(state) as Row[]).map(toRecord);
  }

  /**
   * Moves a grant on, only from the state the caller saw (`from`): a second, concurrent change
   * (two operators revoking at once, an expiry racing a revocation) finds it gone and gets false.
   */
  transition(id: string, from: readonly GrantState[], patch: Partial<Pick<GrantRecord, 'state' | 'endorsedBy' | 'approvedBy' | 'startsAt' | 'expiresAt' | 'endedAt' | 'endedBy'>>): boolean {
    const cols: Record<string, string> = { state: 'state', endorsedBy: 'endorsed_by', approvedBy: 'approved_by', startsAt: 'starts_at', expiresAt: 'expires_at', endedAt: 'ended_at', endedBy: 'ended_by' };
    const keys = Object.keys(patch) as (keyof typeof patch)[];
    const sets = keys.map((k) => `${cols[k]} = ?`).join(', ');
    const r = this.db
      .prepare(`UPDATE grants SET ${sets} WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`)
      .run(...keys.map((k) => patch[k] ?? null), id, ...from);
    return r.changes > 0;
  }

  /** Records the first view under a grant; false when it had one already. */
  markUsed(id: string, at: number): boolean {
    return this.db.prepare('UPDATE grants SET first_used_at = ? WHERE id = ? AND first_used_at IS NULL').run(at, id).changes > 0;
  }
}
