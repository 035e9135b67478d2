import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import WebSocket from 'ws';
import { encodeLinkMessage, gatewayAuthValue, parseLinkMessage, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { importRegionInto, setUser } from '../../src/admin/bootstrap';
import { loadRegionFile } from '../../src/admin/region-file';
import type { Role } from '../../src/access/principal';
import type { CenterConfigInput } from '../../src/config';
import { ControlCenter } from '../../src/server';
import { openDatabase } from '../../src/storage/database';
import { CentreClient } from './api-client';

export const REGION_FILE = fileURLToPath(new URL('../../../config/region.kvk.yaml', import.meta.url));

export interface FixtureAccount {
  role: Role;
  username: string;
  password: string;
  org: string;
}

/**
 * One account per role, in two organisations where the role has one: `own` (Sokolov: the
 * school zs-sokolov, the force mp-sokolov) and `foreign` (Cheb: gym-cheb, mp-cheb).
 */
export const ACCOUNTS = {
  admin: { role: 'admin', username: 'admin', password: 'admin-password-1', org: 'kvk' },
  operator: { role: 'operator', username: 'operator', password: 'operator-password-1', org: 'kvk' },
  police: { role: 'police', username: 'police-sokolov', password: 'police-password-1', org: 'mp-sokolov' },
  school_it: { role: 'school_it', username: 'it-sokolov', password: 'school-it-password-1', org: 'zs-sokolov' },
  auditor: { role: 'auditor', username: 'auditor', password: 'auditor-password-1', org: 'kvk' },
} as const satisfies Record<Role, FixtureAccount>;

export interface FakeGateway {
  id: string;
  schoolId: string;
  secret: string;
  ws: WebSocket;
  messages: LinkMessage[];
  closed: Promise<number>;
  send(msg: LinkMessage): void;
}

/** The smallest JPEG a fake gateway hands out as a snapshot (SOI … EOI). */
export const FAKE_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]);

/** What a well-behaved gateway answers to each of the centre's requests (no camera is involved). */
export function fakeReply(m: LinkMessage): LinkMessage | undefined {
  switch (m.type) {
    case 'discover':
      return { type: 'discover.result', requestId: m.requestId, devices: [{ xaddr: 'http://10.0.0.7/onvif/device_service', endpoint: 'urn:uuid:11111111-2222-4333-8444-555555555555', address: '10.0.0.7', name: 'Vchod', hardware: 'SC-200', profiles: [] }] };
    case 'check':
      return {
        type: 'check.result',
        requestId: m.requestId,
        result: { url: m.url, codec: 'H264', profile: 'Main', width: 1280, height: 720, fps: 15, gopSeconds: 2, bframes: false, bitrateKbps: 2000, audioCodec: null, keyframeOnDemand: true, grade: 'ready', reasons: [] },
      };
    case 'camera.register':
      return { type: 'camera.registered', requestId: m.requestId, camera: { id: m.camera.id, name: m.camera.name, state: 'idle' } };
    case 'camera.unregister':
      return { type: 'camera.unregistered', requestId: m.requestId, cameraId: m.cameraId };
    case 'snapshot':
      return { type: 'snapshot.result', requestId: m.requestId, cameraId: m.cameraId, part: 0, parts: 1, data: FAKE_JPEG.toString('base64') };
    default:
      return undefined;
  }
}

/**
 * Prepares a centre's database before it starts, as an administrator does with
 * `center orgs import` and `center users add`: the reference region, and the accounts
 * (created, or their password reset).
 */
export async function seedDatabase(dataDir: string, accounts: readonly FixtureAccount[]): Promise<void> {
  const db = openDatabase(join(dataDir, 'centre.sqlite'));
  try {
    importRegionInto(db, loadRegionFile(REGION_FILE), 'test bootstrap');
    for (const a of accounts) await setUser(db, { username: a.username, role: a.role, orgId: a.org, password: a.password }, 'test bootstrap');
  } finally {
    db.close();
  }
}

/** A centre on a temporary database with the reference region and the accounts above. */
export class CentreFixture {
  private constructor(
    public centre: ControlCenter,
    readonly dir: string,
    private readonly config: CenterConfigInput,
    private readonly logger: pino.Logger,
  ) {}

  static async start(config: CenterConfigInput = {}, accounts: readonly FixtureAccount[] = Object.values(ACCOUNTS), logger = pino({ level: process.env.SCHOOLCAM_TEST_LOG ?? 'silent' })): Promise<CentreFixture> {
    const dir = mkdtempSync(join(tmpdir(), 'centre-fixture-'));
    await seedDatabase(dir, accounts);
    const full = { dataDir: dir, port: 0, loopbackOnly: true, ...config };
    const centre = await ControlCenter.create(full, { logger });
    return new CentreFixture(centre, dir, full, logger);
  }

