import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlCenter } from '../../src/server';
import { digestHa1 } from '../../src/grants/rtsp-credentials';
import { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, type FixtureAccount, openViewer, until } from '../support/centre-fixture';

/**
 * Police grants over the real API and viewer socket of a centre on a real SQLite file, with
 * gateways on the link: who sees what, live cuts when a grant ends, emergencies pushed to the
 * dashboards, and refusals of forged, revoked, expired and replayed grant ids.
 */
const EXTRA: FixtureAccount[] = [
  { role: 'operator', username: 'operator2', password: 'operator2-password-1', org: 'kvk' },
  { role: 'police', username: 'police-cheb', password: 'police-cheb-password-1', org: 'mp-cheb' },
];
const RTSP_BASE = 'rtsp://127.0.0.1:8554';
const OWN = 'gw-sok:cam';
const OTHER = 'gw-sok:cam2';
const CHEB = 'gw-cheb:cam';

let fx: CentreFixture;
let operator: CentreClient;
let operator2: CentreClient;
let policeA: CentreClient;
let policeB: CentreClient;
let itSokolov: CentreClient;
let auditor: CentreClient;

interface Grant {
  id: string;
  state: string;
  expiresAt: number | null;
  caseRef: string;
  cameraIds: string[];
  rtsp: { cameraId: string; url: string }[];
}
type Viewer = Exclude<Awaited<ReturnType<typeof openViewer>>, number>;

const body = (caseRef: string, extra: Record<string, unknown> = {}) => ({
  forceId: 'mp-sokolov',
  cameraIds: [OWN],
  reason: 'Poškozování majetku u vchodu',
  caseRef,
  legalBasis: '§ 8 zák. 553/1991 Sb.',
  minutes: 60,
  ...extra,
});

async function grant(caseRef: string, extra: Record<string, unknown> = {}): Promise<Grant> {
  const res = await operator.post<Grant>('/api/grants', body(caseRef, extra));
  expect(res.status).toBe(201);
  return res.body;
}

async function viewer(client: CentreClient): Promise<Viewer> {
  const v = await openViewer(fx.url, client.cookie);
  if (typeof v === 'number') throw new Error(`viewer socket refused: ${v}`);
  return v;
}

/** Sends `watch` and waits for the offer or the refusal of that tile. */
async function watch(v: Viewer, tile: string, cameraId: string): Promise<Record<string, unknown>> {
  v.ws.send(JSON.stringify({ type: 'watch', tile, cameraId }));
  await until(() => v.events.some((e) => e.tile === tile && (e.type === 'offer' || e.type === 'error')), `the reply to watch ${tile}`, 10_000);
  return v.events.find((e) => e.tile === tile && (e.type === 'offer' || e.type === 'error'))!;
}

const camerasOf = async (c: CentreClient): Promise<string[]> => (await c.get<{ cameras: { id: string }[] }>('/api/cameras')).body.cameras.map((x) => x.id).sort();

