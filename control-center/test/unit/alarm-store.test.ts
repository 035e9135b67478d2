import { beforeEach, describe, expect, it } from 'vitest';
import { AlarmStore, type StoredEvent } from '../../src/storage/alarm-store';
import { type Db, openDatabase } from '../../src/storage/database';
import { alarmRecord } from './fakes';

let db: Db;
let store: AlarmStore;

const alarm = alarmRecord;
const event = (id: string, seq: number, fields: Partial<StoredEvent> = {}): StoredEvent => ({
  id,
  gatewayId: 'gw-sok',
  seq,
  cameraId: 'gw-sok:vchod',
  schoolId: 'zs-sokolov',
  kind: 'motion',
  active: true,
  at: 1000 + seq,
  cameraTime: null,
  reason: null,
  receivedAt: 5000,
  alarmId: null,
  ...fields,
});

beforeEach(() => {
  db = openDatabase(':memory:');
  store = new AlarmStore(db);
});

describe('alarm store (SQLite)', () => {
  it('stores an event once by id and lists an alarm’s events in seq order', () => {
    expect(store.insertEvent(event('e2', 2))).toBe(true);
    expect(store.insertEvent(event('e1', 1, { active: false }))).toBe(true);
    expect(store.insertEvent(event('e1', 1, { active: true }))).toBe(false);
    expect(store.lastSeq('gw-sok')).toBe(2);
    expect(store.lastSeq('gw-other')).toBe(0);
    store.createAlarm(alarm('a1'));
    store.linkEvent('e1', 'a1');
    store.linkEvent('e2', 'a1');
    expect(store.eventsOf('a1').map((e) => [e.id, e.seq, e.active])).toEqual([
      ['e1', 1, false],
      ['e2', 2, true],
    ]);
  });

  it('finds the open and the latest alarm of a subject, acknowledges only once', () => {
    store.createAlarm(alarm('a1', { ackedBy: 'operator', ackedAt: 2000 }));
    store.createAlarm(alarm('a2'));
    store.createAlarm(alarm('g1', { kind: 'gateway_offline', cameraId: null }));
    const subject = { gatewayId: 'gw-sok', cameraId: 'gw-sok:vchod', kind: 'motion' } as const;
    expect(store.openAlarm(subject)?.id).toBe('a2');
    expect(store.ack('a2', 'operator', 3000, 'ok')).toBe(true);
    expect(store.ack('a2', 'other', 3001, null)).toBe(false);
    expect(store.openAlarm(subject)).toBeUndefined();
    expect(store.latestAlarm(subject)).toMatchObject({ id: 'a2', ackedBy: 'operator', ackedAt: 3000, ackNote: 'ok', active: true });
    expect(store.openAlarm({ gatewayId: 'gw-sok', cameraId: null, kind: 'gateway_offline' })?.id).toBe('g1');
    store.updateAlarm('g1', { active: false, clearedAt: 4000, occurrences: 3 });
    expect(store.getAlarm('g1')).toMatchObject({ active: false, clearedAt: 4000, occurrences: 3 });
  });

  it('lists newest first, open only or all, within a scope, by kind, camera and page', () => {
    store.createAlarm(alarm('old', { raisedAt: 1000, ackedAt: 1500, ackedBy: 'operator' }));
    store.createAlarm(alarm('mid', { raisedAt: 2000 }));
    store.createAlarm(alarm('cheb', { raisedAt: 3000, gatewayId: 'gw-cheb', cameraId: 'gw-cheb:dvur', schoolId: 'gym-cheb', kind: 'tamper' }));
    const region = { region: true, schoolIds: [], cameraIds: [] };
    const ids = (q: Partial<Parameters<AlarmStore['list']>[0]>): string[] => store.list({ scope: region, limit: 100, ...q }).map((a) => a.id);
    expect(ids({})).toEqual(['cheb', 'mid', 'old']);
    expect(ids({ open: true })).toEqual(['cheb', 'mid']);
    expect(ids({ scope: { region: false, schoolIds: ['zs-sokolov'], cameraIds: [] } })).toEqual(['mid', 'old']);
    expect(ids({ scope: { region: false, schoolIds: [], cameraIds: ['gw-cheb:dvur'] } })).toEqual(['cheb']);
    expect(ids({ scope: { region: false, schoolIds: [], cameraIds: [] } })).toEqual([]);
    expect(ids({ kind: 'tamper' })).toEqual(['cheb']);
    expect(ids({ cameraId: 'gw-sok:vchod', before: 2000 })).toEqual(['old']);
    expect(ids({ limit: 1 })).toEqual(['cheb']);
  });
});
