import { describe, expect, it } from 'vitest';
import type { AlarmView } from '../../control-center/src/alarms/alarm-view';
import type { CameraView } from '../../control-center/src/cameras/camera-view';
import { CentreClient } from '../../control-center/test/support/api-client';
import { simControl } from '../support/gateway-kit';
import { FULL_HD, LAPTOP, PHONE, type Person, foreignRequests, openDashboard, screenshot, signIn, unlabelledControls } from '../support/dashboard-page';
import { tileStats, waitForTiles } from '../support/page-stats';
import { stackForJourneys } from '../support/stack-suite';

/**
 * The regional operator's journeys through the dashboard, in Chromium, on the demo stack
 * (simulator → school gateways → centre): what a person sees on the screen.
 */
describe('the operator at the dashboard (Chromium, demo stack)', () => {
  // 10 fps keeps sixteen cameras light enough for a shared two-core test machine.
  const suite = stackForJourneys({ cameras: 16, schools: 4, fps: 10, logs: 'ignore' });

  /** Every tile's picture keeps moving: more decoded frames after a while than before. */
  async function expectAllMoving(page: Person['page'], n: number): Promise<void> {
    const before = new Map((await tileStats(page)).map((t) => [t.cameraId, t.frames]));
    await waitForTiles(page, (ts) => ts.length === n && ts.every((t) => t.frames > (before.get(t.cameraId) ?? 0) + 2), 30_000, `all ${n} pictures moving`);
  }

  /** The page loaded nothing from outside the centre and the CSP held. */
  function expectClean(p: Person): void {
    expect(foreignRequests(p, suite.stack.centreUrl)).toEqual([]);
    expect(p.problems).toEqual([]);
  }

  /** The operator's API client (for setting up and tidying up, never for what is asserted). */
  const operatorApi = (): Promise<CentreClient> => CentreClient.signIn(suite.stack.centreUrl, 'operator', suite.stack.account('operator').password);

  /** Acknowledges every open alarm of these cameras, so no other journey finds a school in alarm. */
  async function ackAlarmsOf(cameraIds: readonly string[]): Promise<void> {
    const api = await operatorApi();
    for (const id of cameraIds) {
      const open = (await api.get<{ alarms: AlarmView[] }>(`/api/alarms?cameraId=${encodeURIComponent(id)}`)).body.alarms;
      for (const a of open) await api.post(`/api/alarms/${a.id}/ack`, {});
    }
  }

  async function operatorAt(path: string, viewport = FULL_HD): Promise<Person> {
    const p = await openDashboard(suite.browser, `${suite.stack.pageUrl}${path}`, viewport);
    await signIn(p, suite.stack.account('operator'));
    return p;
  }

  it('signs in to the region overview, where every school is drawn with its state, then four cameras play in a 4-tile layout', async () => {
    const p = await operatorAt('');
    const { page } = p;
    await page.waitForSelector('#region-map');
    expect(await page.evaluate(() => location.hash)).toBe('#/overview');
    const schools = [...new Set(suite.stack.cameras.map((c) => c.school))];
    // Every school with cameras is on the map, all cameras up (nobody watches yet: idle).
    await page.waitForFunction((n) => document.querySelectorAll('#region-map .school-mark[data-state="ok"]').length === n, schools.length, { timeout: 20_000 });
    for (const s of schools) expect(await page.getAttribute(`#region-map .school-mark[data-school="${s}"]`, 'data-state')).toBe('ok');
    expect(await page.textContent('#overview-summary')).toContain('16 kamer');
    expect(await page.$$eval('#region-map .town-name', (ts) => ts.map((t) => t.textContent).sort())).toEqual(['Cheb', 'Karlovy Vary', 'Mariánské Lázně', 'Sokolov']);
    await screenshot(page, 'overview');

    await page.click('.tab[href="#/live"]');
    await page.click('[data-grid="4"]');
    const tiles = await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.frames >= 10), 60_000, 'four tiles playing');
    await expectAllMoving(page, 4);
    const sim = new Map(suite.stack.cameras.map((c) => [c.centreId, c]));
    // Grid tiles play each camera's sub stream (the simulator's is half its 640×360 main stream).
    for (const t of tiles) {
      expect(sim.has(t.cameraId)).toBe(true);
      expect([t.profile, `${t.width}x${t.height}`]).toEqual(['sub', '320x180']);
    }
    // The decoder itself reports the size: what the video elements show.
    expect(await page.$$eval('.tile video', (vs) => vs.map((v) => `${(v as HTMLVideoElement).videoWidth}x${(v as HTMLVideoElement).videoHeight}`))).toEqual(Array(4).fill('320x180'));
    // Each tile names its camera and school, shows a clock and says it is live.
    for (const t of tiles) {
      const tile = page.locator(`.tile-body[data-camera="${t.cameraId}"]`);
      expect(await tile.locator('.cam-name').textContent()).toBe(sim.get(t.cameraId)!.name);
      expect(await tile.locator('.school-name').textContent()).toMatch(/ZŠ|Gymnázium/);
      expect(await tile.locator('.clock').textContent()).toMatch(/^\d{1,2}:\d{2}:\d{2}$/);
    }
    await page.waitForFunction(() => [...document.querySelectorAll('.tile [data-player-state]')].every((b) => b.textContent === 'živě'), undefined, { timeout: 10_000 });

    expectClean(p);
    await p.close();
  });

  it('shows a 16-tile wall with every camera playing; a double-click opens one camera large, Escape returns to the wall', async () => {
    const p = await operatorAt('#/live');
    const { page } = p;
    await page.click('[data-grid="16"]');
    await waitForTiles(page, (ts) => ts.length === 16 && ts.every((t) => t.frames >= 5), 90_000, 'sixteen tiles playing');
    await expectAllMoving(page, 16);
    const wall = await tileStats(page);
    expect(new Set(wall.map((t) => t.cameraId)).size).toBe(16);
    expect(new Set(wall.map((t) => `${t.profile} ${t.width}x${t.height}`))).toEqual(new Set(['sub 320x180']));
    await screenshot(page, 'wall-16');

    const first = (await tileStats(page))[0].cameraId;
    await page.dblclick('.tile[data-slot="0"]');
    await page.waitForSelector('.wall.single');
    const [big] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames >= 5, 30_000, 'the single view playing');
    // The single view switches to the camera's main stream: the decoded size changes.
    expect(big.cameraId).toBe(first);
    expect([big.profile, `${big.width}x${big.height}`]).toEqual(['main', '640x360']);
    expect(await page.$eval('.tile.big video', (v) => `${(v as HTMLVideoElement).videoWidth}x${(v as HTMLVideoElement).videoHeight}`)).toBe('640x360');
    const box = await page.locator('.tile.big').boundingBox();
    expect(box!.width).toBeGreaterThan(1200);
    await page.keyboard.press('Escape');
    await waitForTiles(page, (ts) => ts.length === 16, 10_000, 'the wall back');

    // One large tile with five or seven around it.
    for (const [layout, n] of [['1+5', 6], ['1+7', 8]] as const) {
      await page.click(`[data-grid="${layout}"]`);
      await waitForTiles(page, (ts) => ts.length === n && ts.every((t) => t.frames >= 2), 30_000, `${layout} playing`);
      const sizes = await page.$$eval('.wall > .tile', (ts) => ts.map((t) => t.getBoundingClientRect().width));
      expect(sizes[0]).toBeGreaterThan(sizes[1] * 1.8);
    }
    expectClean(p);
    await p.close();
  });

  it('puts a camera into a tile by dragging it from the tree or clicking it, and keeps a saved view across a reload', async () => {
    const p = await operatorAt('#/live');
    const { page } = p;
    await page.click('[data-grid="4"]');
    await waitForTiles(page, (ts) => ts.length === 4, 30_000, 'four tiles');
    const shown = new Set((await tileStats(page)).map((t) => t.cameraId));
    const spare = suite.stack.cameras.filter((c) => !shown.has(c.centreId));
    // Drag one from the tree onto tile 2…
    await page.dragAndDrop(`.tree-camera[data-camera="${spare[0].centreId}"]`, '.tile[data-slot="1"]');
    // …and click another into the selected tile 4.
    await page.click('.tile[data-slot="3"]');
    await page.click(`.tree-camera[data-camera="${spare[1].centreId}"]`);
    const placed = await waitForTiles(
      page,
      (ts) => ts.some((t) => t.cameraId === spare[0].centreId && t.frames >= 2) && ts.some((t) => t.cameraId === spare[1].centreId && t.frames >= 2),
      30_000,
      'the placed cameras playing',
    );
    expect(placed).toHaveLength(4);
    const arrangement = await page.$$eval('.wall > .tile', (ts) => ts.map((t) => t.querySelector('.tile-body')?.getAttribute('data-camera') ?? null));
    expect(arrangement[1]).toBe(spare[0].centreId);
    expect(arrangement[3]).toBe(spare[1].centreId);

    await page.fill('input[name="view-name"]', 'Ranní obchůzka');
    await page.click('.saved-views button[type="submit"]');
    await page.waitForSelector('text=Pohled „Ranní obchůzka“ uložen.');
    await page.reload();
    await page.waitForSelector('.saved-views select');
    await page.selectOption('.saved-views select', { label: 'Ranní obchůzka' });
    await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.frames >= 2), 30_000, 'the saved view playing');
    expect(await page.$$eval('.wall > .tile', (ts) => ts.map((t) => t.querySelector('.tile-body')?.getAttribute('data-camera') ?? null))).toEqual(arrangement);
    expectClean(p);
    await p.close();
  });

  it('shows motion raised on a camera in the alarm list within 2 s, with a visible and audible cue the operator can mute; acknowledged, it stays in the history; "show camera" opens it, and its snapshot', async () => {
    const [cam, second] = [suite.stack.cameras[5], suite.stack.cameras[6]];
    // The gateways pull the cameras' ONVIF events: wait until their health says so.
    const api = await operatorApi();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const list = (await api.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras;
      if ([cam, second].every((c) => list.find((x) => x.id === c.centreId)?.health?.events === 'ok')) break;
      if (Date.now() > deadline) throw new Error('the cameras’ event pull did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    await ackAlarmsOf([cam.centreId, second.centreId]);
    const p = await operatorAt('#/alarms');
    const { page } = p;
    await page.waitForSelector('#alarm-count');
    const cues = (): Promise<number> => page.evaluate(() => window.schoolcam.alarmCues());
    const cuesBefore = await cues();
    try {
      const row = `#alarm-list tr[data-camera="${cam.centreId}"][data-kind="motion"]`;
      const raised = Date.now();
      await simControl(cam.control, 'events/motion', { state: true });
      await page.waitForSelector(row, { timeout: 10_000 });
      const took = Date.now() - raised;
      expect(took).toBeLessThanOrEqual(2000);
      // School, camera, kind and age; the tab counts it; the cue sounded.
      const text = await page.textContent(row);
      expect(text).toContain('Pohyb');
      expect(text).toContain(cam.name);
      expect(text).toMatch(/ZŠ|Gymnázium/);
      expect(await page.textContent(`${row} .age`)).toMatch(/^(nyní|před \d+ sekund(ou|ami)?)$/);
      expect(Number(await page.textContent('#alarm-badge'))).toBeGreaterThanOrEqual(1);
      expect(await cues()).toBeGreaterThan(cuesBefore);
      await screenshot(page, 'alarm-list');

      // Muted, a second alarm shows (newest first) but makes no sound; away from the list a banner shows it.
      await page.click('#alarm-mute');
      expect(await page.getAttribute('#alarm-mute', 'aria-pressed')).toBe('true');
      await page.click('.tab[href="#/overview"]');
      await page.waitForSelector(`#region-map .school-mark[data-school="${cam.school}"][data-state="alarm"]`);
      const muted = await cues();
      await simControl(second.control, 'events/motion', { state: true });
      await page.waitForFunction((name) => document.getElementById('alarm-banner')?.textContent?.includes(name), second.name, { timeout: 10_000 });
      expect(await cues()).toBe(muted);
      await page.click('#alarm-banner a');
      await page.waitForSelector(`#alarm-list tr[data-camera="${second.centreId}"]`);
      const order = await page.$$eval('#alarm-list tbody tr', (rs) => rs.map((r) => r.getAttribute('data-camera')));
      expect(order.indexOf(second.centreId)).toBeLessThan(order.indexOf(cam.centreId));
      await page.click('#alarm-mute'); // sound back on for the next shift

      // Acknowledged: it leaves the open list and stays in the history with who acknowledged it.
      const id = await page.getAttribute(row, 'data-alarm');
      await page.click(`${row} button.ack`);
      await page.waitForSelector(row, { state: 'detached' });
      await page.waitForSelector(`#alarm-history tr[data-alarm="${id}"][data-state="acked"]`);
      expect(await page.textContent(`#alarm-history tr[data-alarm="${id}"] .acked-by`)).toContain('operator');

      // Click through to the camera: it plays large, and its snapshot shows the camera's picture.
      await page.click(`#alarm-list tr[data-camera="${second.centreId}"] a.button`);
      await page.waitForSelector('.wall.single');
      const [big] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames >= 5, 30_000, 'the alarm’s camera playing');
      expect(big.cameraId).toBe(second.centreId);
      await page.click(`.tile-body[data-camera="${second.centreId}"] button[aria-label^="Snímek"]`);
      await page.waitForSelector('#snapshot-dialog img.snapshot');
      await page.waitForFunction(() => document.querySelector<HTMLImageElement>('#snapshot-dialog img.snapshot')?.naturalWidth === 640);
      expect(await page.textContent('#snapshot-title')).toContain(second.name);
      await page.keyboard.press('Escape');
      expectClean(p);
    } finally {
      await p.close();
      await simControl(cam.control, 'events/motion', { state: false });
      await simControl(second.control, 'events/motion', { state: false });
      await ackAlarmsOf([cam.centreId, second.centreId]);
    }
  });

  it('recovers a tile on its own after a camera reboot: the tile shows the outage, then plays again without a reload', async () => {
    const p = await operatorAt('#/live');
    const { page } = p;
    await page.click('[data-grid="4"]');
    const [first] = await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.frames >= 5), 60_000, 'four tiles playing');
    const cam = suite.stack.cameras.find((c) => c.centreId === first.cameraId)!;
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    const res = await fetch(`${cam.control}/faults/reboot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ downSeconds: 4 }) });
    expect(res.status).toBeLessThan(300);
    // The tile says so while the camera is away…
    const badge = page.locator(`.tile-body[data-camera="${cam.centreId}"] [data-player-state]`);
    await page.waitForFunction((id) => document.querySelector(`.tile-body[data-camera="${id}"]`)?.getAttribute('data-state') !== 'playing', cam.centreId, { timeout: 15_000 });
    expect(await badge.textContent()).not.toBe('živě');
    const during = (await tileStats(page)).find((x) => x.cameraId === cam.centreId)!;
    // …and plays again by itself, in the same page.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const t = (await tileStats(page)).find((x) => x.cameraId === cam.centreId);
      const moved = t && (t.retries > during.retries ? t.frames >= 5 : t.frames >= during.frames + 5);
      if (t && t.state === 'playing' && moved) break;
      if (Date.now() > deadline) throw new Error(`the tile did not play again: ${JSON.stringify(t)}`);
      await page.waitForTimeout(250);
    }
    expect(await badge.textContent()).toBe('živě');
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt); // no reload
    expectClean(p);
    await p.close();
    await ackAlarmsOf([cam.centreId]); // the reboot may have raised a camera-offline alarm
  });

  it('speaks Czech by default with Czech plurals, switches to English, and remembers English for the account', async () => {
    const p = await operatorAt('');
    const { page } = p;
    await page.waitForSelector('#overview-summary');
    expect(await page.textContent('#overview-summary')).toMatch(/^4 školy · 16 kamer · v provozu \d+$/);
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.textContent('#overview-summary')).toMatch(/^4 schools · 16 cameras · \d+ up$/);
    expect(await page.textContent('.tab[href="#/live"]')).toBe('Live view');
    // Signed out and in again, in a fresh browser: still English, from the account's preferences.
    await page.click('#logout');
    await page.waitForSelector('#login');
    await p.close();
    const again = await operatorAt('');
    await again.page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await again.page.textContent('.tab[href="#/overview"]')).toBe('Region overview');
    await again.page.click('#lang'); // back to Czech for the other journeys' readers
    await again.page.waitForFunction(() => document.documentElement.lang === 'cs');
    await again.close();
  });

  it('labels every control a keyboard reaches, and fits 1366×768 and a phone-width screen', async () => {
    for (const [name, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
      const p = await operatorAt('#/live', viewport);
      const { page } = p;
      await page.click('[data-grid="4"]');
      await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.frames >= 2), 60_000, `four tiles playing at ${name} size`);
      expect(await unlabelledControls(page)).toEqual([]);
      // Nothing spills sideways out of the window.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      // The keyboard reaches the layout buttons and a tile; Enter on a tile opens it large.
      await page.focus('.tile[data-slot="0"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.wall.single');
      await page.keyboard.press('Escape');
      await page.waitForSelector('.wall:not(.single)');
      for (const screen of ['overview', 'alarms', 'cameras']) {
        await page.click(`.tab[href="#/${screen}"]`);
        await page.waitForTimeout(300);
        expect(await unlabelledControls(page)).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      }
      await screenshot(page, `overview-${name}`);
      expectClean(p);
      await p.close();
    }
  });
});
