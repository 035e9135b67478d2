import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CameraConfig } from '../../src/config';
import { GatewayError } from '../../src/errors';
import { CameraRegistry } from '../../src/storage/camera-registry';
import { openDatabase, type Db } from '../../src/storage/database';
import { EventOutbox } from '../../src/storage/event-outbox';
import { SecretBox } from '../../src/storage/secret-box';

let dir: string;
let dbs: Db[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-storage-'));
});
afterEach(() => {
  for (const d of dbs) if (d.open) d.close();
  dbs = [];
  rmSync(dir, { recursive: true, force: true });
});

function open(): { db: Db; registry: CameraRegistry; outbox: EventOutbox } {
  const db = openDatabase(join(dir, 'gw.db'));
  dbs.push(db);
  return { db, registry: new CameraRegistry(db, SecretBox.open(join(dir, 'gw.key'), db)), outbox: new EventOutbox(db) };
}

const onvifCam: CameraConfig = { id: 'cam1', name: 'Vchod', onvif: { xaddr: 'http://10.0.0.5/onvif/device_service', username: 'admin', password: 'Tajné-heslo-42' }, transport: 'udp' };
const rtspCam: CameraConfig = { id: 'cam2', name: 'Dvůr', rtsp: { url: 'rtsp://10.0.0.6/stream1', username: 'viewer', password: 'druhé heslo' }, allowBasicAuth: true };

