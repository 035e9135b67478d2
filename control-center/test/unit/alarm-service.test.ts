import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewayEvent } from '@schoolcam/protocol/link/link-messages';
import type { Principal } from '../../src/access/principal';
import { AlarmService, type AlarmChange } from '../../src/alarms/alarm-service';
import type { AlarmRecord, AlarmStorePort, AlarmSubject, StoredEvent } from '../../src/storage/alarm-store';
import { FakeAudit, silent } from './fakes';

/** The alarm store as plain maps: what the service asks of storage, nothing more. */
class FakeAlarmStore implements AlarmStorePort {
  readonly events = new Map<string, StoredEvent>();
  readonly alarms: AlarmRecord[] = [];
  failNextInsert = false;
  transaction<T>(fn: () => T): T {
    const events = new Map(this.events);
    const alarms = this.alarms.map((a) => ({ ...a }));
    try {
      return fn();
    } catch (err) {
      this.events.clear();
      for (const [k, v] of events) this.events.set(k, v);
      this.alarms.splice(0, this.alarms.length, ...alarms);
      throw err;
    }
  }
  insertEvent(e: StoredEvent): boolean {
    if (this.failNextInsert) {
      this.failNextInsert = false;
      throw new Error('disk full');
    }
    if (this.events.has(e.id)) return false;
    this.events.set(e.id, { ...e });
    return true;
  }
  lastSeq(gatewayId: string): number {
    return Math.max(0, ...[...this.events.values()].filter((e) => e.gatewayId === gatewayId).map((e) => e.seq));
  }
  linkEvent(eventId: string, alarmId: string): void {
    this.events.get(eventId)!.alarmId = alarmId;
  }
  openAlarm(s: AlarmSubject): AlarmRecord | undefined {
    return this.of(s).filter((a) => a.ackedAt === null).at(-1);
  }
  latestAlarm(s: AlarmSubject): AlarmRecord | undefined {
    return this.of(s).at(-1);
  }
  createAlarm(a: AlarmRecord): void {
    this.alarms.push({ ...a });
  }
  updateAlarm(id: string, fields: Partial<AlarmRecord>): void {
    Object.assign(this.alarms.find((a) => a.id === id)!, fields);
  }
  ack(id: string, by: string, at: number, note: string | null): boolean {
    const a = this.alarms.find((x) => x.id === id);
    if (!a || a.ackedAt !== null) return false;
    Object.assign(a, { ackedBy: by, ackedAt: at, ackNote: note });
    return true;
  }
  getAlarm(id: string): AlarmRecord | undefined {
    const a = this.alarms.find((x) => x.id === id);
    return a && { ...a };
  }
  private of(s: AlarmSubject): AlarmRecord[] {
    return this.alarms.filter((a) => a.gatewayId === s.gatewayId && a.cameraId === s.cameraId && a.kind === s.kind);
  }
}

const OPERATOR: Principal = { userId: 'u1', username: 'operator', role: 'operator', orgId: 'kvk', sessionId: 's1' };
let store: FakeAlarmStore;
let audit: FakeAudit;
let service: AlarmService;
let changes: [string, AlarmChange][];
let clock: number;
let ids: number;
let seq: number;

function event(cameraId: string, kind: GatewayEvent['kind'], active?: boolean, extra: Partial<GatewayEvent> = {}): GatewayEvent {
  seq++;
  return { id: `e-${seq}`, seq, cameraId, kind, ...(active === undefined ? {} : { active }), at: 1_000_000 + seq, ...extra };
}

beforeEach(() => {
  store = new FakeAlarmStore();
  audit = new FakeAudit();
  clock = 2_000_000;
  ids = 0;
  seq = 0;
  service = new AlarmService(store, { get: (id) => (id === 'gw-sok' ? { schoolId: 'zs-sokolov', lastSeenAt: 500 } : undefined) }, audit, silent, {
    offlineGraceMs: 1000,
    now: () => clock,
    newId: () => `a-${++ids}`,
  });
  changes = [];
  service.on('change', (a, c) => changes.push([a.id, c]));
});

