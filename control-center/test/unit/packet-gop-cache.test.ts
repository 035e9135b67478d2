import { describe, expect, it } from 'vitest';
import { type FeedPacket, PacketGopCache } from '../../src/fanout/feed-packet';

let index = 0;
const packet = (bytes: number, keyframeStart = false): FeedPacket => ({ index: index++, payload: Buffer.alloc(bytes), timestamp: index, marker: true, keyframeStart });

describe('PacketGopCache', () => {
  it('keeps the packets since the last key frame and nothing before the first one', () => {
    const cache = new PacketGopCache();
    cache.push(packet(100));
    expect(cache.packets).toHaveLength(0);
    const k1 = packet(100, true);
    cache.push(k1);
    cache.push(packet(50));
    expect(cache.packets.map((p) => p.index)).toEqual([k1.index, k1.index + 1]);
    const k2 = packet(100, true);
    const held = cache.packets;
    cache.push(k2);
    expect(cache.packets.map((p) => p.index)).toEqual([k2.index]);
    expect(held).toHaveLength(2); // a replay in progress keeps its own list
    expect(cache.size).toBe(100);
  });

  it('drops a GOP that outgrows its limits until the next key frame', () => {
    const cache = new PacketGopCache({ maxBytes: 1000, maxPackets: 100 });
    cache.push(packet(600, true));
    cache.push(packet(600));
    expect(cache.packets).toHaveLength(0);
    cache.push(packet(10));
    expect(cache.packets).toHaveLength(0);
    cache.push(packet(10, true));
    expect(cache.packets).toHaveLength(1);
  });
});
