import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLinkMessage, SNAPSHOT_PART_BYTES, type CheckResult, type DiscoveredDevice, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { GatewayError } from '../../src/errors';
import { RequestHandler } from '../../src/link/request-handler';
import { CameraRegistry } from '../../src/storage/camera-registry';
import { openDatabase, type Db } from '../../src/storage/database';
import { SecretBox } from '../../src/storage/secret-box';

let dir: string;
let db: Db;
let sent: LinkMessage[];
let handler: RequestHandler;
let registry: CameraRegistry;
let changes: number;
let releaseDiscover: (d: DiscoveredDevice[]) => void;
let checkResult: () => Promise<CheckResult>;
let snapshot: () => Promise<Buffer>;

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-requests-'));
  db = openDatabase(join(dir, 'gw.db'));
  registry = new CameraRegistry(db, SecretBox.open(join(dir, 'gw.key'), db));
  sent = [];
  changes = 0;
  checkResult = () => Promise.reject(new GatewayError('TIMEOUT', 'the camera did not answer in time'));
  snapshot = () => Promise.reject(new GatewayError('UNSUPPORTED', 'a plain RTSP camera has no snapshot service'));
  handler = new RequestHandler(
    {
      registry,
      discover: () => new Promise((resolve) => (releaseDiscover = resolve)),
      check: () => checkResult(),
      snapshot: () => snapshot(),
      registryChanged: () => void changes++,
      inventory: (id) => ({ id, name: registry.get(id)?.name ?? '?', state: 'idle' }),
      send: (m) => {
        checkLinkMessage(m);
        sent.push(m);
        return true;
      },
    },
    pino({ level: 'silent' }),
  );
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('answering the centre’s requests', () => {
  it('answers each request exactly once, with the typed code of what went wrong', async () => {
    handler.handle({ type: 'check', requestId: 'r1', url: 'rtsp://10.0.0.9/x' });
    await flush();
    expect(sent).toEqual([{ type: 'request.failed', requestId: 'r1', code: 'TIMEOUT', message: 'the camera did not answer in time' }]);
  });

  it('registers a camera (stored, reconciled, then confirmed), and refuses an invalid one', async () => {
    handler.handle({ type: 'camera.register', requestId: 'r2', camera: { id: 'cam9', name: 'Dvůr', rtsp: { url: 'rtsp://10.0.0.9/x', username: 'u', password: 'p' } } });
    await flush();
    expect(registry.get('cam9')?.rtsp?.password).toBe('p');
    expect(changes).toBe(1);
    expect(sent).toEqual([{ type: 'camera.registered', requestId: 'r2', camera: { id: 'cam9', name: 'Dvůr', state: 'idle' } }]);
    handler.handle({ type: 'camera.register', requestId: 'r3', camera: { id: 'cam10', name: 'x', onvif: { xaddr: 'http://a/', username: 'u', password: 'p' }, rtsp: { url: 'rtsp://a/' } } });
    await flush();
    expect(sent[1]).toMatchObject({ type: 'request.failed', requestId: 'r3', code: 'BAD_REQUEST' });
    expect(registry.get('cam10')).toBeUndefined();
  });

  it('runs one discovery at a time and at most four requests at once; the rest are told BUSY', async () => {
    handler.handle({ type: 'discover', requestId: 'd1' });
    handler.handle({ type: 'discover', requestId: 'd2' });
    await flush();
    expect(sent).toEqual([{ type: 'request.failed', requestId: 'd2', code: 'BUSY', message: 'a discovery is already running on this gateway' }]);
    checkResult = () => new Promise(() => undefined); // checks that never finish
    for (const id of ['c1', 'c2', 'c3', 'c4']) handler.handle({ type: 'check', requestId: id, url: 'rtsp://a/b' });
    await flush();
    expect(sent.filter((m) => m.type === 'request.failed' && m.code === 'BUSY').map((m) => (m as { requestId: string }).requestId)).toEqual(['d2', 'c4']);
    releaseDiscover([{ xaddr: 'http://10.0.0.7/onvif/device_service', endpoint: 'urn:uuid:1', address: '10.0.0.7', profiles: [] }]);
    await flush();
    expect(sent.at(-1)).toMatchObject({ type: 'discover.result', requestId: 'd1', devices: [{ address: '10.0.0.7' }] });
  });

  it('sends a snapshot in parts small enough for the link, in order, that put together are the JPEG', async () => {
    const jpeg = Buffer.alloc(SNAPSHOT_PART_BYTES * 2 + 1000);
    for (let i = 0; i < jpeg.length; i++) jpeg[i] = (i * 7919) & 0xff;
    jpeg[0] = 0xff;
    jpeg[1] = 0xd8;
    snapshot = () => Promise.resolve(jpeg);
    handler.handle({ type: 'snapshot', requestId: 's1', cameraId: 'cam1' });
    await flush();
    const parts = sent.filter((m) => m.type === 'snapshot.result');
    expect(parts.map((m) => [m.part, m.parts, m.cameraId])).toEqual([[0, 3, 'cam1'], [1, 3, 'cam1'], [2, 3, 'cam1']]);
    expect(Buffer.concat(parts.map((m) => Buffer.from(m.data, 'base64'))).equals(jpeg)).toBe(true);
  });

  it('answers a snapshot of a camera without one with a typed refusal', async () => {
    handler.handle({ type: 'snapshot', requestId: 's2', cameraId: 'cam1' });
    await flush();
    expect(sent).toEqual([{ type: 'request.failed', requestId: 's2', code: 'UNSUPPORTED', message: 'a plain RTSP camera has no snapshot service' }]);
  });
});