afterEach(() => {
  service.close();
  vi.useRealTimers();
});

describe('alarms from gateway events', () => {
  it('stores each event once by id, acks every id of the batch (copies too), and changes nothing for a copy', () => {
    const batch = [event('vchod', 'motion', true), event('dvur', 'tamper', true)];
    expect(service.ingest('gw-sok', batch)).toEqual(['e-1', 'e-2']);
    expect(service.ingest('gw-sok', batch)).toEqual(['e-1', 'e-2']);
    expect(store.events.size).toBe(2);
    expect(store.alarms.map((a) => [a.kind, a.cameraId, a.occurrences])).toEqual([
      ['motion', 'gw-sok:vchod', 1],
      ['tamper', 'gw-sok:dvur', 1],
    ]);
    expect(changes).toEqual([
      ['a-1', 'raised'],
      ['a-2', 'raised'],
    ]);
    expect(store.events.get('e-1')).toMatchObject({ cameraId: 'gw-sok:vchod', schoolId: 'zs-sokolov', receivedAt: clock, alarmId: 'a-1' });
  });

  it('keeps one open alarm per camera and kind: more motion updates it, motion ending clears it, and after an ack the next motion is a new alarm', () => {
    service.ingest('gw-sok', [event('vchod', 'motion', true), event('vchod', 'motion', false), event('vchod', 'motion', true)]);
    expect(store.alarms).toHaveLength(1);
    expect(store.alarms[0]).toMatchObject({ occurrences: 2, active: true, clearedAt: null, raisedAt: 1_000_001, lastAt: 1_000_003 });
    // One push per alarm and batch, with its final state.
    expect(changes.map(([, c]) => c)).toEqual(['raised']);
    service.ingest('gw-sok', [event('vchod', 'motion', false)]);
    expect(store.alarms[0]).toMatchObject({ active: false, clearedAt: 1_000_004 });
    expect(changes.map(([, c]) => c)).toEqual(['raised', 'cleared']);

    service.ack(OPERATOR, '10.0.0.1', 'a-1', 'cleaner in the hall');
    expect(store.alarms[0]).toMatchObject({ ackedBy: 'operator', ackedAt: clock, ackNote: 'cleaner in the hall' });
    service.ingest('gw-sok', [event('vchod', 'motion', true)]);
    expect(store.alarms.map((a) => a.id)).toEqual(['a-1', 'a-2']);
    // Every event stays linked to the alarm it made or changed: the alarm's history.
    expect([...store.events.values()].map((e) => e.alarmId)).toEqual(['a-1', 'a-1', 'a-1', 'a-1', 'a-2']);
  });

  it('applies a batch in seq order even when it arrives shuffled', () => {
    const on = event('vchod', 'motion', true);
    const off = event('vchod', 'motion', false);
    service.ingest('gw-sok', [off, on]);
    expect(store.alarms[0]).toMatchObject({ active: false, clearedAt: off.at });
  });

  it('raises camera_offline once while the camera stays down, even after it is acknowledged; back online clears it', () => {
    service.ingest('gw-sok', [event('vchod', 'camera_offline', undefined, { reason: 'no answer for 10 s' })]);
    service.ack(OPERATOR, '10.0.0.1', 'a-1', undefined);
    service.ingest('gw-sok', [event('vchod', 'camera_offline')]);
    expect(store.alarms).toHaveLength(1);
    expect(store.alarms[0]).toMatchObject({ kind: 'camera_offline', reason: 'no answer for 10 s', active: true });
    service.ingest('gw-sok', [event('vchod', 'camera_online')]);
    expect(store.alarms[0]).toMatchObject({ active: false });
    service.ingest('gw-sok', [event('vchod', 'camera_offline')]);
    expect(store.alarms.map((a) => [a.kind, a.active, a.ackedAt === null])).toEqual([
      ['camera_offline', false, false],
      ['camera_offline', true, true],
    ]);
  });

  it('stores nothing of a batch when storing fails, so the gateway can send it again whole', () => {
    store.failNextInsert = true;
    expect(() => service.ingest('gw-sok', [event('vchod', 'motion', true)])).toThrow('disk full');
    expect(store.events.size).toBe(0);
    expect(store.alarms).toHaveLength(0);
    expect(changes).toEqual([]);
  });

  it('refuses events from a gateway it does not know', () => {
    expect(() => service.ingest('gw-ghost', [event('x', 'motion', true)])).toThrow(/unknown gateway/);
  });
});

