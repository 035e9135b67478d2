import { beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/access/principal';
import { AccessRevocations, type EndCause, type ViewSelector } from '../../src/access/revocation';
import { AuditLog } from '../../src/audit/audit-log';
import { GatewayAdmin, type GatewayLinkControl, gatewayState } from '../../src/gateways/gateway-admin';
import { CameraStore } from '../../src/storage/camera-store';
import { type Db, openDatabase } from '../../src/storage/database';
import { GatewayStore } from '../../src/storage/gateway-store';
import { OrgStore } from '../../src/storage/org-store';

const admin: Principal = { userId: 'u-admin', username: 'admin', role: 'admin', orgId: 'kvk', sessionId: 's' };
const HOUR = 3_600_000;

let db: Db;
let clock: { t: number };
let gateways: GatewayStore;
let cameras: CameraStore;
let dropped: string[];
let revoked: [ViewSelector, EndCause][];
let svc: GatewayAdmin;

beforeEach(() => {
  db = openDatabase(':memory:');
  const orgs = new OrgStore(db);
  orgs.insert({ id: 'sokolov', kind: 'town', name: 'Sokolov', parentId: null });
  orgs.insert({ id: 'zs-sokolov', kind: 'school', name: 'ZŠ Sokolov', parentId: 'sokolov' });
  clock = { t: 1_700_000_000_000 };
  gateways = new GatewayStore(db);
  cameras = new CameraStore(db);
  dropped = [];
  revoked = [];
  const link: GatewayLinkControl = { disconnect: (id) => dropped.push(id), isOnline: () => false };
  const revocations = new AccessRevocations();
  revocations.on('revoke', (s, c) => revoked.push([s, c]));
  svc = new GatewayAdmin(gateways, orgs, cameras, link, revocations, new AuditLog(db, () => clock.t), 24 * HOUR, () => clock.t);
});

describe('gateway enrolment and revocation', () => {
  it('creates a gateway for a school only, awaiting enrolment, keeping no token in the table', () => {
    expect(() => svc.create(admin, '10.0.0.1', { id: 'gw-x', schoolId: 'sokolov', name: 'x' })).toThrow(/not a school/);
    const { gateway, token } = svc.create(admin, '10.0.0.1', { id: 'gw-sok', schoolId: 'zs-sokolov', name: 'Sokolov' });
    expect(gatewayState(gateway, clock.t)).toBe('awaiting_enrolment');
    expect(JSON.stringify(db.prepare('SELECT * FROM gateways').all())).not.toContain(token);
    expect(() => svc.create(admin, '10.0.0.1', { id: 'gw-sok', schoolId: 'zs-sokolov', name: 'again' })).toThrow(/exists/);
  });

  it('redeems a token exactly once, and never after it expired', async () => {
    const { token } = svc.create(admin, '10.0.0.1', { id: 'gw-sok', schoolId: 'zs-sokolov', name: 'Sokolov' });
    const first = await svc.enrol(token, '10.1.1.1');
    expect(first).toMatchObject({ gatewayId: 'gw-sok', schoolId: 'zs-sokolov' });
    expect(gateways.secretHashFor('gw-sok')).toMatch(/^scrypt\$/);
    await expect(svc.enrol(token, '10.1.1.1')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const late = svc.create(admin, '10.0.0.1', { id: 'gw-late', schoolId: 'zs-sokolov', name: 'Late' });
    clock.t += 24 * HOUR;
    expect(gatewayState(gateways.get('gw-late')!, clock.t)).toBe('enrolment_expired');
    await expect(svc.enrol(late.token, '10.1.1.1')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('revoking cuts the gateway\'s viewers first (typed cause), then its link, and keeps it out', async () => {
    const { token } = svc.create(admin, '10.0.0.1', { id: 'gw-sok', schoolId: 'zs-sokolov', name: 'Sokolov' });
    await svc.enrol(token, '10.1.1.1');
    cameras.upsert('gw-sok', { id: 'cam', name: 'Vchod', state: 'streaming' });
    const g = svc.revoke(admin, '10.0.0.1', 'gw-sok');
    expect(g.revokedAt).toBe(clock.t);
    expect(revoked).toEqual([[{ gateway: 'gw-sok' }, { kind: 'gateway_revoked', gatewayId: 'gw-sok' }]]);
    expect(dropped).toEqual(['gw-sok']);
    expect(gateways.secretHashFor('gw-sok')).toBeUndefined();
    expect(cameras.get('gw-sok:cam')).toMatchObject({ state: 'offline', reason: 'gateway revoked' });
    svc.revoke(admin, '10.0.0.1', 'gw-sok'); // again: nothing more happens
    expect(dropped).toEqual(['gw-sok']);
  });
});
