import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccessPolicy } from '../../src/access/policy';
import type { Principal } from '../../src/access/principal';
import { AccessRevocations, type EndCause, type ViewSelector } from '../../src/access/revocation';
import { type GrantSettings, GrantService } from '../../src/grants/grant-service';
import { GrantStore } from '../../src/grants/grant-store';
import { RTSP_REALM, digestHa1 } from '../../src/grants/rtsp-credentials';
import type { CameraRecord } from '../../src/storage/camera-store';
import { type Db, openDatabase } from '../../src/storage/database';
import { OrgStore } from '../../src/storage/org-store';
import { FakeAudit, silent } from './fakes';

const MINUTE = 60_000;
const who = (username: string, role: Principal['role'], orgId: string): Principal => ({ userId: `id-${username}`, username, role, orgId, sessionId: `s-${username}` });
const operator = who('operator', 'operator', 'kvk');
const operator2 = who('operator2', 'operator', 'kvk');
const policeA = who('police-sokolov', 'police', 'mp-sokolov');
const policeB = who('police-cheb', 'police', 'mp-cheb');
const itSokolov = who('it-sokolov', 'school_it', 'zs-sokolov');
const itCheb = who('it-cheb', 'school_it', 'gym-cheb');
const as = (principal: Principal) => ({ principal, address: '10.0.0.1' });

const CAMERAS: CameraRecord[] = [
  { id: 'gw-sok:cam1', localId: 'cam1', gatewayId: 'gw-sok', schoolId: 'zs-sokolov', name: 'Vchod', state: 'idle', reason: null, width: null, height: null, updatedAt: 0 },
  { id: 'gw-sok:cam2', localId: 'cam2', gatewayId: 'gw-sok', schoolId: 'zs-sokolov', name: 'Dvůr', state: 'idle', reason: null, width: null, height: null, updatedAt: 0 },
  { id: 'gw-cheb:cam1', localId: 'cam1', gatewayId: 'gw-cheb', schoolId: 'gym-cheb', name: 'Vchod', state: 'idle', reason: null, width: null, height: null, updatedAt: 0 },
];

const SETTINGS: GrantSettings = { defaultMinutes: 480, maxMinutes: 24 * 60, twoPersonRule: false, emergencyMinutes: 30, emergencyForces: {}, rtspPublicUrl: 'rtsp://127.0.0.1:8554' };

let db: Db | undefined;
afterEach(() => {
  vi.useRealTimers();
  db?.close();
  db = undefined;
});

/** A grant service on a real (in-memory) SQLite database, with the clock and timers under the test's control. */
function setup(settings: Partial<GrantSettings> = {}, existing?: Db) {
  if (!existing) vi.useFakeTimers({ now: 1_800_000_000_000 });
  db = existing ?? openDatabase(':memory:');
  const orgs = new OrgStore(db);
  if (!existing) {
    orgs.insert({ id: 'kvk', kind: 'region', name: 'Kraj', parentId: null });
    for (const town of ['sokolov', 'cheb']) orgs.insert({ id: town, kind: 'town', name: town, parentId: 'kvk' });
    orgs.insert({ id: 'zs-sokolov', kind: 'school', name: 'ZŠ Sokolov', parentId: 'sokolov' });
    orgs.insert({ id: 'gym-cheb', kind: 'school', name: 'Gymnázium Cheb', parentId: 'cheb' });
    orgs.insert({ id: 'mp-sokolov', kind: 'police', name: 'MP Sokolov', parentId: 'sokolov' });
    orgs.insert({ id: 'mp-cheb', kind: 'police', name: 'MP Cheb', parentId: 'cheb' });
  }
  const audit = new FakeAudit();
  const revocations = new AccessRevocations();
  const cut: { selector: ViewSelector; cause: EndCause; at: number }[] = [];
  revocations.on('revoke', (selector, cause) => cut.push({ selector, cause, at: Date.now() }));
  const service = new GrantService(
    { store: new GrantStore(db), orgs, cameras: { get: (id) => CAMERAS.find((c) => c.id === id), list: () => CAMERAS }, audit, revocations, viewsUnder: () => 1, log: silent },
    { ...SETTINGS, ...settings },
  );
  service.start();
  const policy = new AccessPolicy();
  policy.extend(service);
  const canWatch = (p: Principal, cameraId: string): boolean => {
    const c = CAMERAS.find((x) => x.id === cameraId)!;
    return policy.decide(p, 'camera.view', { schoolId: c.schoolId, cameraId: c.id }).allowed;
  };
  return { service, audit, cut, policy, canWatch, db };
}

const input = { forceId: 'mp-sokolov', cameraIds: ['gw-sok:cam1'], reason: 'Vandalism at the entrance', caseRef: 'MP-SO-2026/117', legalBasis: '§ 8 zák. 553/1991 Sb.' };