describe('acknowledging', () => {
  it('audits the acknowledgement before it takes effect, and refuses a second one', () => {
    service.ingest('gw-sok', [event('vchod', 'motion', true)]);
    service.ack(OPERATOR, '10.0.0.1', 'a-1', undefined);
    expect(audit.entries).toEqual([
      expect.objectContaining({ kind: 'alarm.ack', outcome: 'ok', actor: OPERATOR, address: '10.0.0.1', cameraId: 'gw-sok:vchod', schoolId: 'zs-sokolov', target: 'a-1' }),
    ]);
    expect(changes.at(-1)).toEqual(['a-1', 'acked']);
    expect(() => service.ack(OPERATOR, '10.0.0.1', 'a-1', undefined)).toThrow(/already acknowledged by operator/);
    expect(() => service.ack(OPERATOR, '10.0.0.1', 'a-404', undefined)).toThrow(/not found/);
  });

  it('acknowledges nothing when the audit entry cannot be written', () => {
    service.ingest('gw-sok', [event('vchod', 'motion', true)]);
    audit.failing = true;
    expect(() => service.ack(OPERATOR, '10.0.0.1', 'a-1', undefined)).toThrow(/cannot write/);
    expect(store.alarms[0].ackedAt).toBeNull();
  });
});

describe('gateway_offline from the link', () => {
  it('raises gateway_offline when a closed link does not come back within the grace, and clears it when the gateway says hello', () => {
    vi.useFakeTimers();
    service.linkDown('gw-sok', 'closed');
    vi.advanceTimersByTime(999);
    expect(store.alarms).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(store.alarms).toEqual([expect.objectContaining({ kind: 'gateway_offline', cameraId: null, schoolId: 'zs-sokolov', raisedAt: clock, active: true })]);
    service.linkUp('gw-sok');
    expect(store.alarms[0]).toMatchObject({ active: false, clearedAt: clock });
    expect(changes.map(([, c]) => c)).toEqual(['raised', 'cleared']);
  });

  it('raises nothing for a link that comes back within the grace, is replaced, revoked or shut down', () => {
    vi.useFakeTimers();
    service.linkDown('gw-sok', 'closed');
    vi.advanceTimersByTime(500);
    service.linkUp('gw-sok');
    for (const cause of ['replaced', 'revoked', 'shutdown'] as const) service.linkDown('gw-sok', cause);
    vi.advanceTimersByTime(5000);
    expect(store.alarms).toHaveLength(0);
  });

  it('raises at once for a missed heartbeat; going down again while that alarm is open counts as another occurrence', () => {
    vi.useFakeTimers();
    service.linkDown('gw-sok', 'missed_heartbeat');
    vi.advanceTimersByTime(0);
    expect(store.alarms).toHaveLength(1);
    service.linkUp('gw-sok');
    service.linkDown('gw-sok', 'missed_heartbeat');
    vi.advanceTimersByTime(0);
    expect(store.alarms.map((a) => [a.kind, a.occurrences, a.active])).toEqual([['gateway_offline', 2, true]]);
  });

  it('raises for a gateway that does not connect within the grace after the centre starts, as offline since it was last seen', () => {
    vi.useFakeTimers();
    service.awaitGateways(['gw-sok']);
    vi.advanceTimersByTime(1000);
    expect(store.alarms.map((a) => [a.kind, a.raisedAt, a.active, a.reason])).toEqual([['gateway_offline', 500, true, 'has not connected since the control centre started']]);
    // A centre restarted again while the gateway is still down does not raise it twice.
    service.ack(OPERATOR, '10.0.0.1', 'a-1', undefined);
    service.awaitGateways(['gw-sok']);
    vi.advanceTimersByTime(1000);
    expect(store.alarms).toHaveLength(1);
  });
});
