import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewayEvent, LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { EventDelivery, type LinkPort } from '../../src/link/event-delivery';
import { openDatabase, type Db } from '../../src/storage/database';
import { EventOutbox } from '../../src/storage/event-outbox';

/** The link as delivery sees it: up or down, and what went out. */
class FakeLink implements LinkPort {
  isOpen = false;
  readonly sent: LinkMessage[] = [];
  send(msg: LinkMessage): boolean {
    if (!this.isOpen) return false;
    this.sent.push(msg);
    return true;
  }
  /** Every event sent, flattened, in order. */
  events(): GatewayEvent[] {
    return this.sent.flatMap((m) => (m.type === 'events' ? m.events : []));
  }
}

let dir: string;
let db: Db;
let outbox: EventOutbox;
let link: FakeLink;
let delivery: EventDelivery;
const log = pino({ level: 'silent' });
const motion = (i: number) => ({ cameraId: 'cam1', kind: 'motion' as const, active: true, at: 1_700_000_000_000 + i });

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'gw-delivery-'));
  db = openDatabase(join(dir, 'gw.db'));
  outbox = new EventOutbox(db);
  link = new FakeLink();
  delivery = new EventDelivery(outbox, link, log, { window: 250, resendAfterMs: 30_000 });
});
afterEach(() => {
  delivery.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  vi.useRealTimers();
});

function record(i: number): GatewayEvent {
  const e = outbox.append(motion(i));
  delivery.notify();
  return e;
}

describe('event delivery (store and forward)', () => {
  it('stores events while the link is down and sends them, oldest first, in batches of at most 100, when it comes up', () => {
    const stored = Array.from({ length: 230 }, (_, i) => record(i));
    expect(link.sent).toEqual([]);
    link.isOpen = true;
    delivery.linkUp();
    expect(link.sent.map((m) => (m.type === 'events' ? m.events.length : 0))).toEqual([100, 100, 30]);
    expect(link.events().map((e) => e.id)).toEqual(stored.map((e) => e.id));
  });

  it('sends a new event at once while the link is up, and forgets it only when the centre acks its id', () => {
    link.isOpen = true;
    delivery.linkUp();
    const e = record(1);
    expect(link.events()).toEqual([e]);
    expect(outbox.size()).toBe(1);
    delivery.acked([e.id]);
    expect(outbox.size()).toBe(0);
  });

  it('resends what was in flight when the link dropped: same ids, same seqs, same order, nothing lost', () => {
    link.isOpen = true;
    delivery.linkUp();
    const all = [record(1), record(2), record(3)];
    delivery.acked([all[0].id]);
    link.isOpen = false;
    delivery.linkDown();
    const during = [record(4), record(5)];
    link.sent.length = 0;
    link.isOpen = true;
    delivery.linkUp();
    expect(link.events()).toEqual([all[1], all[2], ...during]);
  });

  it('keeps at most `window` events unacked in flight and sends more as acks arrive', () => {
    for (let i = 0; i < 600; i++) record(i);
    link.isOpen = true;
    delivery.linkUp();
    expect(link.events()).toHaveLength(250);
    delivery.acked(link.events().slice(0, 100).map((e) => e.id));
    expect(link.events()).toHaveLength(350);
    expect(new Set(link.events().map((e) => e.seq)).size).toBe(350);
  });

  it('sends unacked events again after 30 s without an ack (a centre that lost them), and not before', () => {
    link.isOpen = true;
    delivery.linkUp();
    const e = record(1);
    vi.advanceTimersByTime(29_999);
    expect(link.events()).toEqual([e]);
    vi.advanceTimersByTime(1);
    expect(link.events()).toEqual([e, e]);
    delivery.acked([e.id]);
    vi.advanceTimersByTime(60_000);
    expect(link.events()).toHaveLength(2);
  });

  it('a send the link refuses leaves the events in the outbox for the next try', () => {
    link.isOpen = true;
    const refuse = vi.spyOn(link, 'send').mockReturnValueOnce(false);
    const e = record(1);
    expect(refuse).toHaveBeenCalledTimes(1);
    expect(outbox.pending(10)).toEqual([e]);
    delivery.linkUp();
    expect(link.events()).toEqual([e]);
  });
});
