/**
 * Store and forward between a real gateway and the real centre, through a TCP proxy the test
 * breaks: first the centre's acks are lost on the way (the gateway must send those events again),
 * then the link is cut for 60 s while motion keeps coming. When it heals, the centre holds every
 * event exactly once, in the order the camera raised them; the gateway's outbox is empty; and the
 * outage itself was an alarm (`gateway_offline`), cleared when the gateway came back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmEventView, AlarmView } from '../../control-center/src/alarms/alarm-view';
import { simControl } from '../support/gateway-kit';
import { type LinkedStack, startLinkedStack, waitUntil } from '../support/linked-stack';

const CUT_MS = 60_000;
let stack: LinkedStack;

beforeAll(async () => {
  stack = await startLinkedStack({ cameras: 1 });
  await stack.startGateway();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('a link cut between gateway and centre', () => {
  it(`loses no event and shows none twice, in order, after acks are lost and the link is cut for ${CUT_MS / 1000} s with motion during the cut`, async () => {
    const sim = stack.sims[0];
    const cameraId = stack.centreId(sim.id);
    const gateway = stack.gateway!;
    await waitUntil(() => stack.centre.stats().gatewaysOnline === 1 && stack.fleet.cameras[0].onvif.faultState().subscriptions > 0, 'the gateway linked and subscribed', 20_000);
    const operator = await stack.signIn('operator');
    const motionAlarm = async (): Promise<{ alarm: AlarmView; events: AlarmEventView[] } | undefined> => {
      const open = (await operator.get<{ alarms: AlarmView[] }>(`/api/alarms?state=open&kind=motion&cameraId=${encodeURIComponent(cameraId)}`)).body.alarms[0];
      return open && (await operator.get<{ alarm: AlarmView; events: AlarmEventView[] }>(`/api/alarms/${open.id}`)).body;
    };
    const raised: boolean[] = [];
    const raise = async (state: boolean): Promise<void> => {
      await simControl(sim.control, 'events/motion', { state });
      raised.push(state);
    };

    await raise(true);
    await waitUntil(async () => (await motionAlarm())?.events.length === 1, 'the first event at the centre');
    await waitUntil(() => gateway.stats().outbox === 0, 'its ack');

    // The centre's replies (acks among them) are lost: the centre stores the next events, the gateway keeps them.
    stack.proxy.holdReplies();
    await raise(false);
    await raise(true);
    await waitUntil(async () => (await motionAlarm())?.events.length === 3, 'two more events at the centre');
    expect(gateway.stats().outbox).toBe(2);

    // The link is cut for a minute; motion goes on.
    stack.proxy.cut();
    const cutAt = Date.now();
    await waitUntil(() => !gateway.linkUp, 'the gateway to notice the cut', 20_000, 50);
    for (const state of [false, true, false, true, false, true]) {
      await raise(state);
      await new Promise((r) => setTimeout(r, 4000));
    }
    // The region sees the outage itself as an alarm.
    const offline = async (): Promise<AlarmView | undefined> =>
      (await operator.get<{ alarms: AlarmView[] }>('/api/alarms?state=all&kind=gateway_offline')).body.alarms.find((a) => a.gatewayId === stack.gatewayId);
    await waitUntil(async () => (await offline())?.active === true, 'gateway_offline', 30_000, 200);
    await waitUntil(() => gateway.stats().outbox === 8, 'the events of the cut in the outbox', 10_000, 100);
    expect(stack.centre.stats().gatewaysOnline).toBe(0);
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + CUT_MS - Date.now())));

    stack.proxy.restore();
    await waitUntil(() => gateway.stats().outbox === 0, 'the outbox to drain', 30_000, 50);
    const { alarm, events } = (await motionAlarm())!;
    // Exactly the events raised, each once, in the order raised.
    expect(events.map((e) => e.active)).toEqual(raised);
    expect(new Set(events.map((e) => e.id)).size).toBe(raised.length);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const ats = events.map((e) => e.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    // One open alarm for the camera, counting every start; the ones held back by the cut are marked late.
    expect(alarm).toMatchObject({ occurrences: raised.filter(Boolean).length, active: true, state: 'open' });
    expect(events.slice(3).every((e) => e.late)).toBe(true);
    expect(events.slice(0, 3).some((e) => e.late)).toBe(false);
    await waitUntil(async () => (await offline())?.active === false, 'gateway_offline to clear');
  }, CUT_MS + 120_000);
});
