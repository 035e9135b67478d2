/**
 * A camera reboots while someone watches it in Chromium: the simulator drops every connection and
 * refuses for a few seconds, then comes back (its RTP timeline restarts elsewhere). The gateway
 * reconnects underneath a WebRTC uplink that stays up, so the page keeps its session: the same tile
 * (never reopened, no reload) shows live pictures again within 2 s of the camera answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '../support/chromium';
import { simControl } from '../support/gateway-kit';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { signInPage, tileStats, waitForTiles } from '../support/page-stats';

describe('a camera rebooting under a viewer', () => {
  let stack: InProcessStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startInProcessStack({ cameras: 1, lingerMs: 5000 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('resumes within 2 s of the camera answering again (its main stream, in a single view), with the viewer still connected and no reload', async () => {
    const page = await browser.context.newPage();
    const cam = stack.fleet.info().cameras[0];
    // The camera large, on its main stream: the one its gateway supervises.
    await signInPage(page, `${stack.centre.url}/?diag=1#/live?camera=${encodeURIComponent(stack.centreId(cam.id))}`, stack.accounts.operator);
    const sim = stack.fleet.cameras[0];
    const [before] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames >= 30 && ts[0].barcodes >= 10, 60_000, 'the camera playing');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));

    await simControl(cam.control, 'faults/reboot', { downSeconds: 4 });
    const deadline = Date.now() + 15_000;
    while (sim.isDown === false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // While it is down, the picture stops but the tile is not torn down.
    await page.waitForTimeout(1500);
    const during = (await tileStats(page))[0];
    expect(during.openedAt).toBe(before.openedAt);
    while (sim.isDown && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sim.isDown).toBe(false);
    const back = Date.now();
    const framesAtReturn = (await tileStats(page))[0].frames;

    // Live pictures again: new decoded frames whose capture-time barcode is fresh.
    let resumedAt = 0;
    while (Date.now() - back < 10_000) {
      const t = (await tileStats(page))[0];
      if (t.frames > framesAtReturn + 2 && t.latencies.length > 0 && t.latencies.at(-1)! < 1000) {
        resumedAt = Date.now();
        break;
      }
      await page.waitForTimeout(50);
    }
    expect(resumedAt, 'live frames after the reboot').toBeGreaterThan(0);
    expect(resumedAt - back).toBeLessThanOrEqual(2000);

    const after = (await tileStats(page))[0];
    // The same tile, the same session: never reopened, the page never reloaded.
    expect(after.openedAt).toBe(before.openedAt);
    expect(after.firstFrameAt).toBe(before.firstFrameAt);
    expect(navigations).toEqual([]);
    expect(stack.gateway.stats().uplinks).toBe(1);
    await page.close();
  });
});
