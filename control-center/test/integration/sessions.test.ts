import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/auth/totp';
import { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, type FakeGateway, openViewer, until } from '../support/centre-fixture';

let fx: CentreFixture;
let admin: CentreClient;
let auditor: CentreClient;
let gateway: FakeGateway;

const signIn = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${fx.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function auditEntries(kind: string): Promise<{ actor: string | null; target: string | null; outcome: string; cameraId: string | null; detail: Record<string, unknown> }[]> {
  return (await auditor.get<{ entries: { actor: string | null; target: string | null; outcome: string; cameraId: string | null; detail: Record<string, unknown> }[] }>(`/api/audit?kind=${kind}&limit=1000`)).body.entries;
}

beforeAll(async () => {
  fx = await CentreFixture.start({ totpRequiredFor: ['police'], login: { maxFailuresPerUser: 3, lockMinutes: 15, windowMinutes: 15, maxFailuresPerAddress: 1000 } });
  admin = await fx.signIn(ACCOUNTS.admin);
  auditor = await fx.signIn(ACCOUNTS.auditor);
  gateway = await fx.connectGateway(admin, 'gw-sok', 'zs-sokolov', ['vchod']);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('sign-in and sessions over HTTP', () => {
  it('signs in with the contract\'s body and an httpOnly, SameSite=Strict session cookie', async () => {
    const res = await signIn({ username: ACCOUNTS.operator.username, password: ACCOUNTS.operator.password });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['csrfToken', 'user']);
    expect(body.user).toEqual({ username: 'operator', role: 'operator', org: 'kvk' });
    const cookie = res.headers.getSetCookie()[0];
    expect(cookie).toMatch(/^schoolcam_session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    const again = await fetch(`${fx.url}/api/session`, { headers: { cookie: cookie.split(';')[0] } });
    expect(await again.json()).toEqual(body);
  });

  it('answers a wrong password and an unknown user alike with 401 UNAUTHORIZED, and audits both', async () => {
    const a = await signIn({ username: ACCOUNTS.school_it.username, password: 'wrong-password' });
    const b = await signIn({ username: 'nobody-at-all', password: 'wrong-password' });
    expect([a.status, b.status]).toEqual([401, 401]);
    const ba = (await a.json()) as Record<string, unknown>;
    const bb = (await b.json()) as Record<string, unknown>;
    expect(ba).toEqual(bb);
    expect(ba).toMatchObject({ error: 'UNAUTHORIZED' });
    const refused = await auditEntries('login');
    expect(refused.some((e) => e.outcome === 'refused' && e.target === 'nobody-at-all' && e.detail.reason === 'unknown_user')).toBe(true);
    expect(refused.some((e) => e.outcome === 'refused' && e.actor === ACCOUNTS.school_it.username && e.detail.reason === 'bad_password')).toBe(true);
  });

  it('locks an account after repeated failures: 429 with Retry-After, even for the right password', async () => {
    const created = await admin.post<{ id: string }>('/api/users', { username: 'lock-me', password: 'the-right-password', role: 'operator', orgId: 'kvk' });
    expect(created.status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await signIn({ username: 'lock-me', password: 'guess-guess' })).status).toBe(401);
    const locked = await signIn({ username: 'lock-me', password: 'the-right-password' });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await locked.json()).toMatchObject({ error: 'LOCKED' });
    expect((await auditEntries('login')).some((e) => e.target === 'lock-me' && e.detail.reason === 'locked')).toBe(true);
  });

  it('refuses a forged, absent or ended session cookie', async () => {
    for (const cookie of ['', 'schoolcam_session=forged', `schoolcam_session=${'A'.repeat(43)}`]) {
      const res = await fetch(`${fx.url}/api/cameras`, { headers: cookie ? { cookie } : {} });
      expect(res.status).toBe(401);
    }
  });

  it('needs the x-csrf-token header on every state change: without it 403 and nothing changes', async () => {
    const before = fx.dataDigest();
    const body = JSON.stringify({ id: 'zs-csrf', kind: 'school', name: 'CSRF', parentId: 'cheb' });
    const headers = { cookie: admin.cookie, 'content-type': 'application/json' };
    const none = await fetch(`${fx.url}/api/orgs`, { method: 'POST', headers, body });
    const wrongToken = await fetch(`${fx.url}/api/orgs`, { method: 'POST', headers: { ...headers, 'x-csrf-token': 'not-it' }, body });
    const foreign = await fetch(`${fx.url}/api/orgs`, { method: 'POST', headers: { ...headers, 'x-csrf-token': admin.csrfToken, origin: 'https://evil.example' }, body });
    expect([none.status, wrongToken.status, foreign.status]).toEqual([403, 403, 403]);
    expect(await none.json()).toMatchObject({ error: 'CSRF' });
    expect(fx.dataDigest()).toBe(before);
    const logout = await fetch(`${fx.url}/api/session`, { method: 'DELETE', headers: { cookie: admin.cookie } });
    expect(logout.status).toBe(403); // sign-out is a state change too
    expect((await admin.get('/api/session')).status).toBe(200);
  });

  it('signing out ends the session on the server and cuts its live views at once, audited', async () => {
    const it_ = await fx.signIn(ACCOUNTS.school_it);
    const viewer = await openViewer(fx.url, it_.cookie);
    if (typeof viewer === 'number') throw new Error(`viewer refused ${viewer}`);
    viewer.ws.send(JSON.stringify({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' }));
    await until(() => viewer.events.some((e) => e.type === 'offer'), 'an offer');
    expect(gateway.messages.some((m) => m.type === 'stream.start')).toBe(true);
    expect((await it_.delete('/api/session')).status).toBe(204);
    expect(await viewer.closed).toBe(4401);
    expect(viewer.events.find((e) => e.type === 'signed-out')).toMatchObject({ cause: { kind: 'logout' } });
    expect((await it_.get('/api/session')).status).toBe(401);
    expect(fx.centre.liveViews.list().filter((v) => v.owner.username === ACCOUNTS.school_it.username)).toEqual([]);
    const stops = await auditEntries('view.stop');
    expect(stops.some((e) => e.actor === ACCOUNTS.school_it.username && e.cameraId === 'gw-sok:vchod' && e.detail.cause === 'logout' && typeof e.detail.durationMs === 'number')).toBe(true);
    expect((await auditEntries('logout')).some((e) => e.actor === ACCOUNTS.school_it.username)).toBe(true);
  });

  it('disabling an account cuts its running views and sockets, and it can no longer sign in', async () => {
    await admin.post('/api/users', { username: 'temp-operator', password: 'temp-password-1', role: 'operator', orgId: 'kvk' });
    const temp = await CentreClient.signIn(fx.url, 'temp-operator', 'temp-password-1');
    const viewer = await openViewer(fx.url, temp.cookie);
    if (typeof viewer === 'number') throw new Error(`viewer refused ${viewer}`);
    viewer.ws.send(JSON.stringify({ type: 'watch', tile: 't1', cameraId: 'gw-sok:vchod' }));
    await until(() => viewer.events.some((e) => e.type === 'offer'), 'an offer');
    const id = (await admin.get<{ users: { id: string; username: string }[] }>('/api/users')).body.users.find((u) => u.username === 'temp-operator')!.id;
    expect((await admin.patch(`/api/users/${id}`, { disabled: true })).status).toBe(200);
    expect(await viewer.closed).toBe(4401);
    expect(viewer.events.find((e) => e.type === 'signed-out')).toMatchObject({ cause: { kind: 'user_disabled' } });
    expect((await signIn({ username: 'temp-operator', password: 'temp-password-1' })).status).toBe(401);
    expect((await auditEntries('view.stop')).some((e) => e.actor === 'temp-operator' && e.detail.cause === 'user_disabled')).toBe(true);
  });

  it('asks for a one-time code where TOTP is set or required, and refuses a replayed one', async () => {
    const police = await signIn({ username: ACCOUNTS.police.username, password: ACCOUNTS.police.password });
    expect(police.status).toBe(401);
    expect(await police.json()).toMatchObject({ error: 'TOTP_NOT_SET_UP' }); // required for police, not issued yet
    const id = (await admin.get<{ users: { id: string; username: string }[] }>('/api/users')).body.users.find((u) => u.username === ACCOUNTS.police.username)!.id;
    const issued = await admin.post<{ secret: string; otpauthUri: string }>(`/api/users/${id}/totp`);
    expect(issued.body.otpauthUri).toContain(`secret=${issued.body.secret}`);
    const noCode = await signIn({ username: ACCOUNTS.police.username, password: ACCOUNTS.police.password });
    expect(await noCode.json()).toMatchObject({ error: 'TOTP_REQUIRED' });
    const code = totpCode(issued.body.secret, Date.now());
    expect((await signIn({ username: ACCOUNTS.police.username, password: ACCOUNTS.police.password, totp: code })).status).toBe(200);
    const replay = await signIn({ username: ACCOUNTS.police.username, password: ACCOUNTS.police.password, totp: code });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'UNAUTHORIZED' });
  });

  it('tells liveness and readiness without counts, and sends strict security headers', async () => {
    expect(await (await fetch(`${fx.url}/livez`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${fx.url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect((await fetch(`${fx.url}/api/health`)).status).toBe(404);
    const page = await fetch(`${fx.url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const docs = (await (await fetch(`${fx.url}/docs`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/api/session', '/api/cameras', '/api/cameras/{id}', '/api/gateways/enroll', '/api/audit/export']));
  });
});
