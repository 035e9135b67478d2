/**
 * A gateway process killed with SIGKILL while events wait in its outbox — one the centre stored
 * but whose ack was lost, one the centre never saw (the link was cut) — and started again: the
 * real centre ends up with every event once, in order.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmEventView, AlarmView } from '../../control-center/src/alarms/alarm-view';
import { openDatabase } from '../../gateway/src/storage/database';
import { EventOutbox } from '../../gateway/src/storage/event-outbox';
import { simControl } from '../support/gateway-kit';
import { type LinkedStack, startLinkedStack, waitUntil } from '../support/linked-stack';

let stack: LinkedStack;
let child: ChildProcess;

beforeAll(async () => {
  stack = await startLinkedStack({ cameras: 1 });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** Events waiting in the gateway process's outbox, read from its SQLite file as it is on disk. */
function outboxSize(): number {
  const db = openDatabase(join(stack.gatewayConfigFile, '..', 'gateway-data', `gateway-${stack.gatewayId}.db`));
  try {
    return new EventOutbox(db).size();
  } finally {
    db.close();
  }
}

describe('a gateway killed with events pending', () => {
  it('delivers them after it is started again: every event once, in order', async () => {
    const sim = stack.sims[0];
    const cameraId = stack.centreId(sim.id);
    child = stack.spawnGateway();
    await waitUntil(() => stack.centre.stats().gatewaysOnline === 1 && stack.fleet.cameras[0].onvif.faultState().subscriptions > 0, 'the gateway process linked and subscribed', 30_000, 50);
    const operator = await stack.signIn('operator');
    const history = async (): Promise<AlarmEventView[]> => {
      const open = (await operator.get<{ alarms: AlarmView[] }>(`/api/alarms?state=all&kind=motion&cameraId=${encodeURIComponent(cameraId)}`)).body.alarms[0];
      return open ? (await operator.get<{ events: AlarmEventView[] }>(`/api/alarms/${open.id}`)).body.events : [];
    };

    await simControl(sim.control, 'events/motion', { state: true });
    await waitUntil(async () => (await history()).length === 1, 'the first event at the centre');
    await waitUntil(() => outboxSize() === 0, 'its ack');

    stack.proxy.holdReplies();
    await simControl(sim.control, 'events/motion', { state: false });
    await waitUntil(async () => (await history()).length === 2, 'the second event at the centre (its ack lost)');
    stack.proxy.cut();
    await simControl(sim.control, 'events/motion', { state: true });
    await waitUntil(() => outboxSize() === 2, 'both pending events in the outbox on disk', 10_000, 100);

    child.kill('SIGKILL');
    await new Promise<void>((r) => child.once('exit', () => r()));
    expect(child.signalCode).toBe('SIGKILL');
    stack.proxy.restore();
    child = stack.spawnGateway();
    await waitUntil(async () => (await history()).length === 3 && outboxSize() === 0, 'the pending events delivered and acked', 30_000, 100);
    const events = await history();
    expect(events.map((e) => e.active)).toEqual([true, false, true]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  }, 120_000);
});
