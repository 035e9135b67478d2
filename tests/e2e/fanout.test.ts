import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtspServer } from '../../protocol/src/rtsp/rtsp-server';
import { VideoStream } from '../../device-sim/src/camera/video-stream';
import { launchChromium, type Browser } from '../support/chromium';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { CentreClient } from '../../control-center/test/support/api-client';
import { median, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { TestViewer, until } from '../support/werift-viewer';

describe('the fan-out over shards', () => {
  let stack: InProcessStack;
  let browser: Browser;
  let cams: string[];
  let cookie: string;

  beforeAll(async () => {
    // A long GOP: every key frame seen in these tests was asked for (or replayed).
    stack = await startInProcessStack({ cameras: 2, lingerMs: 500, gopSeconds: 30, centre: { fanoutShards: 2 }, fanout: { testHooks: true } });
    browser = await launchChromium();
    cams = stack.fleet.info().cameras.map((c) => stack.centreId(c.id));
    cookie = await operatorCookie(stack);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('Chromium tiles on two shards at once decode at their real size with a readable barcode', async () => {
    const page = await browser.context.newPage();
    await signInPage(page, `${stack.centre.url}/?diag=1#/live`, stack.accounts.operator);
    const tiles = await waitForTiles(page, (ts) => ts.length === 2 && ts.every((t) => t.frames >= 30 && t.barcodes >= 20), 60_000, 'two tiles with 30 frames and 20 barcodes');
    // One camera on each shard (grid tiles watch the cameras' sub streams).
    expect([...stack.centre.fanout.placement(cams[0], 'sub'), ...stack.centre.fanout.placement(cams[1], 'sub')].sort()).toEqual([0, 1]);
    const shards = await stack.centre.fanout.shardStats();
    expect(shards.map((s) => s.viewers)).toEqual([1, 1]);
    for (const t of tiles) {
      expect(`${t.width}x${t.height}`).toBe('320x180');
      expect(median(t.latencies)).toBeLessThan(1000);
    }
    expect(await page.$$eval('video', (vs) => vs.map((v) => `${v.videoWidth}x${v.videoHeight}`))).toEqual(['320x180', '320x180']);
    await page.close();
  });

  it('a viewer losing packets gets them resent with its own SSRC and sequence numbers', async () => {
    const dropped = new Set<number>();
    let seen = 0;
    const lossy = await TestViewer.watch(stack.centre.url, cookie, cams[0], (seq) => {
      // The 40th and 41st packets are lost once; their retransmissions get through.
      if (++seen < 40 || seen > 41 || dropped.has(seq)) return false;
      dropped.add(seq);
      return true;
    });
    const other = await TestViewer.watch(stack.centre.url, cookie, cams[0]);
    try {
      const before = (await stack.centre.fanout.shardStats()).reduce((n, s) => n + s.retransmissions, 0);
      await until(() => dropped.size === 2 && [...dropped].every((seq) => lossy.packets.some((p) => p.seq === seq)), 15_000, 'the lost packets to be resent');
      const ssrc = lossy.packets[0].ssrc;
      for (const seq of dropped) {
        const resent = lossy.packets.find((p) => p.seq === seq)!;
        expect(resent.ssrc).toBe(ssrc);
      }
      expect(lossy.packets.every((p) => p.ssrc === ssrc)).toBe(true);
      await until(() => other.packets.length > 50, 10_000, 'the other viewer receiving');
      expect(other.packets[0].ssrc).not.toBe(ssrc);
      // The other viewer lost nothing and got nothing twice.
      const seqs = other.packets.map((p) => p.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      const after = (await stack.centre.fanout.shardStats()).reduce((n, s) => n + s.retransmissions, 0);
      expect(after - before).toBeGreaterThanOrEqual(2);
    } finally {
      await lossy.close();
      await other.close();
    }
  });

  it('a key-frame request from one viewer makes one key frame reach every viewer once; a joining viewer’s GOP goes to it alone', async () => {
    const first = await TestViewer.watch(stack.centre.url, cookie, cams[1]);
    const viewers = [first];
    try {
      // The feed is cold (the camera's GOP is 30 s): the key frame it asks for on the viewer's behalf,
      // again until one comes, arrives long before the camera's own next one.
      await until(() => first.keyframesSince(0) >= 1, 6000, 'the first viewer of a cold feed to get a key frame');
      // Two more viewers join: each starts from the cached GOP, which the first must not see again.
      const joinedAt = Date.now();
      viewers.push(await TestViewer.watch(stack.centre.url, cookie, cams[1]));
      viewers.push(await TestViewer.watch(stack.centre.url, cookie, cams[1]));
      await until(() => viewers.every((v) => v.keyframesSince(0) >= 1), 15_000, 'every viewer to start from a key frame');
      await new Promise((r) => setTimeout(r, 1000));
      expect(first.keyframesSince(joinedAt)).toBe(0);

      const requestsBefore = (await stack.centre.fanout.shardStats()).reduce((n, s) => n + s.keyframeRequests, 0);
      const asked = Date.now();
      // Chromium sends several PLIs in a row; so does this viewer.
      for (let i = 0; i < 3; i++) await first.peer.requestKeyframe();
      await until(() => viewers.every((v) => v.keyframesSince(asked) >= 1), 10_000, 'the requested key frame at every viewer');
      await new Promise((r) => setTimeout(r, 1500));
      expect(viewers.map((v) => v.keyframesSince(asked))).toEqual([1, 1, 1]);
      const requestsAfter = (await stack.centre.fanout.shardStats()).reduce((n, s) => n + s.keyframeRequests, 0);
      expect(requestsAfter - requestsBefore).toBe(1);
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });

  it('a crashed shard is restarted and its viewers reconnect on their own, while the other shard plays on', async () => {
    const page = await browser.context.newPage();
    await signInPage(page, `${stack.centre.url}/?diag=1#/live`, stack.accounts.operator);
    await waitForTiles(page, (ts) => ts.length === 2 && ts.every((t) => t.frames >= 15), 60_000, 'two playing tiles');
    const crashed = stack.centre.fanout.placement(cams[0], 'sub')[0];
    const survivor = cams[1];
    const before = (await tileStats(page)).find((t) => t.cameraId === survivor)!.frames;
    const retriesBefore = (await tileStats(page)).find((t) => t.cameraId === cams[0])!.retries;
    stack.centre.fanout.crashShard(crashed);
    // The crashed shard's view ends, and the tile watches again by itself (after its backoff) on the restarted shard.
    await waitForTiles(page, (ts) => ts.some((t) => t.cameraId === cams[0] && t.retries > retriesBefore), 15_000, 'the tile of the crashed shard to retry');
    await waitForTiles(page, (ts) => ts.some((t) => t.cameraId === cams[0] && t.state === 'playing' && t.frames >= 15), 30_000, 'the tile to play again');
    const after = (await tileStats(page)).find((t) => t.cameraId === survivor)!;
    expect(after.state).toBe('playing');
    expect(after.frames - before).toBeGreaterThanOrEqual(30);
    const shards = await stack.centre.fanout.shardStats();
    expect(shards).toHaveLength(2);
    expect(shards.reduce((n, s) => n + s.viewers, 0)).toBe(2);
    await page.close();
  });
});

describe('a hot camera split over two shards', () => {
  let stack: InProcessStack;
  let cookie: string;

  beforeAll(async () => {
    stack = await startInProcessStack({ cameras: 1, lingerMs: 500, gopSeconds: 30, centre: { fanoutShards: 2 }, fanout: { splitAtViewers: 2 } });
    cookie = await operatorCookie(stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('its later viewers go to the other shard, fed by the first, and their key-frame requests reach the camera', async () => {
    const camera = stack.centreId(stack.fleet.info().cameras[0].id);
    const viewers: TestViewer[] = [];
    try {
      for (let i = 0; i < 4; i++) viewers.push(await TestViewer.watch(stack.centre.url, cookie, camera));
      expect(stack.centre.fanout.placement(camera)).toEqual([0, 1]);
      const shards = await stack.centre.fanout.shardStats();
      expect(shards.every((s) => s.viewers > 0)).toBe(true);
      // Every viewer decodes from a key frame (the mirror keeps its own GOP cache) and keeps receiving.
      await until(() => viewers.every((v) => v.keyframesSince(0) >= 1 && v.packets.length > 100), 20_000, 'every viewer receiving from a key frame');
      const asked = Date.now();
      // A viewer on the mirror asks: the owner forwards it upstream, and everyone gets the key frame.
      await viewers[2].peer.requestKeyframe();
      await until(() => viewers.every((v) => v.keyframesSince(asked) >= 1), 10_000, 'the key frame at every viewer');
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });
});

describe('first frame at once from a camera that cannot make a key frame on demand', () => {
  let stack: InProcessStack;
  let browser: Browser;
  let camera: RtspServer;
  let video: VideoStream;
  let plain: string;

  beforeAll(async () => {
    // Plain RTSP, no ONVIF: nobody can ask it for a key frame, and its GOP is 10 s.
    video = new VideoStream({ name: 'Plain RTSP', width: 640, height: 360, fps: 15, gopSeconds: 10 });
    camera = await RtspServer.create({ resolve: (path) => (path === 'main' ? video : undefined) });
    stack = await startInProcessStack({ cameras: 1, lingerMs: 30_000, extraCameras: [{ id: 'plain', name: 'Plain', rtsp: { url: camera.url('main') } }] });
    browser = await launchChromium();
    plain = stack.centreId('plain');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await camera?.close();
    video?.close();
  });

  it('a new viewer of a running stream sees its first frame in well under a GOP, then plays with the first viewer’s latency', async () => {
    const first = await browser.context.newPage();
    await signInPage(first, `${stack.centre.url}/?diag=1#/live`, stack.accounts.operator);
    await waitForTiles(first, (ts) => ts.some((t) => t.cameraId === plain && t.frames >= 30), 60_000, 'the plain camera playing for the first viewer');
    // Into the GOP: without the centre's cache a new viewer would wait up to 10 s for the next IDR.
    await new Promise((r) => setTimeout(r, 2500));
    const replaysBefore = (await stack.centre.fanout.shardStats()).reduce((n, s) => n + s.gopReplays, 0);
    const second = await browser.context.newPage();
    await signInPage(second, `${stack.centre.url}/?diag=1#/live`, stack.accounts.operator);
    const [tile] = (await waitForTiles(second, (ts) => ts.some((t) => t.cameraId === plain && t.barcodes >= 30), 20_000, 'the plain camera playing for the new viewer')).filter((t) => t.cameraId === plain);
    expect(tile.firstFrameAt! - tile.openedAt).toBeLessThan(2000);
    expect((await stack.centre.fanout.shardStats()).reduce((n, s) => n + s.gopReplays, 0)).toBeGreaterThan(replaysBefore);
    // Steady state unchanged: the new viewer's latency matches the first viewer's.
    await new Promise((r) => setTimeout(r, 3000));
    const latest = async (page: typeof first): Promise<number> => median((await tileStats(page)).find((t) => t.cameraId === plain)!.latencies.slice(-30));
    const [a, b] = [await latest(first), await latest(second)];
    expect(b).toBeLessThan(500);
    expect(Math.abs(a - b)).toBeLessThan(100);
    await first.close();
    await second.close();
  });
});

/** The session cookie of the stack's operator: test viewers open the signalling socket with it. */
async function operatorCookie(stack: InProcessStack): Promise<string> {
  const { username, password } = stack.accounts.operator;
  return (await CentreClient.signIn(stack.centre.url, username, password)).cookie;
}
