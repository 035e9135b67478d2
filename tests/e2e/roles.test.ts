import { describe, expect, it } from 'vitest';
import { stackForSuite } from '../support/stack-suite';
import { pageSession, signInPage, tileStats, waitForTiles } from '../support/page-stats';

/**
 * Each role signs in through the page in Chromium and sees exactly the cameras it may watch
 * playing: the operator every school's, school IT its own school's, and the admin, auditor
 * and police officer (no grant yet) none — with the page saying why.
 */
describe('each role sees exactly its cameras playing (Chromium, demo stack)', () => {
  const suite = stackForSuite({ cameras: 4, schools: 4, logs: 'ignore' });

  /** A page with no cookie left from the person before. */
  async function signedInPage(role: 'admin' | 'operator' | 'police' | 'school_it' | 'auditor') {
    await suite.browser.context.clearCookies();
    const page = await suite.browser.context.newPage();
    // The live wall for the roles that watch; the others land on their own screens.
    const path = role === 'operator' || role === 'school_it' ? '#/live' : '';
    const session = await signInPage(page, `${suite.stack.pageUrl}${path}`, suite.stack.account(role));
    return { page, session, close: () => page.close() };
  }

  it('the operator sees every school\'s camera playing', async () => {
    const { page, close } = await signedInPage('operator');
    await page.click('[data-grid="9"]');
    await page.waitForSelector('.wall.layout-9');
    const tiles = await waitForTiles(page, (ts) => ts.length === 4 && ts.every((t) => t.state === 'playing' && t.frames >= 10), 60_000, 'four cameras playing');
    expect(tiles.map((t) => t.cameraId).sort()).toEqual(suite.stack.cameras.map((c) => c.centreId).sort());
    expect(new Set(suite.stack.cameras.map((c) => c.school)).size).toBe(4);
    await close();
  });

  it('school IT sees its own school\'s camera playing, and no other school\'s', async () => {
    const { page, session, close } = await signedInPage('school_it');
    const own = suite.stack.cameras.filter((c) => c.school === suite.stack.account('school_it').org).map((c) => c.centreId);
    expect(own.length).toBeGreaterThan(0);
    expect(session.visibleCameras).toBe(own.length);
    const tiles = await waitForTiles(page, (ts) => ts.length === own.length && ts.every((t) => t.state === 'playing' && t.frames >= 10), 60_000, 'the school\'s cameras playing');
    expect(tiles.map((t) => t.cameraId).sort()).toEqual(own.sort());
    await page.waitForTimeout(1000);
    expect((await tileStats(page)).map((t) => t.cameraId).sort()).toEqual(own.sort()); // and nothing else turns up
    await close();
  });

  for (const role of ['admin', 'auditor', 'police'] as const) {
    it(`the ${role} sees no camera playing, and the page says why`, async () => {
      const { page, session, close } = await signedInPage(role);
      expect(session.user?.role).toBe(role);
      expect(session.liveCameras).toBe(0);
      expect(session.visibleCameras).toBe(role === 'police' ? 0 : 4); // health only for admin and auditor; police: nothing without a grant
      await page.waitForTimeout(1500);
      expect(await tileStats(page)).toEqual([]);
      expect(await page.$$eval('video', (vs) => vs.length)).toBe(0);
      if (role === 'police') {
        // The police land on their screen of shared cameras, which says nothing is shared with them yet.
        expect(await page.evaluate(() => location.hash)).toBe('#/police');
        await page.waitForSelector('#status');
        expect(await page.textContent('#status')).toMatch(/Vaší policii nyní není nic sdíleno\./);
      } else {
        // Admin and auditor have no live wall at all; the camera list shows health, and no video.
        expect(await page.$$eval('.tab', (ts) => ts.map((t) => t.getAttribute('href')))).not.toContain('#/live');
        await page.click('.tab[href="#/cameras"]');
        await page.waitForSelector('#camera-table');
        expect(await page.$$eval('#camera-table tbody tr', (rs) => rs.length)).toBe(4);
        expect(await page.$$eval('#camera-table a.button', (bs) => bs.length)).toBe(0); // no "live" links
        expect(await page.$$eval('video', (vs) => vs.length)).toBe(0);
      }
      expect((await pageSession(page)).liveCameras).toBe(0);
      await close();
    });
  }

  it('signing out in the page ends the session: the dashboard asks to sign in again', async () => {
    const { page, close } = await signedInPage('operator');
    await waitForTiles(page, (ts) => ts.some((t) => t.state === 'playing'), 60_000, 'a camera playing');
    await page.click('#logout');
    await page.waitForSelector('#login', { state: 'visible' });
    expect(await tileStats(page)).toEqual([]);
    await page.reload();
    await page.waitForSelector('#login', { state: 'visible' });
    expect((await pageSession(page)).user).toBeNull();
    await close();
  });
});
