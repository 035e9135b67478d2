/** Shared fixtures of the RTSP server/client integration tests: a fake camera source and cleanup. */
import { afterEach } from 'vitest';
import { serializeRtp } from '../../src/rtp/rtp-packet';
import type { RtspError } from '../../src/rtsp/rtsp-error';
import { RtspServer, type RtspMediaSource, type RtspServerOptions } from '../../src/rtsp/rtsp-server';
import { buildH264Sdp } from '../../src/sdp/sdp';

export const SPS = Buffer.from('Z0LADZZUFB+wEQAAAwABAAADAB6PFCqg', 'base64');
export const PPS = Buffer.from('aM48gA==', 'base64');

/** Sends one small RTP packet every 10 ms to each subscriber. */
export class FakeSource implements RtspMediaSource {
  readonly subscribers = new Set<(trackId: number, packet: Buffer) => void>();
  subscribeCalls = 0;
  private seq = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly payloadSize = 2) {
    this.timer = setInterval(() => this.tick(), 10);
  }

  describe(): string {
    return buildH264Sdp({ sps: SPS, pps: PPS });
  }

  subscribe(_trackIds: number[], onRtp: (trackId: number, packet: Buffer) => void): () => void {
    this.subscribeCalls++;
    this.subscribers.add(onRtp);
    return () => this.subscribers.delete(onRtp);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const seq = this.seq++ & 0xffff;
    const payload = Buffer.alloc(Math.max(2, this.payloadSize), 0);
    payload[0] = 0x65;
    payload[1] = seq & 0xff;
    const packet = serializeRtp({ marker: true, payloadType: 96, sequenceNumber: seq, timestamp: seq * 3000, ssrc: 0x1234, csrcs: [], payload });
    for (const s of this.subscribers) s(0, packet);
  }
}

export const cleanups: Array<() => unknown> = [];
/** Registered by each test file that imports this kit. */
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export async function startServer(opts: Partial<RtspServerOptions> = {}, source = new FakeSource()): Promise<{ server: RtspServer; source: FakeSource }> {
  cleanups.push(() => source.stop());
  const server = await RtspServer.create({ resolve: (p) => (p === 'cam1' ? source : undefined), ...opts });
  cleanups.push(() => server.close());
  return { server, source };
}

export function track<T extends { close(): Promise<void> }>(c: T): T {
  cleanups.push(() => c.close());
  return c;
}

export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function rejection(p: Promise<unknown>): Promise<RtspError> {
  try {
    await p;
  } catch (err) {
    return err as RtspError;
  }
  throw new Error('expected a rejection');
}
