import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '../support/chromium';
import { handleCounts, startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { signInPage, waitForTiles } from '../support/page-stats';

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Handle kinds as `process.getActiveResourcesInfo()` names them: UDP sockets (werift's ICE and
 * the RTSP UDP transport), TCP connections and listeners, timers.
 */
const LEAK_KINDS = ['UDPWrap', 'TCPSocketWrap', 'TCPServerWrap', 'Timeout'];

describe('viewers joining and leaving', () => {
  let stack: InProcessStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startInProcessStack({ cameras: 2, lingerMs: 200 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('20 join/leave cycles leave no peer connection, socket or timer behind', async () => {
    const cameraIds = stack.fleet.info().cameras.map((c) => stack.centreId(c.id));
    const idle = (): boolean => {
      const c = stack.centre.stats();
      const g = stack.gateway.stats();
      const simClients = stack.fleet.cameras.reduce((n, cam) => n + cam.main.clients, 0);
      return c.feeds === 0 && c.viewers === 0 && c.viewerSockets === 0 && g.uplinks === 0 && g.camerasRunning === 0 && simClients === 0;
    };
    await until(idle, 5000, 'an idle system before the first viewer');
    const before = handleCounts();

    for (let i = 0; i < 20; i++) {
      const page = await browser.context.newPage();
      await signInPage(page, `${stack.centre.url}/#/live`, stack.accounts.operator);
      await waitForTiles(page, (ts) => ts.length === 2 && ts.every((t) => t.frames >= 1), 20_000, `first frames in cycle ${i}`);
      expect(stack.centre.stats().feeds).toBe(2);
      expect(stack.centre.stats().viewers).toBe(2);
      if (i % 2 === 0) {
        // A tidy leave: the page closes its tiles first.
        await page.evaluate((ids) => ids.forEach((id) => (window as unknown as { schoolcam: { unwatch(id: string): void } }).schoolcam.unwatch(id)), cameraIds);
        await until(() => stack.centre.stats().viewers === 0, 5000, `tiles released in cycle ${i}`);
      }
      // Odd cycles: the viewer vanishes mid-stream (tab closed, no goodbye).
      await page.close();
    }

    await until(idle, 10_000, 'every feed, uplink, RTSP session and viewer to be released');
    // The fan-out's shards (worker threads) hold the peers: they must be empty too, sockets closed.
    let shards = await stack.centre.fanout.shardStats();
    const shardDeadline = Date.now() + 10_000;
    while (shards.some((s) => s.feeds + s.viewers + (s.resources.UDPWRAP ?? 0) > 0) && Date.now() < shardDeadline) {
      await new Promise((r) => setTimeout(r, 250));
      shards = await stack.centre.fanout.shardStats();
    }
    expect(shards.map((s) => ({ feeds: s.feeds, viewers: s.viewers, udpSockets: s.resources.UDPWRAP ?? 0 }))).toEqual(shards.map(() => ({ feeds: 0, viewers: 0, udpSockets: 0 })));
    // The browser's idle keep-alive HTTP connections are not ours to count: close it, then
    // sockets and timers settle back to where they were (werift closes UDP sockets asynchronously).
    await browser.close();
    const settled = (now: Record<string, number>): boolean => LEAK_KINDS.every((k) => (now[k] ?? 0) <= (before[k] ?? 0));
    let after = handleCounts();
    const deadline = Date.now() + 10_000;
    while (!settled(after) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      after = handleCounts();
    }
    expect(before.UDPWrap ?? 0).toBeGreaterThan(0); // the names are Node's: a misspelt kind would count nothing
    for (const k of LEAK_KINDS) {
      expect({ kind: k, count: after[k] ?? 0 }).toEqual({ kind: k, count: Math.min(after[k] ?? 0, before[k] ?? 0) });
    }
  });
});
