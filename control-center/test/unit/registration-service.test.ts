import { beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/access/principal';
import { CameraRegistration, localIdFor, withoutCredentials } from '../../src/cameras/registration-service';
import { AppError } from '../../src/errors';
import type { GatewayAsk } from '../../src/link/gateway-requests';
import type { CameraRecord } from '../../src/storage/camera-store';
import type { GatewayRecord } from '../../src/storage/gateway-store';
import type { RegistrationRecord } from '../../src/storage/registration-store';
import { FakeAudit } from './fakes';

const IT: Principal = { userId: 'u1', username: 'it-sokolov', role: 'school_it', orgId: 'zs-sokolov', sessionId: 's1' };
const gateway = (id: string, schoolId: string, enrolled = true): GatewayRecord => ({ id, schoolId, name: id, enrolledAt: enrolled ? 1 : null, enrolmentExpiresAt: null, revokedAt: null, createdAt: 0, lastSeenAt: null });
const FACTS = { purpose: 'Ochrana vstupu', legalBasis: 'čl. 6 odst. 1 písm. f) GDPR', retentionHours: 72 };

let asked: { gatewayId: string; request: GatewayAsk }[];
let answer: (r: GatewayAsk) => Promise<unknown>;
let audit: FakeAudit & { canWrite: boolean; writable(): boolean };
let registrations: Map<string, RegistrationRecord>;
let cameras: Map<string, CameraRecord>;
let gateways: GatewayRecord[];
let online: Set<string>;
let service: CameraRegistration;

beforeEach(() => {
  asked = [];
  answer = (r) => Promise.resolve(r.type === 'camera.register' ? { type: 'camera.registered', requestId: 'x', camera: { id: r.camera.id, name: r.camera.name, state: 'idle' } } : {});
  audit = Object.assign(new FakeAudit(), {
    canWrite: true,
    writable(this: { canWrite: boolean }) {
      return this.canWrite;
    },
  });
  registrations = new Map();
  cameras = new Map();
  gateways = [gateway('gw-sok', 'zs-sokolov')];
  online = new Set(['gw-sok']);
  service = new CameraRegistration({
    requests: {
      ask: (gatewayId: string, request: GatewayAsk) => {
        asked.push({ gatewayId, request });
        return answer(request) as Promise<never>;
      },
    },
    gateways: { list: () => gateways },
    link: { isOnline: (id) => online.has(id) },
    cameras: {
      get: (id) => cameras.get(id),
      upsert: (gw, c) => {
        cameras.set(`${gw}:${c.id}`, { id: `${gw}:${c.id}`, localId: c.id, gatewayId: gw, schoolId: 'zs-sokolov', name: c.name, state: c.state, reason: null, width: null, height: null, updatedAt: 0 });
        return true;
      },
      remove: (gw, local) => cameras.delete(`${gw}:${local}`),
    },
    registrations: { get: (id) => registrations.get(id), put: (r) => void registrations.set(r.cameraId, r), remove: (id) => registrations.delete(id) },
    audit,
    now: () => 5000,
  });
});

describe('camera registration through a school’s gateway', () => {
  it('sends the camera with its password to the gateway, records purpose, legal basis and retention on the centre, and audits without credentials', async () => {
    const done = await service.register(IT, '10.0.0.1', 'zs-sokolov', { name: 'Vchod hlavní', onvif: { xaddr: 'http://u:p@10.0.0.7/onvif/device_service', username: 'admin', password: 'secret-pw' }, ...FACTS });
    expect(done.cameraId).toMatch(/^gw-sok:vchod-hlavni-[0-9a-f]{4}$/);
    expect(asked[0].request).toMatchObject({ type: 'camera.register', camera: { name: 'Vchod hlavní', onvif: { password: 'secret-pw' } } });
    expect(registrations.get(done.cameraId)).toMatchObject({ ...FACTS, registeredBy: 'it-sokolov', registeredAt: 5000, source: 'http://10.0.0.7/onvif/device_service' });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ kind: 'camera.register', outcome: 'ok', cameraId: done.cameraId });
    expect(JSON.stringify(audit.entries)).not.toMatch(/secret-pw|u:p@/);
  });

  it('sends nothing while the audit log cannot be written', async () => {
    audit.canWrite = false;
    await expect(service.discover(IT, '10.0.0.1', 'zs-sokolov', {})).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(asked).toEqual([]);
  });

  it('audits a refused request with the gateway’s typed code, and hands the error on', async () => {
    answer = () => Promise.reject(new AppError('CAMERA_AUTH', 'the camera refused the user name or password', 422));
    await expect(service.check(IT, '10.0.0.1', 'zs-sokolov', { url: 'rtsp://admin:pw@10.0.0.7/s?user=admin&password=pw&channel=1' })).rejects.toMatchObject({ code: 'CAMERA_AUTH' });
    expect(audit.entries).toEqual([expect.objectContaining({ kind: 'camera.check', outcome: 'failed', detail: { gatewayId: 'gw-sok', url: 'rtsp://10.0.0.7/s?channel=1', code: 'CAMERA_AUTH' } })]);
  });

  it('picks the school’s gateway: the only enrolled one, else the only connected one, else asks which', () => {
    expect(() => service.gatewayOf('gym-cheb')).toThrow(/no enrolled gateway/);
    gateways.push(gateway('gw-sok-2', 'zs-sokolov'), gateway('gw-sok-new', 'zs-sokolov', false));
    expect(service.gatewayOf('zs-sokolov').id).toBe('gw-sok');
    online.add('gw-sok-2');
    expect(() => service.gatewayOf('zs-sokolov')).toThrow(/say which with gatewayId \(gw-sok, gw-sok-2\)/);
    expect(service.gatewayOf('zs-sokolov', 'gw-sok-2').id).toBe('gw-sok-2');
    expect(() => service.gatewayOf('zs-sokolov', 'gw-sok-new')).toThrow(/not found/);
  });

  it('needs exactly one source, and every required fact for a camera that has no registration yet', async () => {
    await expect(service.register(IT, '10.0.0.1', 'zs-sokolov', { name: 'X', ...FACTS })).rejects.toThrow(/exactly one of onvif/);
    const camera: CameraRecord = { id: 'gw-sok:vchod', localId: 'vchod', gatewayId: 'gw-sok', schoolId: 'zs-sokolov', name: 'Vchod', state: 'idle', reason: null, width: null, height: null, updatedAt: 0 };
    expect(() => service.update(IT, '10.0.0.1', camera, { retentionHours: 24 })).toThrow(/no registration yet/);
    expect(service.update(IT, '10.0.0.1', camera, FACTS)).toMatchObject({ ...FACTS, registeredBy: 'it-sokolov' });
    expect(service.update(IT, '10.0.0.1', camera, { retentionHours: 24 })).toMatchObject({ purpose: FACTS.purpose, retentionHours: 24 });
    expect(audit.entries.map((e) => e.kind)).toEqual(['camera.update', 'camera.update']);
  });
});

describe('what the centre records of camera addresses', () => {
  it('drops user names, passwords and credential parameters from URLs, keeping the rest', () => {
    expect(withoutCredentials('rtsp://admin:Heslo1@10.0.0.7:554/Streaming/Channels/101?transportmode=unicast&password=x&PWD=y&user=z')).toBe(
      'rtsp://10.0.0.7:554/Streaming/Channels/101?transportmode=unicast',
    );
    expect(withoutCredentials('not a url')).toBe('(not a URL)');
  });

  it('makes a camera id from its name, without diacritics', () => {
    expect(localIdFor('Tělocvična – jih')).toMatch(/^telocvicna-jih-[0-9a-f]{4}$/);
    expect(localIdFor('???')).toMatch(/^camera-[0-9a-f]{4}$/);
  });
});