describe('camera registry', () => {
  it('stores cameras with their passwords encrypted: neither password is anywhere in the database file, both come back', () => {
    const { db, registry } = open();
    registry.upsert(onvifCam, 'cli');
    registry.upsert(rtspCam, 'centre');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(join(dir, 'gw.db'));
    for (const secret of ['Tajné-heslo-42', 'druhé heslo']) {
      expect(bytes.includes(Buffer.from(secret, 'utf8'))).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false);
    }
    expect(registry.list()).toEqual([onvifCam, rtspCam]);
    expect(registry.summaries().map((s) => [s.id, s.source, s.address, s.username, s.origin])).toEqual([
      ['cam1', 'onvif', 'http://10.0.0.5/onvif/device_service', 'admin', 'cli'],
      ['cam2', 'rtsp', 'rtsp://10.0.0.6/stream1', 'viewer', 'centre'],
    ]);
    expect(JSON.stringify(registry.summaries())).not.toContain('heslo');
  });

  it('makes its key file 0600 beside the database, and refuses a missing, wrong or world-readable key', () => {
    const first = open();
    first.registry.upsert(onvifCam, 'cli');
    expect(statSync(join(dir, 'gw.key')).mode & 0o777).toBe(0o600);
    first.db.close();

    chmodSync(join(dir, 'gw.key'), 0o644);
    expect(() => open()).toThrow(/readable by other users/);
    chmodSync(join(dir, 'gw.key'), 0o600);

    const key = readFileSync(join(dir, 'gw.key'));
    unlinkSync(join(dir, 'gw.key'));
    expect(() => open()).toThrow(/gw.key is missing, and the camera passwords/);
    writeFileSync(join(dir, 'gw.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    expect(() => open()).toThrow(/not the key/);
    writeFileSync(join(dir, 'gw.key'), key, { mode: 0o600 });
    expect(open().registry.get('cam1')).toEqual(onvifCam);
  });

  it('binds each sealed password to its camera: ciphertexts swapped between rows do not decrypt', () => {
    const { db, registry } = open();
    registry.upsert(onvifCam, 'cli');
    registry.upsert({ ...onvifCam, id: 'cam3' }, 'cli');
    db.prepare("UPDATE cameras SET secrets = (SELECT secrets FROM cameras WHERE id = 'cam1') WHERE id = 'cam3'").run();
    expect(() => registry.get('cam3')).toThrow(GatewayError);
    expect(registry.get('cam1')).toEqual(onvifCam);
  });

  it('seeds the YAML cameras at every start, keeps those added by the CLI or centre, and drops config cameras that left the file', () => {
    const { registry } = open();
    registry.upsert(rtspCam, 'cli');
    registry.seedFromConfig([onvifCam, { id: 'cam4', name: 'Hala', rtsp: { url: 'rtsp://10.0.0.8/x' } }]);
    expect(registry.list().map((c) => c.id)).toEqual(['cam1', 'cam2', 'cam4']);
    const before = registry.summaries().find((s) => s.id === 'cam1')!.updatedAt;
    registry.seedFromConfig([onvifCam]);
    expect(registry.list().map((c) => c.id)).toEqual(['cam1', 'cam2']);
    expect(registry.summaries().find((s) => s.id === 'cam1')!.updatedAt).toBe(before);
    registry.seedFromConfig([{ ...onvifCam, name: 'Hlavní vchod' }]);
    expect(registry.get('cam1')?.name).toBe('Hlavní vchod');
  });

  it('refuses an invalid camera with a typed error and changes nothing', () => {
    const { registry } = open();
    expect(() => registry.upsert({ id: 'bad id', name: 'x', rtsp: { url: 'rtsp://a/b' } }, 'cli')).toThrow(GatewayError);
    expect(() => registry.upsert({ id: 'c', name: 'x' }, 'cli')).toThrow(/exactly one of onvif or rtsp/);
    expect(registry.list()).toEqual([]);
  });

  it('tells a running gateway when another connection (the CLI) changed it', () => {
    const running = open();
    const v0 = running.registry.dataVersion();
    const cli = openDatabase(join(dir, 'gw.db'));
    dbs.push(cli);
    new CameraRegistry(cli, SecretBox.open(join(dir, 'gw.key'), cli)).upsert(rtspCam, 'cli');
    expect(running.registry.dataVersion()).not.toBe(v0);
    expect(running.registry.get('cam2')).toEqual(rtspCam);
  });
});

describe('event outbox', () => {
  const ev = (i: number) => ({ cameraId: 'cam1', kind: 'motion' as const, active: i % 2 === 0, at: 1_700_000_000_000 + i });

  it('gives every event a unique id and a seq that only grows, across acks and reopening', () => {
    const a = open();
    const e1 = a.outbox.append(ev(1));
    const e2 = a.outbox.append(ev(2));
    expect(e2.seq).toBeGreaterThan(e1.seq);
    expect(e1.id).not.toBe(e2.id);
    expect(a.outbox.ack([e2.id])).toBe(1);
    a.db.close();
    const b = open();
    const e3 = b.outbox.append(ev(3));
    expect(e3.seq).toBeGreaterThan(e2.seq);
    expect(b.outbox.pending(10).map((e) => e.id)).toEqual([e1.id, e3.id]);
  });

  it('returns pending events oldest first, in pages, and forgets acked ones (a repeated ack is harmless)', () => {
    const { outbox } = open();
    const all = Array.from({ length: 7 }, (_, i) => outbox.append(ev(i)));
    expect(outbox.pending(3).map((e) => e.seq)).toEqual(all.slice(0, 3).map((e) => e.seq));
    expect(outbox.pending(3, all[2].seq).map((e) => e.seq)).toEqual(all.slice(3, 6).map((e) => e.seq));
    expect(outbox.ack([all[0].id, all[1].id, all[0].id, 'unknown'])).toBe(2);
    expect(outbox.size()).toBe(5);
    expect(outbox.pending(1)[0]).toEqual(all[2]);
  });

  it('keeps at most maxEvents, dropping the oldest and saying so', () => {
    const { db } = open();
    const dropped: number[] = [];
    const small = new EventOutbox(db, { maxEvents: 3, onDropped: (n) => dropped.push(n) });
    const all = Array.from({ length: 5 }, (_, i) => small.append(ev(i)));
    expect(small.pending(10).map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
    expect(dropped).toEqual([1, 1]);
  });
});
