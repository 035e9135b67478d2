import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/access/principal';
import type { AlarmView } from '../../src/alarms/alarm-view';
import { VIEWER_EVENT_TYPES, VIEWER_REQUEST_TYPES, type ViewerEvent, type ViewerRequest } from '../../src/viewer/viewer-messages';
import { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, type FakeGateway, openViewer, until } from '../support/centre-fixture';

/**
 * The authorization matrix: every registered route and every viewer-socket message type,
 * tried as each role against its own organisation and a foreign one, and as anonymous. The
 * list of routes comes from the running centre, so a route added without an expectation
 * here fails this test.
 *
 * "Own" is Sokolov (school zs-sokolov, force mp-sokolov), "foreign" is Cheb (gym-cheb). The
 * region's roles (admin, operator, auditor) own both.
 */
type Caller = Role | 'anonymous';
type Target = 'own' | 'foreign';
const ROLES: Role[] = ['admin', 'operator', 'police', 'school_it', 'auditor'];
const CALLERS: Caller[] = [...ROLES, 'anonymous'];
const METRICS_TOKEN = 'matrix-metrics-token-0123456789';

interface Req {
  path: string;
  body?: unknown;
  /** Send with this client instead of the caller's (a fresh session, for sign-out). */
  client?: CentreClient | null;
}

interface RouteCase {
  /** Builds the request. Called once per caller and target, so state-changing routes get fresh objects. */
  request(caller: Caller, target: Target): Promise<Req> | Req;
  /** Status per caller; an object when own and foreign differ. */
  expect: Record<Caller, number | Record<Target, number>>;
  /** Whether the route acts on an organisation-bound resource (own/foreign both tried). */
  targeted?: boolean;
  /** Extra checks on a 2xx body (scope of lists). */
  check?(caller: Caller, body: unknown): void;
  /** Undoes what the request left that would change other rows' answers (a grant left active). */
  cleanup?(): Promise<void>;
}

const all = (status: number): Record<Caller, number> => ({ admin: status, operator: status, police: status, school_it: status, auditor: status, anonymous: status });
const only = (role: Role, status: number): Record<Caller, number> => ({ ...all(403), anonymous: 401, [role]: status });
const signedIn = (status: number): Record<Caller, number> => ({ ...all(status), anonymous: 401 });
/** Managing a school's cameras: its own school's IT and the region's admin; the other region roles may not; police see no school. */
const manage = (status: number): Record<Caller, number | Record<Target, number>> => ({ admin: status, school_it: { own: status, foreign: 404 }, operator: 403, auditor: 403, police: 404, anonymous: 401 });
const registrationFacts = (): Record<string, unknown> => ({ purpose: 'Ochrana vstupu', legalBasis: 'čl. 6 odst. 1 písm. f) GDPR', retentionHours: 48 });

let fx: CentreFixture;
const clients = {} as Record<Role, CentreClient>;
let admin: CentreClient;
const gateways = {} as Record<Target, FakeGateway>;
const camera = (t: Target): string => `${gateways[t].id}:cam`;
const school = (t: Target): string => (t === 'own' ? 'zs-sokolov' : 'gym-cheb');

