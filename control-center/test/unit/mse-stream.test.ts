import { describe, expect, it } from 'vitest';
import { SyntheticH264Encoder } from '@schoolcam/protocol/h264/encoder/synthetic-encoder';
import { H264Packetizer } from '@schoolcam/protocol/h264/packetizer';
import { readBoxes } from '@schoolcam/protocol/fmp4/mp4-box';
import type { TapPacket } from '../../src/fanout/fanout';
import { MseStream } from '../../src/viewer/mse-stream';
import { FakeTapLease, silent } from './fakes';

/** Frames `from`..`to`-1 of a 15 fps camera with a 1 s GOP (key frames at 0, 15, 30…), as tap packets. */
function frames(enc: SyntheticH264Encoder, pk: H264Packetizer, from: number, to: number): TapPacket[] {
  const out: TapPacket[] = [];
  for (let i = from; i < to; i++) {
    const payloads = pk.packetize(enc.encode(1_718_000_000_000 + i * 66).nalus);
    payloads.forEach((payload, k) => out.push({ payload, timestamp: 90_000 + i * 6000, marker: k === payloads.length - 1 }));
  }
  return out;
}

function decodeTimes(segments: Buffer[]): bigint[] {
  return segments
    .filter((s) => s.toString('latin1', 4, 8) === 'moof')
    .map((s) => {
      const traf = readBoxes(readBoxes(s)[0].payload).find((b) => b.type === 'traf')!;
      return readBoxes(traf.payload).find((b) => b.type === 'tfdt')!.payload.readBigUInt64BE(4);
    });
}

function setup(): { lease: FakeTapLease; out: Buffer[]; codecs: string[]; backlog: { bytes: number } } {
  const lease = new FakeTapLease();
  const out: Buffer[] = [];
  const codecs: string[] = [];
  const backlog = { bytes: 0 };
  new MseStream(lease, { codec: (c) => codecs.push(c), segment: (b) => out.push(b), buffered: () => backlog.bytes }, silent);
  return { lease, out, codecs, backlog };
}

describe('MSE stream', () => {
  it('decodes a replayed GOP as a burst: its frames one tick apart, then live frames at their real spacing', () => {
    const enc = new SyntheticH264Encoder({ width: 160, height: 96, fps: 15, gopSeconds: 1, name: 'R' });
    const pk = new H264Packetizer();
    const { lease, out, codecs } = setup();
    lease.deliver(frames(enc, pk, 0, 5), true);
    lease.deliver(frames(enc, pk, 5, 7));
    expect(codecs).toHaveLength(1);
    expect(out[0].toString('latin1', 4, 8)).toBe('ftyp');
    expect(decodeTimes(out)).toEqual([0n, 1n, 2n, 3n, 4n, 6004n, 12_004n]);
  });

  it('skips to the next key frame (asking for one) while the socket is backed up, instead of queueing', () => {
    const enc = new SyntheticH264Encoder({ width: 160, height: 96, fps: 15, gopSeconds: 1, name: 'S' });
    const pk = new H264Packetizer();
    const { lease, out, backlog } = setup();
    lease.deliver(frames(enc, pk, 0, 3));
    backlog.bytes = 2 * 1024 * 1024;
    lease.deliver(frames(enc, pk, 3, 6));
    expect(lease.keyframeRequests).toBe(1);
    backlog.bytes = 0;
    lease.deliver(frames(enc, pk, 6, 15)); // P frames: still skipped, the picture would be broken
    const before = out.length;
    lease.deliver(frames(enc, pk, 15, 17)); // the next key frame and one after it
    expect(out.length - before).toBe(2);
    expect(decodeTimes(out).slice(-2)).toEqual([15n * 6000n, 16n * 6000n]);
    expect(lease.keyframeRequests).toBe(1);
  });
});
