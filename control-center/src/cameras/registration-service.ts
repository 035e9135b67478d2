import { randomBytes } from 'node:crypto';
import type { CameraRegistration as LinkCameraRegistration, CheckResult, DiscoveredDevice, LinkMessageOf } from '@schoolcam/protocol/link/link-messages';
import type { Principal } from '../access/principal';
import type { AuditInput, AuditKind } from '../audit/audit-log';
import { AppError, badRequest, conflict, notFound } from '../errors';
import type { GatewayRequests } from '../link/gateway-requests';
import type { CameraRecord, CameraStore } from '../storage/camera-store';
import type { GatewayRecord, GatewayStore } from '../storage/gateway-store';
import type { RegistrationRecord, RegistrationStore } from '../storage/registration-store';
import { publicCameraId } from './camera-id';

/** What a registration records on the centre besides the camera itself (all required: EDPB 3/2019, ÚOOÚ). */
export interface RegistrationFacts {
  purpose: string;
  legalBasis: string;
  retentionHours: number;
  schedule?: string;
}

export type DiscoverInput = Omit<LinkMessageOf<'discover'>, 'type' | 'requestId'> & { gatewayId?: string };
export type CheckInput = Omit<LinkMessageOf<'check'>, 'type' | 'requestId'> & { gatewayId?: string };
export type RegisterInput = Omit<LinkCameraRegistration, 'id'> & RegistrationFacts & { gatewayId?: string; id?: string };

export interface CameraRegistrationDeps {
  requests: Pick<GatewayRequests, 'ask'>;
  gateways: Pick<GatewayStore, 'list'>;
  link: { isOnline(gatewayId: string): boolean };
  cameras: Pick<CameraStore, 'get' | 'upsert' | 'remove'>;
  registrations: Pick<RegistrationStore, 'get' | 'put' | 'remove'>;
  audit: { append(input: AuditInput): unknown; record(input: AuditInput): boolean; writable(): boolean };
  /** What the centre records of a camera changed (the dashboards' camera lists follow at once). */
  changed?: () => void;
  now?: () => number;
}

/**
 * School IT's (and regional IT's) camera registration, done through the school's gateway over
 * its link: discover, check and grade, register (with purpose, legal basis and retention, kept on
 * the centre), edit, remove, and snapshots. Every action is audited with its outcome; none starts
 * while the audit log cannot be written. Camera passwords pass through to the gateway and are
 * neither stored nor logged nor audited here.
 */
export class CameraRegistration {
  private readonly now: () => number;