beforeAll(async () => {
  fx = await CentreFixture.start({ rtspExport: { publicUrl: RTSP_BASE }, limits: { requestsPerMinute: 100_000 } }, [...Object.values(ACCOUNTS), ...EXTRA]);
  const admin = await fx.signIn(ACCOUNTS.admin);
  operator = await fx.signIn(ACCOUNTS.operator);
  operator2 = await fx.signIn(EXTRA[0]);
  policeA = await fx.signIn(ACCOUNTS.police);
  policeB = await fx.signIn(EXTRA[1]);
  itSokolov = await fx.signIn(ACCOUNTS.school_it);
  auditor = await fx.signIn(ACCOUNTS.auditor);
  await fx.connectGateway(admin, 'gw-sok', 'zs-sokolov', ['cam', 'cam2']);
  await fx.connectGateway(admin, 'gw-cheb', 'gym-cheb', ['cam']);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('police grants (centre API and viewer socket)', () => {
  it('answers POST /api/grants with 201, the expiry and per-camera RTSP URLs whose credentials the re-export can check', async () => {
    const before = Date.now();
    const g = await grant('MP-SO-2026/201', { cameraIds: [OWN, OTHER] });
    expect(g.state).toBe('active');
    expect(g.expiresAt).toBeGreaterThanOrEqual(before + 60 * 60_000);
    expect(g.rtsp.map((r) => r.cameraId)).toEqual([OWN, OTHER]);
    const url = new URL(g.rtsp[0].url);
    expect(`${url.protocol}//${url.host}`).toBe(RTSP_BASE);
    expect(url.pathname).toBe(`/grant/${g.id}/${encodeURIComponent(OWN)}`);
    const found = fx.centre.rtspGrants.lookup(url.username);
    expect(found).toMatchObject({ grantId: g.id, caseRef: 'MP-SO-2026/201', forceId: 'mp-sokolov', cameraIds: [OWN, OTHER] });
    expect(found?.ha1).toBe(digestHa1(url.username, decodeURIComponent(url.password)));
    // The list never carries credentials.
    const listed = (await operator.get<{ grants: Record<string, unknown>[] }>('/api/grants')).body.grants.find((x) => x.id === g.id)!;
    expect(JSON.stringify(listed)).not.toContain(decodeURIComponent(url.password));
    expect((await operator.post(`/api/grants/${g.id}/revoke`)).status).toBe(200);
    expect(fx.centre.rtspGrants.lookup(url.username)).toBeUndefined(); // revoked credentials stop working
  });

  it('police see exactly their force\'s granted cameras; the police of another town cannot list or open them', async () => {
    const g = await grant('MP-SO-2026/202');
    expect(await camerasOf(policeA)).toEqual([OWN]);
    expect(await camerasOf(policeB)).toEqual([]);
    expect((await policeB.get(`/api/cameras/${encodeURIComponent(OWN)}`)).status).toBe(404);
    expect((await policeB.get<{ grants: unknown[] }>('/api/grants')).body.grants.some((x) => (x as { id: string }).id === g.id)).toBe(false);
    // The officer cannot list the school or the force, yet reads their names on the grant.
    const seen = (await policeA.get<{ grants: { id: string; names: Record<string, string> }[] }>('/api/grants')).body.grants.find((x) => x.id === g.id)!;
    expect(Object.keys(seen.names).sort()).toEqual(['mp-sokolov', 'zs-sokolov']);
    expect(seen.names['zs-sokolov']).toMatch(/Sokolov/);
    const vb = await viewer(policeB);
    expect(await watch(vb, 'b1', OWN)).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    const va = await viewer(policeA);
    expect(await watch(va, 'a1', OWN)).toMatchObject({ type: 'offer' });
    expect(await watch(va, 'a2', OTHER)).toMatchObject({ type: 'error', code: 'NOT_FOUND' }); // same school, not in the grant
    expect(await watch(va, 'a3', CHEB)).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    va.ws.close();
    vb.ws.close();
    await operator.post(`/api/grants/${g.id}/revoke`);
  });

  it('revoking cuts the live view within a second, tells the page why, audits the cut with the case reference, and refuses the grant from then on', async () => {
    const g = await grant('MP-SO-2026/203');
    const va = await viewer(policeA);
    expect(await watch(va, 'r1', OWN)).toMatchObject({ type: 'offer' });
    // Who is watching: the officer, under the grant, visible to the school and the region.
    const watchers = (await itSokolov.get<{ viewers: Record<string, unknown>[] }>(`/api/cameras/${encodeURIComponent(OWN)}/viewers`)).body.viewers;
    expect(watchers).toEqual([expect.objectContaining({ user: 'police-sokolov', organisation: 'mp-sokolov', grant: { id: g.id, caseRef: 'MP-SO-2026/203' } })]);
    expect((await policeA.get(`/api/cameras/${encodeURIComponent(OWN)}/viewers`)).status).toBe(403);

    const t0 = Date.now();
    expect((await operator2.post(`/api/grants/${g.id}/revoke`)).status).toBe(200);
    await until(() => va.events.some((e) => e.type === 'ended' && e.tile === 'r1'), 'the page told the view ended', 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    const ended = va.events.find((e) => e.type === 'ended' && e.tile === 'r1')!;
    expect(ended).toMatchObject({ cause: { kind: 'access_revoked', grantId: g.id, grantEnd: 'revoked' }, reason: 'the police grant was revoked' });
    expect(fx.centre.liveViews.list().filter((v) => v.camera.id === OWN)).toEqual([]);
    const stops = (await auditor.get<{ entries: { actor: string; detail: Record<string, unknown> }[] }>('/api/audit?kind=view.stop&limit=50')).body.entries;
    expect(stops.find((e) => e.detail.grantId === g.id)).toMatchObject({ actor: 'police-sokolov', detail: { cause: 'access_revoked', grantEnd: 'revoked', caseRef: 'MP-SO-2026/203' } });
    const revoked = (await auditor.get<{ entries: { actor: string; detail: Record<string, unknown> }[] }>('/api/audit?kind=grant.revoke&limit=50')).body.entries;
    expect(revoked.find((e) => e.detail.grantId === g.id)).toMatchObject({ actor: 'operator2', detail: { caseRef: 'MP-SO-2026/203', sessionsCut: 1 } });
    const used = (await auditor.get<{ entries: { detail: Record<string, unknown> }[] }>('/api/audit?kind=grant.use&limit=50')).body.entries;
    expect(used.some((e) => e.detail.grantId === g.id)).toBe(true);

    // From now on the grant opens nothing, and replaying it is refused at every entry point.
    expect(await watch(va, 'r2', OWN)).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await camerasOf(policeA)).toEqual([]);
    for (const action of ['revoke', 'approve']) expect((await operator.post(`/api/grants/${g.id}/${action}`)).status).toBe(409);
    expect((await operator.post(`/api/grants/${g.id}/extend`, { minutes: 10, reason: 'again' })).status).toBe(409);
    va.ws.close();
  });

  it('an answer sent for an offer made before the revocation is refused: the view is gone', async () => {
    const g = await grant('MP-SO-2026/204');
    const va = await viewer(policeA);
    expect(await watch(va, 'x1', OWN)).toMatchObject({ type: 'offer' });
    await operator.post(`/api/grants/${g.id}/revoke`);
    va.ws.send(JSON.stringify({ type: 'answer', tile: 'x1', sdp: 'v=0\r\n' }));
    await until(() => va.events.some((e) => e.type === 'error' && e.tile === 'x1'), 'the refusal of the late answer');
    expect(va.events.find((e) => e.type === 'error' && e.tile === 'x1')).toMatchObject({ code: 'NO_OFFER' });
    va.ws.close();
  });

  it('refuses forged and malformed grant ids at the API', async () => {
    const forged = '2b7e1516-28ae-4d2a-a6ab-f7158809cf4f';
    for (const action of ['revoke', 'approve']) {
      expect((await operator.post(`/api/grants/${forged}/${action}`)).status).toBe(404);
      expect((await operator.post(`/api/grants/not-a-grant/${action}`)).status).toBe(400);
    }
    expect((await operator.post(`/api/grants/${forged}/extend`, { minutes: 5, reason: 'x' })).status).toBe(404);
    expect(fx.centre.rtspGrants.lookup('g0123456789abcdef')).toBeUndefined();
  });

  it('refuses bad grants with a clear message: no cameras and no school, both, unknown camera, a school as force, too long, extension without a reason', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ cameraIds: undefined }, /either cameraIds or schoolId/],
      [{ schoolId: 'zs-sokolov' }, /either cameraIds or schoolId/],
      [{ cameraIds: ['gw-sok:nope'] }, /camera gw-sok:nope is unknown/],
      [{ forceId: 'zs-sokolov' }, /not a police force/],
      [{ minutes: 24 * 60 + 1 }, /at most 1440/],
    ];
    for (const [extra, message] of cases) {
      const res = await operator.post<{ error: string; message: string }>('/api/grants', body('BAD', extra));
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    const g = await grant('MP-SO-2026/205');
    expect((await operator.post(`/api/grants/${g.id}/extend`, { minutes: 10 })).status).toBe(400);
    await operator.post(`/api/grants/${g.id}/revoke`);
  });

  it('an emergency raised by the school reaches the police dashboard within 2 s with its cameras; ending it cuts the police session', async () => {
    const va = await viewer(policeA);
    const school = await viewer(itSokolov);
    await until(() => va.events.some((e) => e.type === 'cameras'), 'the first camera list');
    const t0 = Date.now();
    const res = await itSokolov.post<Grant>('/api/schools/zs-sokolov/emergency', { reason: 'Cizí osoba v budově' });
    expect(res.status).toBe(201);
    const pushed = (e: Record<string, unknown>): boolean => e.type === 'grant' && e.change === 'emergency' && (e.grant as { id: string }).id === res.body.id;
    await until(() => va.events.some(pushed) && va.events.some((e) => e.type === 'cameras' && (e.cameras as { id: string }[]).some((c) => c.id === OWN)), 'the emergency on the police dashboard', 2000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(school.events.some(pushed)).toBe(true); // the school sees it too
    expect(va.events.find(pushed)?.grant).toMatchObject({ forceId: 'mp-sokolov', wholeSchoolId: 'zs-sokolov', cameraIds: [OWN, OTHER], emergency: true, audio: false });
    expect(await camerasOf(policeA)).toEqual([OWN, OTHER]);
    expect(await camerasOf(policeB)).toEqual([]); // Cheb's force is not Sokolov's
    expect(await watch(va, 'e1', OTHER)).toMatchObject({ type: 'offer' });
    // Extending needs a reason; the school may extend its own emergency.
    expect((await itSokolov.post(`/api/grants/${res.body.id}/extend`, { minutes: 15, reason: 'Zásah stále probíhá' })).status).toBe(200);
    // One action ends it.
    expect((await itSokolov.post(`/api/grants/${res.body.id}/revoke`)).status).toBe(200);
    await until(() => va.events.some((e) => e.type === 'ended' && e.tile === 'e1'), 'the police view cut', 1000);
    await until(() => va.events.some((e) => e.type === 'grant' && e.change === 'ended'), 'the end pushed', 2000);
    const kinds = (await auditor.get<{ entries: { kind: string; detail: Record<string, unknown> }[] }>('/api/audit?limit=200')).body.entries.filter((e) => e.detail.grantId === res.body.id).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['grant.emergency', 'grant.use', 'grant.extend', 'grant.revoke']));
    va.ws.close();
    school.ws.close();
  });

  it('with the two-person rule, a second operator\'s approval is what opens the cameras, pushed to the force', async () => {
    const strict = await CentreFixture.start({ grants: { twoPersonRule: true } }, [...Object.values(ACCOUNTS), ...EXTRA]);
    try {
      const admin = await strict.signIn(ACCOUNTS.admin);
      await strict.connectGateway(admin, 'gw-sok', 'zs-sokolov', ['cam']);
      const op1 = await strict.signIn(ACCOUNTS.operator);
      const op2 = await strict.signIn(EXTRA[0]);
      const police = await strict.signIn(ACCOUNTS.police);
      const created = await op1.post<Grant>('/api/grants', body('MP-SO-2026/206'));
      expect(created.body.state).toBe('pending');
      expect(created.body.expiresAt).toBeNull();
      expect((await police.get<{ cameras: unknown[] }>('/api/cameras')).body.cameras).toEqual([]);
      expect((await op1.post(`/api/grants/${created.body.id}/approve`)).status).toBe(403);
      const va = await openViewer(strict.url, police.cookie);
      if (typeof va === 'number') throw new Error(`viewer refused ${va}`);
      const approved = await op2.post<Grant>(`/api/grants/${created.body.id}/approve`);
      expect(approved.body).toMatchObject({ state: 'active', approvedBy: 'operator2', endorsedBy: 'operator' });
      await until(() => va.events.some((e) => e.type === 'grant' && e.change === 'active'), 'the approval pushed to the force', 2000);
      expect((await police.get<{ cameras: { id: string }[] }>('/api/cameras')).body.cameras.map((c) => c.id)).toEqual([OWN]);
      va.ws.close();
    } finally {
      await strict.close();
    }
  });

  it('a grant that expired while the centre was down is expired at start; one still running is re-armed and ends on time', async () => {
    const dir = await CentreFixture.start();
    const admin = await dir.signIn(ACCOUNTS.admin);
    await dir.connectGateway(admin, 'gw-sok', 'zs-sokolov', ['cam']);
    const op = await dir.signIn(ACCOUNTS.operator);
    const overdue = (await op.post<Grant>('/api/grants', body('MP-SO-2026/207'))).body;
    const soon = (await op.post<Grant>('/api/grants', body('MP-SO-2026/208'))).body;
    await dir.centre.close();
    // While the centre is down, the first grant's time passes and the second's nearly does.
    const db = new Database(dir.dbFile);
    db.prepare('UPDATE grants SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, overdue.id);
    db.prepare('UPDATE grants SET expires_at = ? WHERE id = ?').run(Date.now() + 2500, soon.id);
    db.close();
    const again = await ControlCenter.create({ dataDir: dir.dir, port: 0, loopbackOnly: true }, { logger: pino({ level: 'silent' }) });
    try {
      const op2 = await CentreClient.signIn(again.url, ACCOUNTS.operator.username, ACCOUNTS.operator.password);
      const states = async (): Promise<Record<string, string>> =>
        Object.fromEntries((await op2.get<{ grants: Grant[] }>('/api/grants')).body.grants.map((g) => [g.id, g.state]));
      expect((await states())[overdue.id]).toBe('expired');
      expect((await states())[soon.id]).toBe('active');
      await until(async () => (await states())[soon.id] === 'expired', 'the re-armed grant to expire', 6000);
      const aud = await CentreClient.signIn(again.url, ACCOUNTS.auditor.username, ACCOUNTS.auditor.password);
      const expired = (await aud.get<{ entries: { detail: Record<string, unknown> }[] }>('/api/audit?kind=grant.expire')).body.entries;
      expect(expired.find((e) => e.detail.grantId === overdue.id)?.detail).toMatchObject({ expiredWhileCentreDown: true, caseRef: 'MP-SO-2026/207' });
      expect(expired.find((e) => e.detail.grantId === soon.id)?.detail.expiredWhileCentreDown).toBeUndefined();
    } finally {
      await again.close();
      await dir.close();
    }
  });
});