  /** Stops the centre and starts it again on the same database (and, by default, the same port). */
  async restart(): Promise<void> {
    const port = Number(new URL(this.centre.url).port);
    await this.centre.close();
    this.centre = await ControlCenter.create({ ...this.config, port }, { logger: this.logger });
  }

  get url(): string {
    return this.centre.url;
  }

  get dbFile(): string {
    return join(this.dir, 'centre.sqlite');
  }

  signIn(account: FixtureAccount): Promise<CentreClient> {
    return CentreClient.signIn(this.url, account.username, account.password);
  }

  /** Creates a gateway through the admin API and redeems its token: returns the secret. */
  async enrol(admin: CentreClient, id: string, schoolId: string): Promise<string> {
    const created = await admin.post<{ enrolment: { token: string } }>('/api/gateways', { id, schoolId, name: `Gateway ${schoolId}` });
    if (created.status !== 201) throw new Error(`gateway create: ${created.status} ${JSON.stringify(created.body)}`);
    const res = await fetch(`${this.url}/api/gateways/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: created.body.enrolment.token }) });
    if (res.status !== 200) throw new Error(`enrol: ${res.status}`);
    return ((await res.json()) as { secret: string }).secret;
  }

  /** Dials the link as a gateway; a number is the HTTP status of a refused upgrade. */
  dial(gatewayId: string, secret: string): Promise<Omit<FakeGateway, 'schoolId'> | number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${this.url.replace('http', 'ws')}/link`, { headers: { authorization: gatewayAuthValue(gatewayId, secret) } });
      const messages: LinkMessage[] = [];
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.on('message', (d: Buffer) => messages.push(parseLinkMessage(d)));
      ws.on('error', () => undefined);
      ws.once('open', () => resolve({ id: gatewayId, secret, ws, messages, closed, send: (m) => ws.send(encodeLinkMessage(m)) }));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
  }

  /**
   * Enrols a gateway, connects it and reports cameras (local ids); resolves once the centre lists
   * them. It pings, and answers the centre's requests as a gateway whose cameras all work
   * ({@link fakeReply}) unless `answer` is false.
   */
  async connectGateway(admin: CentreClient, id: string, schoolId: string, localIds: string[], answer = true): Promise<FakeGateway> {
    const secret = await this.enrol(admin, id, schoolId);
    const link = await this.dial(id, secret);
    if (typeof link === 'number') throw new Error(`link refused: ${link}`);
    // Pings as a gateway does, so the centre does not drop it as silent however long a test runs.
    const heartbeat = setInterval(() => link.ws.readyState === link.ws.OPEN && link.send({ type: 'ping', t: Date.now() }), 2000);
    heartbeat.unref();
    link.ws.once('close', () => clearInterval(heartbeat));
    if (answer) {
      link.ws.on('message', (d: Buffer) => {
        const reply = fakeReply(parseLinkMessage(d));
        if (reply) link.send(reply);
      });
    }
    link.send({ type: 'hello', gatewayId: id, schoolId, version: 'test', cameras: localIds.map((c) => ({ id: c, name: `Camera ${c}`, state: 'idle' })) });
    await until(async () => {
      const cams = (await admin.get<{ cameras: { id: string }[] }>('/api/cameras')).body.cameras;
      return localIds.every((c) => cams.some((x) => x.id === `${id}:${c}`));
    }, `cameras of ${id} listed`);
    return { ...link, schoolId };
  }

  /**
   * A digest of everything the API can change (organisations, accounts, gateways, cameras, camera
   * registrations, alarms, grants; not sessions, login failures or the audit log), read through a second
   * connection: equal before and after a refused request means nothing was stored.
   */
  dataDigest(): string {
    const db = new Database(this.dbFile, { readonly: true });
    try {
      const h = createHash('sha256');
      for (const table of ['orgs', 'users', 'gateways', 'cameras', 'camera_registrations', 'alarms', 'gateway_events', 'user_prefs', 'saved_views', 'grants']) h.update(JSON.stringify(db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()));
      return h.digest('hex');
    } finally {
      db.close();
    }
  }

  async close(): Promise<void> {
    await this.centre.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `check` holds (deadline, not a sleep). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A viewer socket signed in with a client's cookie (and the page's Origin). */
export function openViewer(url: string, cookie: string, origin = url): Promise<{ ws: WebSocket; events: Record<string, unknown>[]; closed: Promise<number> } | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/view`, { headers: { cookie, origin } });
    const events: Record<string, unknown>[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (d: Buffer) => events.push(JSON.parse(d.toString()) as Record<string, unknown>));
    ws.on('error', () => undefined);
    ws.once('open', () => resolve({ ws, events, closed }));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
}