describe('grant service', () => {
  it('opens a grant\'s cameras to its force only, and ends them exactly on time, cutting with the case reference audited', async () => {
    const { service, audit, cut, canWatch } = setup();
    const { grant } = service.create(as(operator), { ...input, minutes: 10 });
    expect(grant.state).toBe('active');
    expect(grant.expiresAt).toBe(Date.now() + 10 * MINUTE);
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(true);
    expect(canWatch(policeA, 'gw-sok:cam2')).toBe(false); // not in the grant
    expect(canWatch(policeB, 'gw-sok:cam1')).toBe(false); // another town's force
    const expiresAt = grant.expiresAt!;

    await vi.advanceTimersByTimeAsync(10 * MINUTE - 1);
    expect(cut).toEqual([]);
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(cut).toEqual([{ selector: { grant: grant.id }, cause: { kind: 'access_revoked', grantId: grant.id, grantEnd: 'expired' }, at: expiresAt }]);
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(false);
    expect(service.get(operator, grant.id)).toMatchObject({ state: 'expired', endedAt: expiresAt, endedBy: null });
    const ended = audit.entries.find((e) => e.kind === 'grant.expire');
    expect(ended?.detail).toMatchObject({ grantId: grant.id, caseRef: 'MP-SO-2026/117', sessionsCut: 1 });
    expect(audit.entries.find((e) => e.kind === 'grant.create')?.detail).toMatchObject({ caseRef: 'MP-SO-2026/117', forceId: 'mp-sokolov' });
  });

  it('expires at start a grant that ran out while the centre was down, and re-arms the timers of the rest', async () => {
    const first = setup();
    const short = first.service.create(as(operator), { ...input, minutes: 5 }).grant;
    const long = first.service.create(as(operator), { ...input, minutes: 60 }).grant;
    first.service.close();
    // The centre is down for 10 minutes.
    vi.setSystemTime(Date.now() + 10 * MINUTE);
    const second = setup({}, first.db);
    expect(second.service.get(operator, short.id).state).toBe('expired');
    expect(second.cut.map((c) => c.selector)).toEqual([{ grant: short.id }]);
    expect(second.audit.entries.find((e) => e.kind === 'grant.expire')?.detail).toMatchObject({ grantId: short.id, expiredWhileCentreDown: true, caseRef: input.caseRef });
    expect(second.canWatch(policeA, 'gw-sok:cam1')).toBe(true); // the long grant still runs
    await vi.advanceTimersByTimeAsync(50 * MINUTE);
    expect(second.service.get(operator, long.id).state).toBe('expired');
    expect(second.cut.at(-1)).toMatchObject({ selector: { grant: long.id }, at: long.expiresAt });
    second.service.close();
  });

  it('with the two-person rule, a grant waits for a second operator; its creator cannot approve it', () => {
    const { service, canWatch, audit } = setup({ twoPersonRule: true });
    const { grant } = service.create(as(operator), input);
    expect(grant.state).toBe('pending');
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(false);
    expect(() => service.approve(as(operator), grant.id)).toThrow(/second operator/);
    const approved = service.approve(as(operator2), grant.id);
    expect(approved).toMatchObject({ state: 'active', endorsedBy: 'operator', approvedBy: 'operator2' });
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(true);
    expect(() => service.approve(as(operator2), grant.id)).toThrow(/active; nothing to approve/); // replayed approval
    expect(audit.kinds().filter((k) => k.startsWith('grant.'))).toEqual(['grant.create', 'grant.approve']);
  });

  it('a police request opens nothing until an operator approves it; a force requests for itself only', () => {
    const { service, canWatch } = setup();
    expect(() => service.create(as(policeA), { ...input, forceId: 'mp-cheb' })).toThrow(/own force/);
    const { grant } = service.create(as(policeA), input);
    expect(grant.state).toBe('requested');
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(false);
    expect(() => service.approve(as(policeA), grant.id)).toThrow(/only operators/);
    expect(service.approve(as(operator), grant.id).state).toBe('active');
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(true);
  });

  it('refuses a grant longer than the hard maximum, and an extension past it; an extension needs no more than the rest', () => {
    const { service } = setup({ maxMinutes: 120 });
    expect(() => service.create(as(operator), { ...input, minutes: 121 })).toThrow(/at most 120/);
    const { grant } = service.create(as(operator), { ...input, minutes: 60 });
    expect(() => service.extend(as(operator), grant.id, 61, 'still searching')).toThrow(/extended by 60 more/);
    expect(service.extend(as(operator), grant.id, 60, 'still searching').expiresAt).toBe(grant.expiresAt! + 60 * MINUTE);
  });

  it('lets school IT revoke a grant on its own school only, and never one of another school', () => {
    const { service, cut } = setup();
    const own = service.create(as(operator), input).grant;
    const foreign = service.create(as(operator), { ...input, forceId: 'mp-cheb', cameraIds: ['gw-cheb:cam1'] }).grant;
    expect(() => service.revoke(as(itSokolov), foreign.id)).toThrow(/grant not found/);
    expect(() => service.revoke(as(itCheb), own.id)).toThrow(/grant not found/);
    expect(service.revoke(as(itSokolov), own.id)).toMatchObject({ state: 'revoked', endedBy: 'it-sokolov' });
    expect(cut.map((c) => c.cause)).toEqual([{ kind: 'access_revoked', grantId: own.id, grantEnd: 'revoked' }]);
    expect(() => service.revoke(as(operator), own.id)).toThrow(/already revoked/); // replayed revocation
  });

  it('an emergency opens the whole school to its town\'s force at once, for the configured minutes; raising it again returns the same grant', async () => {
    const { service, canWatch, audit } = setup();
    const changes: string[] = [];
    service.on('change', (_g, change) => changes.push(change));
    const { grant, created } = service.emergency(as(itSokolov), 'zs-sokolov', 'Intruder in the building');
    expect(created).toBe(true);
    expect(grant).toMatchObject({ state: 'active', emergency: true, forceId: 'mp-sokolov', wholeSchoolId: 'zs-sokolov', audio: false, snapshots: false });
    expect(grant.expiresAt).toBe(Date.now() + 30 * MINUTE);
    expect(changes).toEqual(['emergency']);
    expect(canWatch(policeA, 'gw-sok:cam1') && canWatch(policeA, 'gw-sok:cam2')).toBe(true);
    expect(canWatch(policeA, 'gw-cheb:cam1') || canWatch(policeB, 'gw-sok:cam1')).toBe(false);
    expect(service.emergency(as(operator), 'zs-sokolov', undefined)).toMatchObject({ created: false, grant: { id: grant.id } });
    expect(() => service.emergency(as(itCheb), 'zs-sokolov', undefined)).toThrow(/school not found/);
    expect(audit.entries.find((e) => e.kind === 'grant.emergency')?.detail).toMatchObject({ caseRef: grant.caseRef, forceId: 'mp-sokolov' });
    await vi.advanceTimersByTimeAsync(30 * MINUTE);
    expect(canWatch(policeA, 'gw-sok:cam1')).toBe(false);
    expect(changes).toEqual(['emergency', 'ended']);
  });

  it('issues RTSP credentials whose Digest HA1 works only while the grant is active, and never stores the password', () => {
    const { service, db: file } = setup();
    const { grant, rtsp } = service.create(as(operator), { ...input, cameraIds: ['gw-sok:cam1', 'gw-sok:cam2'] });
    expect(rtsp.map((r) => r.cameraId)).toEqual(['gw-sok:cam1', 'gw-sok:cam2']);
    const url = new URL(rtsp[0].url);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe(`rtsp://127.0.0.1:8554/grant/${grant.id}/gw-sok%3Acam1`);
    const found = service.lookup(url.username);
    expect(found).toEqual({ grantId: grant.id, caseRef: input.caseRef, forceId: 'mp-sokolov', ha1: digestHa1(url.username, decodeURIComponent(url.password)), cameraIds: ['gw-sok:cam1', 'gw-sok:cam2'] });
    expect(found?.ha1).toBe(digestHa1(url.username, decodeURIComponent(url.password), RTSP_REALM));
    expect(JSON.stringify(file.prepare('SELECT * FROM grants').all())).not.toContain(decodeURIComponent(url.password));
    expect(service.lookup('g0000000000000000')).toBeUndefined(); // forged user name
    service.revoke(as(operator), grant.id);
    expect(service.lookup(url.username)).toBeUndefined();
  });

  it('allows snapshots under a grant only when the grant says so; live view always', () => {
    const { service, policy } = setup();
    const record = { schoolId: 'zs-sokolov', cameraId: 'gw-sok:cam1' };
    const liveOnly = service.create(as(operator), input).grant;
    expect(policy.decide(policeA, 'camera.view', record).allowed).toBe(true);
    expect(policy.decide(policeA, 'camera.snapshot', record)).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
    service.create(as(operator), { ...input, snapshots: true });
    expect(policy.decide(policeA, 'camera.snapshot', record)).toMatchObject({ allowed: true, basis: { kind: 'grant' } });
    expect(service.get(operator, liveOnly.id).snapshots).toBe(false);
  });

  it('records the first view under a grant as its use, once', () => {
    const { service, audit } = setup();
    const { grant } = service.create(as(operator), input);
    const view = { basis: { kind: 'grant', grantId: grant.id }, owner: { ...policeA, address: '10.0.0.9' }, camera: { id: 'gw-sok:cam1', schoolId: 'zs-sokolov' } };
    service.viewStarted(view);
    service.viewStarted(view);
    const used = audit.entries.filter((e) => e.kind === 'grant.use');
    expect(used).toHaveLength(1);
    expect(used[0]).toMatchObject({ actor: { username: 'police-sokolov' }, cameraId: 'gw-sok:cam1', detail: { caseRef: input.caseRef } });
  });
});
