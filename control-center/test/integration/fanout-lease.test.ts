import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { createPeer, gatheringComplete, localSdp } from '@schoolcam/protocol/webrtc/werift-peer';
import { Fanout, type GatewayLinkPort } from '../../src/fanout/fanout';
import { until } from '../support/centre-fixture';

/** A gateway link that records what the fan-out asks of the gateway. */
class RecordingLink implements GatewayLinkPort {
  readonly sent: { gatewayId: string; msg: LinkMessage }[] = [];
  online = true;
  send(gatewayId: string, msg: LinkMessage): boolean {
    if (!this.online) return false;
    this.sent.push({ gatewayId, msg });
    return true;
  }
  of(type: LinkMessage['type']): LinkMessage[] {
    return this.sent.filter((s) => s.msg.type === type).map((s) => s.msg);
  }
}

let fanout: Fanout | undefined;
afterEach(async () => {
  // The fan-out's shards are worker threads: wait until they have stopped.
  fanout?.close();
  await fanout?.done;
});

function make(link: RecordingLink, opts: { linger?: number; offerTimeout?: number } = {}): Fanout {
  fanout = new Fanout(link, { peer: { loopbackOnly: true }, upstreamLingerMs: opts.linger ?? 300, offerTimeoutMs: opts.offerTimeout ?? 10_000 }, pino({ level: 'silent' }));
  return fanout;
}

describe('fan-out leases and linger (real werift peers, a recording link)', () => {
  it('opens one upstream per camera whatever the number of viewers, and stops it a linger after the last lease is released', async () => {
    const link = new RecordingLink();
    const f = make(link);
    const a = await f.watch('gw-1:cam', 'gw-1');
    const b = await f.watch('gw-1:cam', 'gw-1');
    expect(a.offer).toContain('m=video');
    expect(link.of('stream.start')).toHaveLength(1);
    expect(f.stats()).toEqual({ feeds: 1, viewers: 2 });
    a.release();
    a.release(); // idempotent
    expect(f.stats()).toEqual({ feeds: 1, viewers: 1 });
    b.release();
    expect(link.of('stream.stop')).toHaveLength(0); // lingering
    await until(() => link.of('stream.stop').length === 1, 'the upstream to stop after the linger', 3000);
    expect(f.stats()).toEqual({ feeds: 0, viewers: 0 });
  });

  it('opens one upstream per camera and profile: grid tiles share the sub stream, a single view gets the main one', async () => {
    const link = new RecordingLink();
    const f = make(link);
    const grid1 = await f.watch('gw-1:cam', 'gw-1', 'sub');
    const grid2 = await f.watch('gw-1:cam', 'gw-1', 'sub');
    const single = await f.watch('gw-1:cam', 'gw-1');
    const starts = link.of('stream.start') as Extract<LinkMessage, { type: 'stream.start' }>[];
    expect(starts.map((m) => m.profile ?? 'main').sort()).toEqual(['main', 'sub']);
    expect(new Set(starts.map((m) => m.streamId)).size).toBe(2);
    expect(f.stats()).toEqual({ feeds: 2, viewers: 3 });
    for (const l of [grid1, grid2, single]) l.release();
  });

  it('keeps the upstream when a viewer comes back within the linger', async () => {
    const link = new RecordingLink();
    const f = make(link, { linger: 600 });
    (await f.watch('gw-1:cam', 'gw-1')).release();
    await new Promise((r) => setTimeout(r, 200));
    const again = await f.watch('gw-1:cam', 'gw-1');
    await new Promise((r) => setTimeout(r, 700));
    expect(link.of('stream.start')).toHaveLength(1);
    expect(link.of('stream.stop')).toHaveLength(0);
    again.release();
  });

  it('ends every lease of a gateway that goes away, and of a stream the gateway never offers', async () => {
    const link = new RecordingLink();
    const f = make(link, { offerTimeout: 1000 });
    // Shard threads up first: the offer timeout runs from the upstream's start and must not end
    // the feed while the first viewer's peer is still being made on a thread that is booting.
    await f.shardStats();
    const ended: string[] = [];
    const lease = await f.watch('gw-1:cam', 'gw-1');
    lease.onEnded((reason) => ended.push(reason));
    await until(() => ended.length === 1, 'the offer timeout', 5000);
    expect(ended[0]).toMatch(/did not offer/);
    const other = await f.watch('gw-2:cam', 'gw-2');
    other.onEnded((reason) => ended.push(reason));
    f.onGatewayGone('gw-2');
    expect(ended[1]).toBe('gateway offline');
  });

  it('closes a viewer whose connection never comes up after its answer, and tells the lease\'s owner', async () => {
    const link = new RecordingLink();
    const f = make(link, { offerTimeout: 60_000 });
    const lease = await f.watch('gw-1:cam', 'gw-1');
    const ended: string[] = [];
    lease.onEnded((reason) => ended.push(reason));
    // A browser's answer whose only candidate is a port nobody listens on: ICE never succeeds.
    const browser = createPeer({ loopbackOnly: true });
    await browser.setRemoteDescription({ type: 'offer', sdp: lease.offer });
    await browser.setLocalDescription(await browser.createAnswer());
    await gatheringComplete(browser);
    const answer = localSdp(browser, { loopbackOnly: true }).replace(/(a=candidate:\S+ \d \w+ \d+ 127\.0\.0\.1) \d+/g, '$1 9');
    await browser.close();
    await lease.accept(answer);
    await until(() => ended.length > 0, 'the failed viewer to be closed', 25_000);
    expect(ended).toEqual(['viewer connection failed']);
    expect(f.stats().viewers).toBe(0);
  }, 40_000);

  it('counts a raw tap as a viewer of the camera\'s one upstream: it shares the upstream, ends with the feed, and its release starts the linger', async () => {
    const link = new RecordingLink();
    const f = make(link, { linger: 300, offerTimeout: 60_000 });
    const viewer = await f.watch('gw-1:cam', 'gw-1');
    const tap = f.tap('gw-1:cam', 'gw-1');
    expect(link.of('stream.start')).toHaveLength(1);
    expect(f.stats()).toEqual({ feeds: 1, viewers: 2 });
    viewer.release();
    await new Promise((r) => setTimeout(r, 500));
    expect(link.of('stream.stop')).toHaveLength(0); // the tap holds the upstream
    tap.release();
    tap.release(); // idempotent
    await until(() => link.of('stream.stop').length === 1, 'the upstream to stop after the tap left', 3000);
    const ended: string[] = [];
    const other = f.tap('gw-2:cam', 'gw-2');
    other.onEnded((reason) => ended.push(reason));
    f.onGatewayGone('gw-2');
    expect(ended).toEqual(['gateway offline']);
    expect(f.stats()).toEqual({ feeds: 0, viewers: 0 });
  });

  it('refuses a viewer at once when the camera\'s gateway is offline', async () => {
    const link = new RecordingLink();
    link.online = false;
    await expect(make(link).watch('gw-1:cam', 'gw-1')).rejects.toMatchObject({ code: 'GATEWAY_OFFLINE' });
  });
});