async function freshUser(): Promise<string> {
  const res = await admin.post<{ id: string }>('/api/users', { username: `u-${randomBytes(4).toString('hex')}`, password: 'a-long-password-1', role: 'operator', orgId: 'kvk' });
  return res.body.id;
}
/** A new camera on a target's gateway, registered through the API by the admin. */
async function freshCamera(t: Target): Promise<string> {
  const id = `c-${randomBytes(4).toString('hex')}`;
  const res = await admin.post<{ camera: { id: string } }>(`/api/schools/${school(t)}/cameras`, registration(id));
  if (res.status !== 201) throw new Error(`registering a camera: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.camera.id;
}
const registration = (id: string): Record<string, unknown> => ({
  id,
  name: 'Nová kamera',
  rtsp: { url: 'rtsp://10.0.0.7/stream1', username: 'u', password: 'camera-password' },
  purpose: 'Ochrana vstupu',
  legalBasis: 'čl. 6 odst. 1 písm. f) GDPR',
  retentionHours: 72,
});
/** A new open alarm on a target's gateway (motion on a camera of its own), as the centre lists it. */
async function freshAlarm(t: Target): Promise<string> {
  const local = `m-${randomBytes(4).toString('hex')}`;
  const eventId = randomBytes(16).toString('hex');
  gateways[t].send({ type: 'events', events: [{ id: eventId, seq: ++eventSeq, cameraId: local, kind: 'motion', active: true, at: Date.now() }] });
  await until(() => gateways[t].messages.some((m) => m.type === 'events.ack' && m.ids.includes(eventId)), 'the event acked');
  const listed = await clients.operator.get<{ alarms: { id: string }[] }>(`/api/alarms?cameraId=${encodeURIComponent(`${gateways[t].id}:${local}`)}`);
  return listed.body.alarms[0].id;
}
let eventSeq = 0;
async function freshGateway(t: Target): Promise<{ id: string; token: string }> {
  const id = `gw-${randomBytes(4).toString('hex')}`;
  const res = await admin.post<{ enrolment: { token: string } }>('/api/gateways', { id, schoolId: school(t), name: 'Matrix' });
  return { id, token: res.body.enrolment.token };
}

/** A grant by the operator: `own` to Sokolov's force on Sokolov's camera, `foreign` to Cheb's on Cheb's. */
const GRANT_BODY = (t: Target) => ({
  forceId: t === 'own' ? 'mp-sokolov' : 'mp-cheb',
  cameraIds: [camera(t)],
  reason: 'Matrix',
  caseRef: `M-${randomBytes(3).toString('hex')}`,
  legalBasis: '§ 8 zák. 553/1991 Sb.',
  minutes: 60,
});
/** Grants the current row created: revoked after each request so no other row sees a police grant. */
const lastGrants: string[] = [];
async function freshGrant(t: Target, by: CentreClient = admin): Promise<string> {
  const res = await by.post<{ id: string }>('/api/grants', GRANT_BODY(t));
  if (res.status !== 201) throw new Error(`grant create: ${res.status} ${JSON.stringify(res.body)}`);
  lastGrants.push(res.body.id);
  return res.body.id;
}
async function revokeLastGrants(): Promise<void> {
  for (const id of lastGrants.splice(0)) await clients.operator.post(`/api/grants/${id}/revoke`); // 409 when already ended: fine
  // An emergency raised by the row (any school) ends too.
  const open = (await clients.operator.get<{ grants: { id: string; state: string }[] }>('/api/grants')).body.grants.filter((g) => g.state === 'active' || g.state === 'pending' || g.state === 'requested');
  for (const g of open) await clients.operator.post(`/api/grants/${g.id}/revoke`);
}

const CASES: Record<string, RouteCase> = {
  'GET /': { request: () => ({ path: '/' }), expect: all(200) },
  'GET /assets/:file': { request: async () => ({ path: /"(\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${fx.url}/`)).text())![1] }), expect: all(200) },
  'GET /docs': { request: () => ({ path: '/docs' }), expect: all(200) },
  'GET /livez': { request: () => ({ path: '/livez' }), expect: all(200) },
  'GET /readyz': { request: () => ({ path: '/readyz' }), expect: all(200) },
  'GET /metrics': { request: () => ({ path: '/metrics' }), expect: all(401) }, // a session is not the metrics token
  'POST /api/session': {
    request: (c) => ({ path: '/api/session', client: null, body: c === 'anonymous' ? { username: 'operator', password: 'not-the-password' } : { username: ACCOUNTS[c].username, password: ACCOUNTS[c].password } }),
    expect: { ...all(200), anonymous: 401 },
  },
  'GET /api/session': {
    request: () => ({ path: '/api/session' }),
    expect: signedIn(200),
    check: (c, body) => expect((body as { user: { role: string } }).user.role).toBe(c),
  },
  'DELETE /api/session': {
    request: async (c) => ({ path: '/api/session', client: c === 'anonymous' ? null : await CentreClient.signIn(fx.url, ACCOUNTS[c].username, ACCOUNTS[c].password) }),
    expect: signedIn(204),
  },
  'GET /api/orgs': {
    request: () => ({ path: '/api/orgs' }),
    expect: signedIn(200),
    check: (c, body) => {
      const ids = (body as { orgs: { id: string }[] }).orgs.map((o) => o.id).sort();
      if (c === 'school_it') expect(ids).toEqual(['kvk', 'sokolov', 'zs-sokolov']);
      else if (c === 'police') expect(ids).toEqual(['kvk', 'mp-sokolov', 'sokolov']);
      else expect(ids).toContain('gym-cheb');
    },
  },
  'POST /api/orgs': { request: () => ({ path: '/api/orgs', body: { id: `zs-${randomBytes(4).toString('hex')}`, kind: 'school', name: 'ZŠ Nová', parentId: 'cheb' } }), expect: only('admin', 201) },
  'PATCH /api/orgs/:id': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/orgs/${school(t)}`, body: { name: t === 'own' ? 'ZŠ Sokolov' : 'Gymnázium Cheb' } }),
    expect: only('admin', 200),
  },
  'GET /api/users': { request: () => ({ path: '/api/users' }), expect: only('admin', 200) },
  'POST /api/users': {
    request: () => ({ path: '/api/users', body: { username: `n-${randomBytes(4).toString('hex')}`, password: 'a-long-password-1', role: 'school_it', orgId: 'zs-sokolov' } }),
    expect: only('admin', 201),
  },
  'PATCH /api/users/:id': { request: async () => ({ path: `/api/users/${await freshUser()}`, body: { role: 'auditor' } }), expect: only('admin', 200) },
  'POST /api/users/:id/totp': { request: async () => ({ path: `/api/users/${await freshUser()}/totp` }), expect: only('admin', 200) },
  'DELETE /api/users/:id/totp': { request: async () => ({ path: `/api/users/${await freshUser()}/totp` }), expect: only('admin', 204) },
  'GET /api/cameras': {
    request: () => ({ path: '/api/cameras' }),
    expect: signedIn(200),
    check: (c, body) => {
      const ids = (body as { cameras: { id: string; live: boolean }[] }).cameras.filter((x) => x.id === camera('own') || x.id === camera('foreign'));
      const seen = ids.map((x) => x.id).sort();
      if (c === 'police') expect(seen).toEqual([]);
      else if (c === 'school_it') expect(seen).toEqual([camera('own')]);
      else expect(seen).toEqual([camera('foreign'), camera('own')].sort());
      for (const x of ids) expect(x.live).toBe(c === 'operator' || c === 'school_it');
    },
  },
  'GET /api/cameras/:id': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/cameras/${encodeURIComponent(camera(t))}` }),
    expect: { admin: 200, operator: 200, auditor: 200, school_it: { own: 200, foreign: 404 }, police: 404, anonymous: 401 },
  },
  'GET /api/cameras/:id/viewers': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/cameras/${encodeURIComponent(camera(t))}/viewers` }),
    expect: { admin: 403, operator: 200, auditor: 200, school_it: { own: 200, foreign: 404 }, police: 404, anonymous: 401 },
  },
  'GET /api/schools/:id/viewers': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/schools/${school(t)}/viewers` }),
    expect: { admin: 403, operator: 200, auditor: 200, school_it: { own: 200, foreign: 404 }, police: 403, anonymous: 401 },
  },
  'GET /api/grants': {
    request: async () => {
      await freshGrant('own', clients.operator);
      await freshGrant('foreign', clients.operator);
      return { path: '/api/grants' };
    },
    expect: signedIn(200),
    check: (c, body) => {
      const forces = new Set((body as { grants: { forceId: string }[] }).grants.map((g) => g.forceId));
      if (c === 'police') expect([...forces]).toEqual(['mp-sokolov']);
      else if (c === 'school_it') expect(forces.has('mp-cheb')).toBe(false); // grants touching other schools are not its business
      else expect(forces.has('mp-sokolov') && forces.has('mp-cheb')).toBe(true);
    },
    cleanup: revokeLastGrants,
  },
  'POST /api/grants': {
    // Operators create; police request for their own force (201, state "requested").
    targeted: true,
    request: (_c, t) => ({ path: '/api/grants', body: GRANT_BODY(t) }),
    expect: { admin: 403, operator: 201, auditor: 403, school_it: 403, police: { own: 201, foreign: 403 }, anonymous: 401 },
    check: (c, body) => {
      const g = body as { state: string; rtsp: { url: string }[] };
      expect(g.state).toBe(c === 'police' ? 'requested' : 'active');
      expect(g.rtsp[0].url).toMatch(/^rtsp:\/\/g[0-9a-f]{16}:[A-Za-z0-9_-]+@127\.0\.0\.1:8554\/grant\//);
    },
    cleanup: revokeLastGrants,
  },
  'POST /api/grants/:id/approve': {
    // A request by Sokolov's police, approved by an operator.
    request: async () => {
      const res = await clients.police.post<{ id: string }>('/api/grants', GRANT_BODY('own'));
      lastGrants.push(res.body.id);
      return { path: `/api/grants/${res.body.id}/approve` };
    },
    expect: { admin: 403, operator: 200, auditor: 403, school_it: 403, police: 403, anonymous: 401 },
    cleanup: revokeLastGrants,
  },
  'POST /api/grants/:id/revoke': {
    // The region (operators, admins) revokes any grant; school IT those on its own school only.
    targeted: true,
    request: async (_c, t) => ({ path: `/api/grants/${await freshGrant(t, clients.operator)}/revoke` }),
    expect: { admin: 200, operator: 200, auditor: 403, school_it: { own: 200, foreign: 404 }, police: { own: 403, foreign: 404 }, anonymous: 401 },
    cleanup: revokeLastGrants,
  },
  'POST /api/grants/:id/extend': {
    // Operators extend; school IT only its own school's emergency.
    targeted: true,
    request: async (_c, t) => ({ path: `/api/grants/${await freshGrant(t, clients.operator)}/extend`, body: { minutes: 30, reason: 'Pátrání pokračuje' } }),
    expect: { admin: 403, operator: 200, auditor: 403, school_it: { own: 403, foreign: 404 }, police: { own: 403, foreign: 404 }, anonymous: 401 },
    cleanup: revokeLastGrants,
  },
  'POST /api/schools/:id/emergency': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/schools/${school(t)}/emergency`, body: { reason: 'Cizí osoba v budově' } }),
    expect: { admin: 403, operator: 201, auditor: 403, school_it: { own: 201, foreign: 404 }, police: 403, anonymous: 401 },
    cleanup: revokeLastGrants,
  },
  'GET /api/gateways': { request: () => ({ path: '/api/gateways' }), expect: only('admin', 200) },
  'POST /api/gateways': {
    targeted: true,
    request: (_c, t) => ({ path: '/api/gateways', body: { schoolId: school(t), name: 'New gateway' } }),
    expect: only('admin', 201),
  },
  'POST /api/gateways/:id/revoke': { targeted: true, request: async (_c, t) => ({ path: `/api/gateways/${(await freshGateway(t)).id}/revoke` }), expect: only('admin', 200) },
  'POST /api/gateways/enroll': {
    // Authenticated by the one-time token in the body, whoever sends it; sessions play no part.
    targeted: true,
    request: async (_c, t) => ({ path: '/api/gateways/enroll', body: { token: (await freshGateway(t)).token } }),
    expect: all(200),
  },
  'GET /api/alarms': {
    request: async () => {
      await Promise.all([freshAlarm('own'), freshAlarm('foreign')]);
      return { path: '/api/alarms?state=all&limit=1000' };
    },
    expect: signedIn(200),
    check: (c, body) => {
      const gws = [...new Set((body as { alarms: AlarmView[] }).alarms.map((a) => a.gatewayId))].filter((g) => g === gateways.own.id || g === gateways.foreign.id).sort();
      if (c === 'police') expect(gws).toEqual([]);
      else if (c === 'school_it') expect(gws).toEqual([gateways.own.id]);
      else expect(gws).toEqual([gateways.foreign.id, gateways.own.id].sort());
    },
  },
  'GET /api/alarms/:id': {
    targeted: true,
    request: async (_c, t) => ({ path: `/api/alarms/${await freshAlarm(t)}` }),
    expect: { admin: 200, operator: 200, auditor: 200, school_it: { own: 200, foreign: 404 }, police: 404, anonymous: 401 },
  },
  'POST /api/alarms/:id/ack': { targeted: true, request: async (_c, t) => ({ path: `/api/alarms/${await freshAlarm(t)}/ack`, body: {} }), expect: only('operator', 200) },
  'GET /api/schools/:id/gateways': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/schools/${school(t)}/gateways` }),
    expect: { admin: 200, operator: 200, auditor: 200, school_it: { own: 200, foreign: 404 }, police: 404, anonymous: 401 },
  },
  'POST /api/schools/:id/discover': { targeted: true, request: (_c, t) => ({ path: `/api/schools/${school(t)}/discover`, body: { range: '10.0.0.1-10.0.0.9', multicast: false } }), expect: manage(200) },
  'POST /api/schools/:id/check': { targeted: true, request: (_c, t) => ({ path: `/api/schools/${school(t)}/check`, body: { url: 'rtsp://10.0.0.7/stream1' } }), expect: manage(200) },
  'POST /api/schools/:id/cameras': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/schools/${school(t)}/cameras`, body: registration(`c-${randomBytes(4).toString('hex')}`) }),
    expect: manage(201),
  },
  'PATCH /api/cameras/:id': { targeted: true, request: (_c, t) => ({ path: `/api/cameras/${encodeURIComponent(camera(t))}`, body: registrationFacts() }), expect: manage(200) },
  'DELETE /api/cameras/:id': { targeted: true, request: async (_c, t) => ({ path: `/api/cameras/${encodeURIComponent(await freshCamera(t))}` }), expect: manage(204) },
  'GET /api/cameras/:id/snapshot': {
    targeted: true,
    request: (_c, t) => ({ path: `/api/cameras/${encodeURIComponent(camera(t))}/snapshot` }),
    expect: { admin: 403, operator: 200, auditor: 403, school_it: { own: 200, foreign: 404 }, police: 404, anonymous: 401 },
  },
  'GET /api/audit': { request: () => ({ path: '/api/audit?limit=5' }), expect: only('auditor', 200) },
  'GET /api/audit/export': { request: () => ({ path: '/api/audit/export?format=json' }), expect: only('auditor', 200) },
  'GET /api/audit/verify': { request: () => ({ path: '/api/audit/verify' }), expect: only('auditor', 200) },
  // Every account has its own dashboard settings and saved views; no one reaches another's.
  'GET /api/me/prefs': { request: () => ({ path: '/api/me/prefs' }), expect: signedIn(200) },
  'PUT /api/me/prefs': { request: () => ({ path: '/api/me/prefs', body: { lang: 'cs' } }), expect: signedIn(200) },
  'GET /api/me/views': { request: () => ({ path: '/api/me/views' }), expect: signedIn(200) },
  'POST /api/me/views': { request: () => ({ path: '/api/me/views', body: { name: `Stěna ${randomBytes(3).toString('hex')}`, layout: '4', cameras: [null] } }), expect: signedIn(200) },
  'DELETE /api/me/views/:id': {
    request: async (c) => {
      if (c === 'anonymous') return { path: `/api/me/views/${randomUUID()}` };
      const made = await clients[c].post<{ id: string }>('/api/me/views', { name: `Smazat ${randomBytes(3).toString('hex')}`, layout: '1', cameras: [] });
      return { path: `/api/me/views/${made.body.id}` };
    },
    expect: signedIn(204),
  },
};

/** WebSocket routes: upgrade status per caller with the caller's cookie and the page's Origin. */
const SOCKET_CASES: Record<string, Record<Caller, number>> = {
  'GET /api/view': signedIn(101),
  'GET /link': all(401), // a session is not a gateway secret
};

/**
 * Viewer-socket events: the replies to a request (covered by MESSAGE_CASES), and the pushes that
 * carry school-bound data — which of the two targets' cameras and alarms each role is shown.
 */
const REGION: Record<Role, Target[]> = { admin: ['own', 'foreign'], operator: ['own', 'foreign'], auditor: ['own', 'foreign'], school_it: ['own'], police: [] };
const EVENT_CASES: Record<ViewerEvent['type'], 'reply' | Record<Role, Target[]>> = {
  offer: 'reply',
  mse: 'reply',
  ended: 'reply',
  error: 'reply',
  'signed-out': 'reply',
  cameras: REGION,
  alarms: REGION,
  alarm: REGION,
  // Grant changes: the region all; a school those touching it; a force its own (own = Sokolov's).
  grant: { ...REGION, police: ['own'] },
};

type Outcome = 'offer' | 'NOT_FOUND' | 'FORBIDDEN' | 'NO_OFFER' | 'silent';
/** Viewer-socket message types: what each role gets for its own and a foreign camera. */
const MESSAGE_CASES: Record<ViewerRequest['type'], { message(tile: string, cameraId: string): ViewerRequest; expect: Record<Role, Outcome | Record<Target, Outcome>> }> = {
  watch: {
    message: (tile, cameraId) => ({ type: 'watch', tile, cameraId }),
    expect: { operator: 'offer', school_it: { own: 'offer', foreign: 'NOT_FOUND' }, police: 'NOT_FOUND', admin: 'FORBIDDEN', auditor: 'FORBIDDEN' },
  },
  answer: {
    // A socket can answer only its own pending offers: no tile, no answer — for every role.
    message: (tile) => ({ type: 'answer', tile, sdp: 'v=0\r\n' }),
    expect: { operator: 'NO_OFFER', school_it: 'NO_OFFER', police: 'NO_OFFER', admin: 'NO_OFFER', auditor: 'NO_OFFER' },
  },
  unwatch: {
    message: (tile) => ({ type: 'unwatch', tile }),
    expect: { operator: 'silent', school_it: 'silent', police: 'silent', admin: 'silent', auditor: 'silent' },
  },
};

beforeAll(async () => {
  fx = await CentreFixture.start({ metrics: { token: METRICS_TOKEN }, limits: { requestsPerMinute: 100_000 }, rtspExport: { publicUrl: 'rtsp://127.0.0.1:8554' } });
  for (const r of ROLES) clients[r] = await fx.signIn(ACCOUNTS[r]);
  admin = clients.admin;
  gateways.own = await fx.connectGateway(admin, 'gw-own', 'zs-sokolov', ['cam']);
  gateways.foreign = await fx.connectGateway(admin, 'gw-foreign', 'gym-cheb', ['cam']);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

async function send(caller: Caller, method: string, req: Req): Promise<{ status: number; body: unknown }> {
  const client = req.client !== undefined ? req.client : caller === 'anonymous' ? null : clients[caller];
  if (client) return client.call(method, req.path, req.body);
  const res = await fetch(`${fx.url}${req.path}`, {
    method,
    headers: req.body === undefined ? {} : { 'content-type': 'application/json' },
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

describe('authorization matrix', () => {
  it('has an expectation for every registered route, and no expectation for a route that does not exist', () => {
    const registered = fx.centre.routes.map((r) => `${r.method} ${r.url}`).sort();
    const expected = [...Object.keys(CASES), ...Object.keys(SOCKET_CASES)].sort();
    expect(registered.filter((r) => !expected.includes(r))).toEqual([]); // a route nobody decided for
    expect(expected.filter((e) => !registered.includes(e))).toEqual([]);
  });

  it('gives every HTTP route the status expected for each role, own and foreign, and anonymous', async () => {
    const wrong: string[] = [];
    for (const route of fx.centre.routes.filter((r) => !r.websocket)) {
      const key = `${route.method} ${route.url}`;
      const c = CASES[key];
      for (const caller of CALLERS) {
        for (const target of c.targeted ? (['own', 'foreign'] as const) : (['own'] as const)) {
          const e = c.expect[caller];
          const want = typeof e === 'number' ? e : e[target];
          const req = await c.request(caller, target);
          const before = want >= 400 && route.method !== 'GET' ? fx.dataDigest() : undefined;
          const res = await send(caller, route.method, req);
          if (res.status !== want) wrong.push(`${key} as ${caller} (${target}): ${res.status}, expected ${want} — ${JSON.stringify(res.body).slice(0, 120)}`);
          else if (res.status < 300) c.check?.(caller, res.body);
          if (before !== undefined && fx.dataDigest() !== before) wrong.push(`${key} as ${caller} (${target}) was refused but changed data`);
          await c.cleanup?.();
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('opens the WebSocket routes only to whom they belong, and never to a page from another origin', async () => {
    const wrong: string[] = [];
    for (const route of fx.centre.routes.filter((r) => r.websocket)) {
      const key = `${route.method} ${route.url}`;
      for (const caller of CALLERS) {
        const cookie = caller === 'anonymous' ? '' : clients[caller].cookie;
        const status = await upgradeStatus(route.url, cookie, fx.url);
        if (status !== SOCKET_CASES[key][caller]) wrong.push(`${key} as ${caller}: ${status}, expected ${SOCKET_CASES[key][caller]}`);
        if (caller !== 'anonymous' && route.url === '/api/view') {
          const foreign = await upgradeStatus(route.url, cookie, 'https://evil.example');
          if (foreign !== 403) wrong.push(`${key} as ${caller} from a foreign origin: ${foreign}, expected 403`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // With its secret, a gateway gets in (a fresh one: the matrix's own gateways stay connected).
    const secret = await fx.enrol(admin, 'gw-socket-check', 'gym-cheb');
    const link = await fx.dial('gw-socket-check', secret);
    expect(typeof link === 'number' ? link : 101).toBe(101);
    if (typeof link !== 'number') link.ws.close();
  });

  it('serves metrics only with the metrics token, counting refusals', async () => {
    expect((await clients.operator.get('/api/users')).status).toBe(403);
    const res = await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^schoolcam_access_refusals_total\{code="FORBIDDEN",channel="http"\} \d+$/m);
    expect((await fetch(`${fx.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token-00' } })).status).toBe(401);
  });

  it('pushes cameras and alarms over the viewer socket only to the roles that may see them, own and foreign school', async () => {
    expect(Object.keys(EVENT_CASES).sort()).toEqual([...VIEWER_EVENT_TYPES].sort()); // a new event type needs an expectation
    await Promise.all([freshAlarm('own'), freshAlarm('foreign')]); // open alarms, listed on connect
    const wrong: string[] = [];
    const targetsOf = (gatewayIds: (string | null | undefined)[]): Target[] =>
      (['own', 'foreign'] as const).filter((t) => gatewayIds.includes(gateways[t].id));
    const sockets = await Promise.all(
      ROLES.map(async (role) => {
        const v = await openViewer(fx.url, clients[role].cookie);
        if (typeof v === 'number') throw new Error(`viewer socket refused for ${role}: ${v}`);
        return [role, v] as const;
      }),
    );
    await until(() => sockets.every(([, v]) => v.events.some((e) => e.type === 'cameras') && v.events.some((e) => e.type === 'alarms')), 'cameras and alarms on connect');
    const raised = await Promise.all([freshAlarm('own'), freshAlarm('foreign')]);
    // The operator sees both: once its pushes arrived, everyone's did (one loop, in order).
    await until(() => raised.every((id) => sockets.find(([r]) => r === 'operator')![1].events.some((e) => e.type === 'alarm' && (e.alarm as AlarmView).id === id)), 'the alarm pushes');
    const granted = [await freshGrant('own', clients.operator), await freshGrant('foreign', clients.operator)];
    await until(() => granted.every((id) => sockets.find(([r]) => r === 'operator')![1].events.some((e) => e.type === 'grant' && (e.grant as { id: string }).id === id)), 'the grant pushes');
    await revokeLastGrants();
    for (const [role, v] of sockets) {
      const seen: Record<'cameras' | 'alarms' | 'alarm' | 'grant', Target[]> = {
        cameras: targetsOf((v.events.find((e) => e.type === 'cameras') as { cameras: { gatewayId: string }[] }).cameras.map((c) => c.gatewayId)),
        alarms: targetsOf((v.events.find((e) => e.type === 'alarms') as { alarms: AlarmView[] }).alarms.map((a) => a.gatewayId)),
        alarm: targetsOf(v.events.filter((e) => e.type === 'alarm').map((e) => (e.alarm as AlarmView).gatewayId)),
        grant: targetsOf(v.events.filter((e) => e.type === 'grant' && e.change === 'created').map((e) => (e.grant as { cameraIds: string[] }).cameraIds[0]?.split(':')[0])),
      };
      for (const type of ['cameras', 'alarms', 'alarm', 'grant'] as const) {
        const want = EVENT_CASES[type];
        if (want !== 'reply' && JSON.stringify(seen[type]) !== JSON.stringify(want[role])) wrong.push(`${type} as ${role}: ${JSON.stringify(seen[type])}, expected ${JSON.stringify(want[role])}`);
      }
      v.ws.close();
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('gives every viewer-socket message type the outcome expected for each role, own and foreign camera', async () => {
    expect(Object.keys(MESSAGE_CASES).sort()).toEqual([...VIEWER_REQUEST_TYPES].sort()); // a new message type needs an expectation
    const wrong: string[] = [];
    for (const role of ROLES) {
      const viewer = await openViewer(fx.url, clients[role].cookie);
      if (typeof viewer === 'number') throw new Error(`viewer socket refused for ${role}: ${viewer}`);
      let n = 0;
      for (const type of VIEWER_REQUEST_TYPES) {
        for (const target of ['own', 'foreign'] as const) {
          const e = MESSAGE_CASES[type].expect[role];
          const want = typeof e === 'string' ? e : e[target];
          const tile = `m${n++}`;
          const starts = gateways[target].messages.filter((m) => m.type === 'stream.start').length;
          viewer.ws.send(JSON.stringify(MESSAGE_CASES[type].message(tile, camera(target))));
          const replied = (): boolean => viewer.events.some((ev) => ev.tile === tile && (ev.type === 'offer' || ev.type === 'error'));
          if (want === 'silent') {
            // Nothing should come back: a later request's reply (NO_OFFER, in order) shows this one was handled.
            viewer.ws.send(JSON.stringify({ type: 'answer', tile: `sync-${tile}`, sdp: 'x' }));
            await until(() => viewer.events.some((ev) => ev.tile === `sync-${tile}`), `the reply after ${type} as ${role}`, 15_000);
          } else {
            await until(replied, `the reply to ${type} as ${role} (${target})`, 15_000).catch(() => undefined);
          }
          const got = viewer.events.find((ev) => ev.tile === tile && (ev.type === 'offer' || ev.type === 'error'));
          const outcome: Outcome = !got ? 'silent' : got.type === 'offer' ? 'offer' : (got.code as Outcome);
          if (outcome !== want) wrong.push(`${type} as ${role} (${target}): ${outcome}, expected ${want}`);
          const startedAtGateway = gateways[target].messages.filter((m) => m.type === 'stream.start').length > starts;
          if (want !== 'offer' && startedAtGateway) wrong.push(`${type} as ${role} (${target}) was refused but reached the gateway`);
          if (outcome === 'offer') viewer.ws.send(JSON.stringify({ type: 'unwatch', tile }));
        }
      }
      viewer.ws.close();
    }
    expect(wrong).toEqual([]);
    // Every refusal is in the audit log.
    const auditor = clients.auditor;
    const refused = (await auditor.get<{ entries: { actor: string; cameraId: string; detail: { code: string } }[] }>('/api/audit?kind=access.refused&limit=1000')).body.entries;
    expect(refused.some((e) => e.actor === ACCOUNTS.school_it.username && e.cameraId === camera('foreign') && e.detail.code === 'NOT_FOUND')).toBe(true);
    expect(refused.some((e) => e.actor === ACCOUNTS.police.username && e.cameraId === camera('own'))).toBe(true);
    expect(refused.some((e) => e.actor === ACCOUNTS.admin.username && e.detail.code === 'FORBIDDEN')).toBe(true);
  }, 120_000);
});

function upgradeStatus(path: string, cookie: string, origin: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${fx.url.replace('http', 'ws')}${path}`, { headers: { ...(cookie ? { cookie } : {}), origin } });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
}
