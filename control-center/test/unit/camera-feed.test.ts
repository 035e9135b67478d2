import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CameraFeed, type FeedCounters } from '../../src/fanout/camera-feed';
import { packBatch } from '../../src/fanout/relay-batch';
import type { RelayBatch, RelayUpstreamMessage } from '../../src/fanout/shard-messages';
import { silent } from './fakes';

/**
 * A mirror feed (the source is another shard's relay, over a real MessageChannel), so that
 * what the feed asks of its camera is visible: every key-frame request goes up the port.
 */
const open: { feed: CameraFeed; ports: MessagePort[] }[] = [];

function mirrorFeed(): { feed: CameraFeed; requests: () => number; push: (keyframe: boolean) => void; counters: FeedCounters } {
  const channel = new MessageChannel();
  let requests = 0;
  channel.port2.on('message', (msg: RelayUpstreamMessage) => {
    if (msg.type === 'keyframe') requests++;
  });
  const counters: FeedCounters = { packetsIn: 0, skips: 0, keyframeRequests: 0, gopReplays: 0 };
  const feed = new CameraFeed('s1', 'cam-1', { peer: {} }, counters, silent, () => undefined, channel.port1);
  const push = (keyframe: boolean): void => {
    // Timestamps that follow the clock (90 kHz), as a live camera's do: the feed skips packets that arrive late.
    const ts = Math.round(performance.now() * 90) >>> 0;
    // An IDR slice or a non-IDR slice, each a whole access unit in one packet.
    const payload = Buffer.from([keyframe ? 0x65 : 0x41, 0x88, 0, 0]);
    const { meta, data } = packBatch([{ payload, timestamp: ts, marker: true }]);
    channel.port2.postMessage({ meta, data } satisfies RelayBatch, [meta.buffer, data.buffer]);
  };
  open.push({ feed, ports: [channel.port2] });
  return { feed, requests: () => requests, push, counters };
}

function tap(feed: CameraFeed): MessagePort {
  const channel = new MessageChannel();
  feed.addTap(channel.port1);
  open.at(-1)!.ports.push(channel.port2);
  return channel.port2;
}

/** Lets messages between the ports be delivered (real event loop; only the feed's timers are fake). */
async function deliver(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** Moves the feed's clock (its coalescing gap and its retry) on by `ms`. */
async function later(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await deliver();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterEach(async () => {
  vi.useRealTimers();
  for (const { feed, ports } of open.splice(0)) {
    await feed.close('test over');
    for (const p of ports) p.close();
  }
});

describe('CameraFeed key-frame requests', () => {
  it('asks once for a viewer of a cold feed, not again when the stream’s first packet comes, and never after the key frame arrived', async () => {
    const { feed, requests, push } = mirrorFeed();
    tap(feed); // no GOP cached: the camera is asked for a key frame
    await later(0);
    expect(requests()).toBe(1);
    push(false); // the stream's first packet: the request above already went out
    push(false);
    await deliver();
    await later(400);
    expect(requests()).toBe(1);
    push(true);
    await deliver();
    // The retry (every 1.5 s while someone waits) stops with the key frame.
    await later(5000);
    expect(requests()).toBe(1);
  });

  it('drops a coalesced request still waiting to be sent when a key frame arrives: two requests would make two key frames', async () => {
    const { feed, requests, push, counters } = mirrorFeed();
    push(true);
    push(false);
    await deliver();
    const relay = new MessageChannel();
    feed.addRelay(relay.port1);
    open.at(-1)!.ports.push(relay.port2);
    // Two viewers' PLIs 100 ms apart: the first goes out, the second waits for the 300 ms gap.
    relay.port2.postMessage({ type: 'keyframe' } satisfies RelayUpstreamMessage);
    await deliver();
    await later(0);
    expect(requests()).toBe(1);
    await later(100);
    relay.port2.postMessage({ type: 'keyframe' } satisfies RelayUpstreamMessage);
    await deliver();
    push(true); // the camera's answer, within the gap
    await deliver();
    await later(1000);
    expect(requests()).toBe(1);
    expect(counters.keyframeRequests).toBe(1);
  });

  it('asks again every 1.5 s while no key frame comes, and stops when one does', async () => {
    const { feed, requests, push, counters } = mirrorFeed();
    tap(feed);
    push(false);
    await deliver();
    await later(0);
    expect(requests()).toBe(1);
    // (The retry's request goes out on a timer of its own, a moment after the retry.)
    await later(1510);
    expect(requests()).toBe(2);
    expect(counters.keyframeRequests).toBe(2);
    await later(1500);
    expect(requests()).toBe(3);
    push(true);
    await deliver();
    await later(5000);
    expect(requests()).toBe(3);
  });
});