  constructor(private readonly deps: CameraRegistrationDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * The gateway a school's requests go to: the one named, else the school's only enrolled
   * gateway, else its only connected one.
   */
  gatewayOf(schoolId: string, gatewayId?: string): GatewayRecord {
    const enrolled = this.deps.gateways.list().filter((g) => g.schoolId === schoolId && g.enrolledAt !== null && g.revokedAt === null);
    if (gatewayId !== undefined) {
      const named = enrolled.find((g) => g.id === gatewayId);
      if (!named) throw notFound('gateway');
      return named;
    }
    if (enrolled.length === 0) throw conflict('the school has no enrolled gateway yet: an administrator creates one and enrols it on site');
    if (enrolled.length === 1) return enrolled[0];
    const online = enrolled.filter((g) => this.deps.link.isOnline(g.id));
    if (online.length === 1) return online[0];
    throw badRequest(`the school has ${enrolled.length} gateways; say which with gatewayId (${enrolled.map((g) => g.id).join(', ')})`);
  }

  async discover(by: Principal, address: string, schoolId: string, input: DiscoverInput): Promise<{ gatewayId: string; devices: DiscoveredDevice[] }> {
    const { gatewayId: named, ...ask } = input;
    const gateway = this.gatewayOf(schoolId, named);
    const detail = { gatewayId: gateway.id, range: ask.range ?? null, interface: ask.interface ?? null, multicast: ask.multicast ?? true, withCredentials: ask.username !== undefined };
    return this.audited({ kind: 'camera.discover', by, address, schoolId, target: gateway.id, detail }, async () => {
      const reply = await this.deps.requests.ask(gateway.id, { type: 'discover', ...ask });
      return { gatewayId: gateway.id, devices: reply.devices };
    }, (r) => ({ devices: r.devices.length }));
  }

  async check(by: Principal, address: string, schoolId: string, input: CheckInput): Promise<{ gatewayId: string; result: CheckResult }> {
    const { gatewayId: named, ...ask } = input;
    const gateway = this.gatewayOf(schoolId, named);
    const detail = { gatewayId: gateway.id, url: withoutCredentials(ask.url) };
    return this.audited({ kind: 'camera.check', by, address, schoolId, target: gateway.id, detail }, async () => {
      const reply = await this.deps.requests.ask(gateway.id, { type: 'check', ...ask });
      return { gatewayId: gateway.id, result: reply.result };
    }, (r) => ({ grade: r.result.grade }));
  }

  /** Adds a camera to the school's gateway (or replaces the one with the same id) and records its purpose, legal basis and retention. */
  async register(by: Principal, address: string, schoolId: string, input: RegisterInput): Promise<{ cameraId: string; replaced: boolean }> {
    const { gatewayId: named, id, purpose, legalBasis, retentionHours, schedule, ...camera } = input;
    if ((camera.onvif === undefined) === (camera.rtsp === undefined)) throw badRequest('give exactly one of onvif (the camera’s ONVIF address and login) or rtsp (a stream URL)');
    const gateway = this.gatewayOf(schoolId, named);
    const localId = id ?? localIdFor(camera.name);
    const cameraId = publicCameraId(gateway.id, localId);
    const replaced = this.deps.cameras.get(cameraId) !== undefined;
    const source = withoutCredentials(camera.onvif?.xaddr ?? camera.rtsp?.url ?? '');
    const facts = { purpose, legalBasis, retentionHours, schedule: schedule ?? null };
    const detail = { gatewayId: gateway.id, localId, name: camera.name, source, ...facts, replaced };
    return this.audited({ kind: 'camera.register', by, address, schoolId, cameraId, target: cameraId, detail }, async () => {
      const reply = await this.deps.requests.ask(gateway.id, { type: 'camera.register', camera: { id: localId, ...camera } });
      // Listed at once; the gateway's next hello says the same.
      this.deps.cameras.upsert(gateway.id, reply.camera);
      const now = this.now();
      this.deps.registrations.put({ cameraId, gatewayId: gateway.id, localId, schoolId, ...facts, source, registeredBy: by.username, registeredAt: now, updatedBy: by.username, updatedAt: now });
      this.deps.changed?.();
      return { cameraId, replaced };
    }, () => ({}));
  }

  /**
   * Changes what the centre records of a camera (purpose, legal basis, retention, schedule). A
   * camera without a registration yet (set up on its gateway alone) gets one when all three
   * required facts are given. Audited first: nothing changes unless the entry is written.
   */
  update(by: Principal, address: string, camera: CameraRecord, patch: Partial<RegistrationFacts>): RegistrationRecord {
    const current = this.deps.registrations.get(camera.id);
    const purpose = patch.purpose ?? current?.purpose;
    const legalBasis = patch.legalBasis ?? current?.legalBasis;
    const retentionHours = patch.retentionHours ?? current?.retentionHours;
    if (purpose === undefined || legalBasis === undefined || retentionHours === undefined) {
      throw badRequest('this camera has no registration yet: give its purpose, legalBasis and retentionHours');
    }
    const now = this.now();
    const next: RegistrationRecord = {
      cameraId: camera.id,
      gatewayId: camera.gatewayId,
      localId: camera.localId,
      schoolId: camera.schoolId,
      purpose,
      legalBasis,
      retentionHours,
      schedule: patch.schedule ?? current?.schedule ?? null,
      source: current?.source ?? null,
      registeredBy: current?.registeredBy ?? by.username,
      registeredAt: current?.registeredAt ?? now,
      updatedBy: by.username,
      updatedAt: now,
    };
    this.deps.audit.append({ kind: 'camera.update', outcome: 'ok', actor: by, address, cameraId: camera.id, schoolId: camera.schoolId, target: camera.id, detail: { changed: patch, created: current === undefined } });
    this.deps.registrations.put(next);
    this.deps.changed?.();
    return next;
  }

  /** Removes a camera from its gateway and forgets its registration. A camera the gateway no longer has is forgotten all the same. */
  async unregister(by: Principal, address: string, camera: CameraRecord): Promise<void> {
    const detail = { gatewayId: camera.gatewayId, localId: camera.localId, name: camera.name };
    await this.audited({ kind: 'camera.unregister', by, address, schoolId: camera.schoolId, cameraId: camera.id, target: camera.id, detail }, async () => {
      try {
        await this.deps.requests.ask(camera.gatewayId, { type: 'camera.unregister', cameraId: camera.localId });
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
      }
      this.deps.registrations.remove(camera.id);
      this.deps.cameras.remove(camera.gatewayId, camera.localId);
      this.deps.changed?.();
    }, () => ({}));
  }

  /** A JPEG of what the camera sees now (the caller may watch it live). Not returned unless its audit entry is written. */
  snapshot(by: Principal, address: string, camera: CameraRecord, profile: 'main' | 'sub' | undefined): Promise<Buffer> {
    const detail = { gatewayId: camera.gatewayId, profile: profile ?? 'main' };
    return this.audited({ kind: 'camera.snapshot', by, address, schoolId: camera.schoolId, cameraId: camera.id, target: camera.id, detail }, () =>
      this.deps.requests.ask(camera.gatewayId, { type: 'snapshot', cameraId: camera.localId, ...(profile ? { profile } : {}) }),
    (jpeg) => ({ bytes: jpeg.length }));
  }

  /**
   * Runs a gateway request under audit: refused at once when the audit log cannot be written;
   * a failure is recorded with its code; success is recorded before the result is handed out
   * (if that entry cannot be written, the result is withheld).
   */
  private async audited<T>(
    e: { kind: AuditKind; by: Principal; address: string; schoolId: string; cameraId?: string; target: string; detail: Record<string, unknown> },
    run: () => Promise<T>,
    outcome: (result: T) => Record<string, unknown>,
  ): Promise<T> {
    const entry = { kind: e.kind, actor: e.by, address: e.address, schoolId: e.schoolId, cameraId: e.cameraId ?? null, target: e.target };
    if (!this.deps.audit.writable()) throw new AppError('AUDIT_UNAVAILABLE', 'the audit log cannot be written; refusing what would go unrecorded', 503);
    let result: T;
    try {
      result = await run();
    } catch (err) {
      this.deps.audit.record({ ...entry, outcome: 'failed', detail: { ...e.detail, code: err instanceof AppError ? err.code : 'INTERNAL' } });
      throw err;
    }
    this.deps.audit.append({ ...entry, outcome: 'ok', detail: { ...e.detail, ...outcome(result) } });
    return result;
  }
}

/** Query parameters some cameras take credentials in (`rtsp://…/Streaming?user=admin&password=…`). */
const CREDENTIAL_PARAM = /^(user|username|usr|login|pass|passwd|password|pwd|token|auth|key|secret)$/i;

/** A URL as it may be recorded: without a user name, password or credential parameter in it. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) if (CREDENTIAL_PARAM.test(key)) u.searchParams.delete(key);
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** A gateway-local camera id from its name: `Vchod hlavní` → `vchod-hlavni-3fa2`. */
export function localIdFor(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'camera'}-${randomBytes(2).toString('hex')}`;
}
