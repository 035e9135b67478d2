import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LinkMessage, type LinkMessageOf, parseLinkMessage } from '@schoolcam/protocol/link/link-messages';
import type { CameraView } from '../../src/cameras/camera-view';
import type { CentreClient } from '../support/api-client';
import { ACCOUNTS, CentreFixture, FAKE_JPEG, type FakeGateway, openViewer, until } from '../support/centre-fixture';

/**
 * Camera registration through the centre, with the school's gateway played by the test: the
 * requests reach the gateway and its replies come back; refusals keep their type; purpose, legal
 * basis and retention are required and recorded; edits, removals and snapshots are audited; the
 * camera password reaches the gateway and nothing else — not the database, not the log.
 */
const PASSWORD = 'Kamera-Heslo-7f3a9c';
let fx: CentreFixture;
let logs = '';
let admin: CentreClient;
let schoolIt: CentreClient;
let operator: CentreClient;
let auditor: CentreClient;
let gw: FakeGateway;

const FACTS = { purpose: 'Ochrana vstupu do budovy mimo vyučování', legalBasis: 'čl. 6 odst. 1 písm. f) GDPR – oprávněný zájem', retentionHours: 72 };
const sentOf = <T extends LinkMessage['type']>(type: T): LinkMessageOf<T>[] => gw.messages.filter((m): m is LinkMessageOf<T> => m.type === type);
const auditOf = async (kind: string): Promise<{ kind: string; outcome: string; actor: string; cameraId: string | null; detail: Record<string, unknown> }[]> =>
  (await auditor.get<{ entries: { kind: string; outcome: string; actor: string; cameraId: string | null; detail: Record<string, unknown> }[] }>(`/api/audit?kind=${kind}`)).body.entries;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs += chunk.toString();
      cb();
    },
  });
  fx = await CentreFixture.start({ limits: { requestsPerMinute: 100_000 } }, undefined, pino({ level: 'debug' }, sink));
  admin = await fx.signIn(ACCOUNTS.admin);
  schoolIt = await fx.signIn(ACCOUNTS.school_it);
  operator = await fx.signIn(ACCOUNTS.operator);
  auditor = await fx.signIn(ACCOUNTS.auditor);
  gw = await fx.connectGateway(admin, 'gw-reg', 'zs-sokolov', ['vchod']);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('camera registration through the centre', () => {
  it('forwards discovery and check to the school’s gateway and returns its answers, audited', async () => {
    const found = await schoolIt.post<{ gatewayId: string; devices: { xaddr: string }[] }>('/api/schools/zs-sokolov/discover', { range: '10.0.0.1-10.0.0.20', multicast: false, username: 'admin', password: PASSWORD });
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ gatewayId: 'gw-reg', devices: [expect.objectContaining({ xaddr: 'http://10.0.0.7/onvif/device_service', profiles: [] })] });
    expect(sentOf('discover').at(-1)).toMatchObject({ range: '10.0.0.1-10.0.0.20', multicast: false, username: 'admin', password: PASSWORD });
    const checked = await schoolIt.post<{ result: { grade: string } }>('/api/schools/zs-sokolov/check', { url: 'http://10.0.0.7/onvif/device_service', username: 'admin', password: PASSWORD });
    expect(checked.status).toBe(200);
    expect(checked.body.result.grade).toBe('ready');
    expect((await auditOf('camera.discover'))[0]).toMatchObject({ outcome: 'ok', actor: 'it-sokolov', detail: { gatewayId: 'gw-reg', devices: 1, withCredentials: true } });
    expect((await auditOf('camera.check'))[0]).toMatchObject({ outcome: 'ok', detail: { grade: 'ready', url: 'http://10.0.0.7/onvif/device_service' } });
  });

  it('refuses a registration without purpose, legal basis or retention, or with two sources, and sends nothing', async () => {
    const before = sentOf('camera.register').length;
    const base = { name: 'Dvůr', onvif: { xaddr: 'http://10.0.0.8/onvif/device_service', username: 'admin', password: PASSWORD }, ...FACTS };
    for (const missing of ['purpose', 'legalBasis', 'retentionHours'] as const) {
      const body: Record<string, unknown> = { ...base };
      delete body[missing];
      const res = await schoolIt.post<{ error: string; message: string }>('/api/schools/zs-sokolov/cameras', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(missing);
    }
    expect((await schoolIt.post('/api/schools/zs-sokolov/cameras', { ...base, retentionHours: 24 * 365 })).status).toBe(400);
    expect((await schoolIt.post('/api/schools/zs-sokolov/cameras', { ...base, rtsp: { url: 'rtsp://10.0.0.8/stream1' } })).status).toBe(400);
    expect(sentOf('camera.register').length).toBe(before);
  });

  it('registers a camera: the gateway gets it with its password, the centre lists it with purpose, legal basis and retention, and stores no password', async () => {
    const res = await schoolIt.post<{ camera: CameraView }>('/api/schools/zs-sokolov/cameras', {
      id: 'dvur',
      name: 'Dvůr',
      onvif: { xaddr: 'http://admin:inline-secret@10.0.0.8/onvif/device_service', username: 'admin', password: PASSWORD },
      ...FACTS,
      schedule: 'po–pá 18:00–7:00',
    });
    expect(res.status).toBe(201);
    expect(res.body.camera).toMatchObject({ id: 'gw-reg:dvur', name: 'Dvůr', schoolId: 'zs-sokolov', live: true, registration: { ...FACTS, schedule: 'po–pá 18:00–7:00', registeredBy: 'it-sokolov', source: 'http://10.0.0.8/onvif/device_service' } });
    expect(sentOf('camera.register').at(-1)?.camera).toEqual({ id: 'dvur', name: 'Dvůr', onvif: { xaddr: 'http://admin:inline-secret@10.0.0.8/onvif/device_service', username: 'admin', password: PASSWORD } });
    const listed = (await operator.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras.find((c) => c.id === 'gw-reg:dvur');
    expect(listed?.registration?.purpose).toBe(FACTS.purpose);
    const entry = (await auditOf('camera.register'))[0];
    expect(entry).toMatchObject({ outcome: 'ok', actor: 'it-sokolov', cameraId: 'gw-reg:dvur', detail: { purpose: FACTS.purpose, retentionHours: 72, replaced: false } });
    expect(JSON.stringify(entry)).not.toContain(PASSWORD);
    expect(JSON.stringify(entry)).not.toContain('inline-secret');
    // Registered again under the same id: replaced, first registration kept.
    const again = await schoolIt.post<{ camera: CameraView }>('/api/schools/zs-sokolov/cameras', { id: 'dvur', name: 'Dvůr', rtsp: { url: 'rtsp://10.0.0.8/stream1', username: 'u', password: PASSWORD }, ...FACTS, retentionHours: 48 });
    expect(again.status).toBe(200);
    expect(again.body.camera.registration).toMatchObject({ retentionHours: 48, registeredBy: 'it-sokolov' });
    // Nothing on the centre's disk or in its log holds the password.
    for (const f of readdirSync(fx.dir)) expect(readFileSync(join(fx.dir, f)).includes(PASSWORD), f).toBe(false);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(PASSWORD);
  });

  it('edits a camera’s registration and removes a camera, both audited; a camera from the gateway’s own config gets a registration by edit', async () => {
    const patched = await schoolIt.patch<{ camera: CameraView }>('/api/cameras/gw-reg:vchod', { purpose: 'Hlavní vchod – prevence vandalismu', legalBasis: FACTS.legalBasis, retentionHours: 24 });
    expect(patched.status).toBe(200);
    expect(patched.body.camera.registration).toMatchObject({ purpose: 'Hlavní vchod – prevence vandalismu', retentionHours: 24 });
    expect((await schoolIt.patch('/api/cameras/gw-reg:vchod', { retentionHours: 12 })).status).toBe(200);
    // Newest first: the two edits just made (the push test may have edited this camera earlier).
    const changes = (await auditOf('camera.update')).filter((e) => e.cameraId === 'gw-reg:vchod').map((e) => e.detail.changed);
    expect(changes.slice(0, 2)).toEqual([{ retentionHours: 12 }, { purpose: 'Hlavní vchod – prevence vandalismu', legalBasis: FACTS.legalBasis, retentionHours: 24 }]);

    await schoolIt.post('/api/schools/zs-sokolov/cameras', { id: 'chodba', name: 'Chodba', rtsp: { url: 'rtsp://10.0.0.9/stream1' }, ...FACTS });
    const removed = await schoolIt.delete('/api/cameras/gw-reg:chodba');
    expect(removed.status).toBe(204);
    expect(sentOf('camera.unregister').at(-1)).toMatchObject({ cameraId: 'chodba' });
    expect((await schoolIt.get('/api/cameras/gw-reg:chodba')).status).toBe(404);
    expect((await auditOf('camera.unregister'))[0]).toMatchObject({ outcome: 'ok', cameraId: 'gw-reg:chodba' });
  });

  it('pushes an edited registration to the school’s open dashboards at once, with no other change needed', async () => {
    const viewer = await openViewer(fx.url, schoolIt.cookie);
    if (typeof viewer === 'number') throw new Error(`viewer refused ${viewer}`);
    try {
      type Pushed = { type: string; cameras?: CameraView[] };
      await until(() => viewer.events.some((e) => (e as Pushed).type === 'cameras'), 'the first camera list');
      const retentionOf = (e: Pushed): number | undefined => e.cameras?.find((c) => c.id === 'gw-reg:vchod')?.registration?.retentionHours;
      const hours = 36 + (Date.now() % 10);
      expect((await schoolIt.patch('/api/cameras/gw-reg:vchod', { purpose: FACTS.purpose, legalBasis: FACTS.legalBasis, retentionHours: hours })).status).toBe(200);
      await until(() => viewer.events.some((e) => (e as Pushed).type === 'cameras' && retentionOf(e as Pushed) === hours), 'a camera list with the new retention', 2000);
    } finally {
      viewer.ws.close();
    }
  });

  it('gives a snapshot as image/jpeg to whoever may watch the camera live, audited; not to an admin', async () => {
    const res = await fetch(`${fx.url}/api/cameras/gw-reg:vchod/snapshot`, { headers: { cookie: operator.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await res.arrayBuffer()).equals(FAKE_JPEG)).toBe(true);
    expect(sentOf('snapshot').at(-1)).toMatchObject({ cameraId: 'vchod' });
    expect((await auditOf('camera.snapshot'))[0]).toMatchObject({ outcome: 'ok', actor: 'operator', cameraId: 'gw-reg:vchod', detail: { bytes: FAKE_JPEG.length } });
    expect((await admin.get('/api/cameras/gw-reg:vchod/snapshot')).status).toBe(403);
  });

  it('keeps the gateway’s refusals typed, says when the gateway is offline, and audits the failure', async () => {
    const refusing = await fx.connectGateway(admin, 'gw-reg-cheb', 'gym-cheb', ['x'], false);
    refusing.ws.on('message', (d: Buffer) => {
      const m = parseLinkMessage(d);
      if (m.type === 'check') refusing.send({ type: 'request.failed', requestId: m.requestId, code: 'AUTH', message: 'the camera refused the user name or password' });
      if (m.type === 'snapshot') refusing.send({ type: 'request.failed', requestId: m.requestId, code: 'UNSUPPORTED', message: 'a plain RTSP camera has no snapshot service' });
    });
    const res = await admin.post<{ error: string; message: string }>('/api/schools/gym-cheb/check', { url: 'rtsp://10.0.1.7/stream1', username: 'admin', password: 'wrong' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: 'CAMERA_AUTH', message: 'the camera refused the user name or password' });
    expect((await auditOf('camera.check')).find((e) => e.outcome === 'failed')).toMatchObject({ actor: 'admin', detail: { code: 'CAMERA_AUTH' } });
    const snap = await operator.get<{ error: string }>('/api/cameras/gw-reg-cheb:x/snapshot');
    expect([snap.status, snap.body.error]).toEqual([422, 'CAMERA_UNSUPPORTED']);
    refusing.ws.close();
    await until(async () => !(await admin.get<{ gateways: { id: string; online: boolean }[] }>('/api/schools/gym-cheb/gateways')).body.gateways[0]?.online, 'the gateway to be offline');
    const offline = await admin.post<{ error: string }>('/api/schools/gym-cheb/discover', {});
    expect([offline.status, offline.body.error]).toEqual([503, 'GATEWAY_OFFLINE']);
  });

  it('refuses to manage another school’s cameras, and refuses roles that do not manage cameras', async () => {
    expect((await schoolIt.post('/api/schools/gym-cheb/discover', {})).status).toBe(404);
    expect((await operator.post('/api/schools/zs-sokolov/discover', {})).status).toBe(403);
    expect((await schoolIt.post('/api/schools/zs-neexistuje/discover', {})).status).toBe(404);
  });
});
