import { describe, expect, it } from 'vitest';
import { stackForSuite } from '../support/stack-suite';
import { median, signInPage, waitForTiles } from '../support/page-stats';

describe('live page, end to end (simulator → gateways → centre → Chromium)', () => {
  const suite = stackForSuite({ cameras: 4, schools: 2, logs: 'ignore' });

  it('shows an operator every camera playing on its sub stream at its real size, with a readable capture-time barcode under a second old', async () => {
    const page = await suite.browser.context.newPage();
    // `?diag=1`: the tiles read the capture-time barcode (only then).
    await signInPage(page, `${suite.stack.pageUrl}?diag=1#/live`, suite.stack.account('operator'));
    const tiles = await waitForTiles(
      page,
      (ts) => ts.length === 4 && ts.every((t) => t.frames >= 30 && t.barcodes >= 20),
      60_000,
      'four tiles with 30 decoded frames and 20 barcodes each',
    );
    expect(tiles.map((t) => t.cameraId).sort()).toEqual(suite.stack.cameras.map((c) => c.centreId).sort());
    for (const t of tiles) {
      expect(t.state).toBe('playing');
      expect(`${t.width}x${t.height}`).toBe('320x180'); // the grid's sub stream: half the 640×360 main
      const g2g = median(t.latencies);
      expect(g2g).toBeGreaterThan(0);
      expect(g2g).toBeLessThan(1000);
    }
    // The decoder itself reports the size: what the video element shows, not what the SDP claimed.
    const sizes = await page.$$eval('video', (vs) => vs.map((v) => `${(v).videoWidth}x${(v).videoHeight}`));
    expect(sizes).toEqual(['320x180', '320x180', '320x180', '320x180']);
    // Each tile shows its own camera: the names drawn in the page match the simulator's.
    const labels = await page.$$eval('.tile-body', (ls) => ls.map((l) => `${l.getAttribute('data-camera')} ${l.querySelector('.cam-name')?.textContent} ${l.querySelector('.school-name')?.textContent}`));
    const schoolNames: Record<string, string> = { 'zs-karlovy-vary': 'ZŠ Karlovy Vary', 'zs-sokolov': 'ZŠ Sokolov', 'gym-cheb': 'Gymnázium Cheb', 'zs-marianske-lazne': 'ZŠ Mariánské Lázně' };
    for (const c of suite.stack.cameras) expect(labels).toContain(`${c.centreId} ${c.name} ${schoolNames[c.school]}`);
    await page.close();
  });

  it('reads no barcode without ?diag=1: operators get the picture, not the test instrument', async () => {
    const page = await suite.browser.context.newPage();
    await signInPage(page, `${suite.stack.pageUrl}#/live`, suite.stack.account('operator'));
    const tiles = await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.frames >= 30), 60_000, 'four tiles with 30 decoded frames');
    for (const t of tiles) expect(t.barcodes).toBe(0);
    await page.close();
  });

  it('watches only the cameras on the current page of the grid', async () => {
    const page = await suite.browser.context.newPage();
    await signInPage(page, `${suite.stack.pageUrl}#/live`, suite.stack.account('operator'));
    await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.frames >= 1), 60_000, 'four playing tiles');
    const viewers = async (): Promise<number> => {
      const text = await (await fetch(`${suite.stack.centreUrl}/metrics`, { headers: { authorization: `Bearer ${suite.stack.metricsToken}` } })).text();
      return Number(/^schoolcam_viewers (\d+)$/m.exec(text)?.[1]);
    };
    await page.click('[data-grid="1"]');
    const [first] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames >= 1, 20_000, 'one tile');
    expect(await page.textContent('#page')).toBe('1 / 4');
    const deadline = Date.now() + 10_000;
    while ((await viewers()) !== 1 && Date.now() < deadline) await page.waitForTimeout(100);
    expect(await viewers()).toBe(1); // the three cameras off the page are released at the centre
    await page.click('#next');
    // Right after the click the old tile may still be on the page for a moment: wait for the page's next camera.
    const [second] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].cameraId !== first.cameraId && ts[0].frames >= 1, 20_000, 'the next camera playing');
    expect(second.cameraId).not.toBe(first.cameraId);
    expect(await page.textContent('#page')).toBe('2 / 4');
    await page.close();
  });

  it('serves nothing without a session: the API refuses a request without a cookie, and the page URL carries no secret', async () => {
    expect(new URL(suite.stack.pageUrl).search).toBe('');
    const res = await fetch(`${suite.stack.centreUrl}/api/cameras`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'UNAUTHORIZED' });
    const forged = await fetch(`${suite.stack.centreUrl}/api/cameras`, { headers: { cookie: 'schoolcam_session=forged-value-of-the-right-length-000000000' } });
    expect(forged.status).toBe(401);
  });
});
