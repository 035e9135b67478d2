import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { CameraView } from '../../control-center/src/cameras/camera-view';
import { launchChromiumBrowser } from '../support/chromium';
import { LAPTOP, type Person, foreignRequests, openDashboard, screenshot, signIn } from '../support/dashboard-page';
import { waitForTiles } from '../support/page-stats';
import { type SchoolStack, startSchoolStack } from '../support/school-stack';

/**
 * School IT at the dashboard (Chromium): registers a camera found on the school's network through
 * the wizard, sees it play, edits and removes it; never sees another school. The real centre,
 * two school gateways and the simulator, in this process on loopback.
 */
describe('school IT at the dashboard (Chromium, two schools)', () => {
  let stack: SchoolStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startSchoolStack();
    browser = await launchChromiumBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const expectClean = (p: Person): void => {
    expect(foreignRequests(p, stack.centreUrl)).toEqual([]);
    expect(p.problems).toEqual([]);
  };

  it('registers a discovered simulator camera through the wizard (find, login, grade with reasons, purpose and retention) and sees it play', async () => {
    const { own, other } = stack.schools;
    const newcomer = own.spare[0];
    const p = await openDashboard(browser, `${stack.centreUrl}/`, LAPTOP);
    const { page } = p;
    await signIn(p, stack.accounts.it);
    expect(await page.evaluate(() => location.hash)).toBe('#/cameras');
    await page.click('#register-camera');
    await page.waitForSelector('#step-discover');
    // The school's gateway is there and connected.
    await page.waitForFunction(() => /připojena/.test(document.getElementById('gateway-state')?.textContent ?? ''));

    // 1. Find: directed probes to the school network's address (loopback here).
    await page.fill('#discover-form input[name="range"]', '127.0.0.1');
    await page.uncheck('#discover-form input[name="multicast"]');
    await page.click('#discover-form button[type="submit"]');
    await page.waitForSelector('#device-list li', { timeout: 20_000 });
    // The machine is shared: simulators of other processes on 127.0.0.1 may answer too. What
    // matters is that every camera of this test's simulator (its own ONVIF ports) is listed, each
    // once, under its own name.
    const listed = await page.$$eval('#device-list li', (ls) => ls.map((l) => ({ xaddr: l.getAttribute('data-xaddr'), text: l.textContent ?? '' })));
    const ours = stack.fleet.info().cameras;
    for (const cam of ours) {
      const entries = listed.filter((l) => l.xaddr === cam.onvif);
      expect(entries, `${cam.name} (${cam.onvif}) listed once`).toHaveLength(1);
      expect(entries[0].text).toContain(cam.name);
    }
    const found = `#device-list li[data-xaddr="${newcomer.onvif}"]`;
    await page.click(`${found} button.pick`);

    // 2. Login, wrong first: the check says so in words and nothing is registered.
    await page.waitForSelector('#step-credentials');
    await page.fill('input[name="camera-user"]', newcomer.username);
    await page.fill('input[name="camera-password"]', 'not-the-password');
    await page.click('#step-credentials button[type="submit"]');
    await page.waitForSelector('#step-check .notice.error', { timeout: 30_000 });
    expect(await page.textContent('#step-check .notice.error')).toMatch(/^Chyba: /);
    expect(await page.isDisabled('#to-facts')).toBe(true);
    await page.click('#step-check button:has-text("Zpět")');
    await page.fill('input[name="camera-password"]', newcomer.password);
    await page.click('#step-credentials button[type="submit"]');

    // 3. Check and grade: the grade in Czech, with its reasons and what was measured.
    await page.waitForSelector('#grade', { timeout: 45_000 });
    const grade = await page.getAttribute('#grade', 'data-grade');
    expect(['ready', 'works_with_reasons']).toContain(grade);
    expect(await page.textContent('#grade .grade-line .badge')).toBe(grade === 'ready' ? 'Připravena' : 'Funguje s výhradami');
    const measured = await page.textContent('#grade .measured');
    expect(measured).toContain('640×360');
    expect(measured).toContain('H264');
    if (grade === 'works_with_reasons') expect(await page.$$eval('#grade-reasons li', (ls) => ls.length)).toBeGreaterThan(0);
    await screenshot(page, 'wizard-grade');
    // The reasons follow the page's language.
    await page.click('#lang');
    await page.waitForSelector('#grade .grade-line .badge:text-matches("Ready|Works, with remarks")');
    await page.click('#lang');
    await page.click('#to-facts');

    // 4. Purpose, legal basis and retention are required: an empty form is not sent.
    await page.waitForSelector('#step-facts');
    expect(await page.inputValue('#step-facts input[name="name"]')).toBe(newcomer.name);
    await page.click('#step-facts button[type="submit"]');
    expect(await page.$eval('#step-facts textarea[name="purpose"]', (e) => (e as HTMLTextAreaElement).validity.valueMissing)).toBe(true);
    expect(await page.isVisible('#step-facts')).toBe(true);
    await page.fill('#step-facts textarea[name="purpose"]', 'Dohled nad vjezdem do areálu školy mimo vyučování');
    await page.fill('#step-facts input[name="legalBasis"]', 'čl. 6 odst. 1 písm. e) GDPR – úkol ve veřejném zájmu');
    await page.fill('#step-facts input[name="retentionHours"]', '72');
    await page.click('#step-facts button[type="submit"]');

    // 5. Registered: the new camera plays on the last step, on its main stream.
    await page.waitForSelector('#step-done', { timeout: 30_000 });
    const isNew = (cameraId: string): boolean => cameraId.startsWith(`${own.gatewayId}:`) && !own.configured.some((c) => cameraId === `${own.gatewayId}:${c.id}`);
    const tiles = await waitForTiles(page, (ts) => ts.some((t) => isNew(t.cameraId) && t.state === 'playing' && t.frames >= 10), 45_000, 'the new camera playing');
    const tile = tiles.find((t) => isNew(t.cameraId) && t.state === 'playing')!;
    expect(`${tile.width}x${tile.height}`).toBe('640x360');
    expect(await page.textContent('#step-done .cam-name')).toBe(newcomer.name);

    // Their tree and the API hold their school only.
    await page.click('.tab[href="#/live"]');
    await page.waitForSelector('.tree .tree-camera');
    const treeCameras = await page.$$eval('.tree .tree-camera', (els) => els.map((e) => e.getAttribute('data-camera')));
    expect(treeCameras.length).toBe(own.configured.length + 1);
    expect(treeCameras.every((id) => id!.startsWith(`${own.gatewayId}:`))).toBe(true);
    const api = await page.evaluate(
      async ([otherCamera, otherSchool]) => {
        const list = (await (await fetch('/api/cameras')).json()) as { cameras: CameraView[] };
        return {
          schools: [...new Set(list.cameras.map((c) => c.schoolId))],
          otherCamera: (await fetch(`/api/cameras/${encodeURIComponent(otherCamera)}`)).status,
          otherGateways: (await fetch(`/api/schools/${otherSchool}/gateways`)).status,
          otherAlarms: ((await (await fetch('/api/alarms?state=all')).json()) as { alarms: { schoolId: string }[] }).alarms.filter((a) => a.schoolId === otherSchool).length,
        };
      },
      [`${other.gatewayId}:${other.configured[0].id}`, other.id] as const,
    );
    expect(api).toEqual({ schools: [own.id], otherCamera: 404, otherGateways: 404, otherAlarms: 0 });
    expectClean(p);
    await p.close();
  });

  it('edits a camera’s retention and removes it, and the auditor finds both in the audit log', async () => {
    const { own } = stack.schools;
    const p = await openDashboard(browser, `${stack.centreUrl}/`, LAPTOP);
    const { page } = p;
    await signIn(p, stack.accounts.it);
    // A camera of theirs registered through the API (this test stands alone).
    const created = await page.evaluate(
      async ([schoolId, cam]) => {
        const csrf = ((await (await fetch('/api/session')).json()) as { csrfToken: string }).csrfToken;
        const res = await fetch(`/api/schools/${schoolId}/cameras`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify({ id: `edit-${Date.now() % 100000}`, name: 'Kamera k úpravě', onvif: { xaddr: cam.onvif, username: cam.username, password: cam.password }, purpose: 'Dohled nad šatnou', legalBasis: 'čl. 6 odst. 1 písm. e) GDPR', retentionHours: 72 }),
        });
        return { status: res.status, body: (await res.json()) as { camera: { id: string } } };
      },
      [own.id, own.spare[0]] as const,
    );
    expect(created.status).toBe(201);
    const id = created.body.camera.id;
    // Should a step below fail, the spare camera must not stay registered for the other test.
    const removeLeftover = (): Promise<number> =>
      page.evaluate(async (cameraId) => {
        const csrf = ((await (await fetch('/api/session')).json()) as { csrfToken: string }).csrfToken;
        return (await fetch(`/api/cameras/${encodeURIComponent(cameraId)}`, { method: 'DELETE', headers: { 'x-csrf-token': csrf } })).status;
      }, id);
    const row = `#camera-table tr[data-camera="${id}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent(row)).toContain('uchování 72 hodin');

    try {
      await page.click(`${row} button.edit`);
      await page.fill('.edit-facts input[name="retentionHours"]', '48');
      await page.click('.edit-facts button[type="submit"]');
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('uchování 48 hodin'), row);

      await page.click(`${row} button.remove`);
      await page.click(`${row} button.confirm-remove`);
      await page.waitForSelector(row, { state: 'detached', timeout: 15_000 });
    } catch (err) {
      await removeLeftover();
      throw err;
    }
    expect(await page.textContent('.notice.ok')).toBe('Kamera Kamera k úpravě byla odebrána.');
    expectClean(p);
    await p.close();

    const a = await openDashboard(browser, `${stack.centreUrl}/`, LAPTOP);
    await signIn(a, stack.accounts.auditor);
    for (const kind of ['camera.update', 'camera.unregister']) {
      await a.page.fill('#audit-filters input[name="kind"]', kind);
      await a.page.click('#audit-filters button[type="submit"]');
      await a.page.waitForSelector(`#audit-table tr[data-kind="${kind}"]`);
      expect(await a.page.textContent('#audit-table tbody')).toContain(stack.accounts.it.username);
    }
    expectClean(a);
    await a.close();
  });
});
