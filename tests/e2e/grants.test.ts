import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Ending } from '../../control-center/src/web/app/main';
import { CentreClient } from '../../control-center/test/support/api-client';
import { stackForSuite } from '../support/stack-suite';
import { signInPage, tileStats, waitForTiles } from '../support/page-stats';

/**
 * Police sharing in Chromium on the demo stack (simulator → gateways → centre → browser): the
 * demo police officer (Karlovy Vary's force) sees a camera only while a grant lets them, and
 * when the grant is revoked or expires the video stops within a second, the page says why,
 * and the audit log shows the cut with the grant's case reference.
 */
describe('police grants end live views in the browser (Chromium, demo stack)', () => {
  const suite = stackForSuite({ cameras: 2, schools: 2, logs: 'ignore' });
  const SCHOOL = 'zs-karlovy-vary';
  const FORCE = 'mp-karlovy-vary';

  const camera = (): string => {
    const c = suite.stack.cameras.find((x) => x.school === SCHOOL);
    if (!c) throw new Error(`no simulated camera in ${SCHOOL}`);
    return c.centreId;
  };
  const client = (role: 'operator' | 'auditor' | 'admin'): Promise<CentreClient> => {
    const a = suite.stack.account(role);
    return CentreClient.signIn(suite.stack.centreUrl, a.username, a.password);
  };
  const endings = (page: Page): Promise<Ending[]> => page.evaluate(() => (window as unknown as { schoolcam: { endings(): Ending[] } }).schoolcam.endings());
  const notice = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as { schoolcam: { grants(): { notice: string } } }).schoolcam.grants().notice);
  const viewers = async (): Promise<number> => {
    const text = await (await fetch(`${suite.stack.centreUrl}/metrics`, { headers: { authorization: `Bearer ${suite.stack.metricsToken}` } })).text();
    return Number(/^schoolcam_viewers (\d+)$/m.exec(text)?.[1]);
  };

  async function policePage(): Promise<Page> {
    await suite.browser.context.clearCookies();
    const page = await suite.browser.context.newPage();
    const session = await signInPage(page, suite.stack.pageUrl, suite.stack.account('police'));
    expect(session.liveCameras).toBe(0); // nothing before a grant
    return page;
  }

  async function grantAndPlay(page: Page, caseRef: string, minutes: number): Promise<{ id: string; expiresAt: number }> {
    const operator = await client('operator');
    const res = await operator.post<{ id: string; expiresAt: number; state: string }>('/api/grants', {
      forceId: FORCE,
      cameraIds: [camera()],
      reason: 'Poškozování majetku u vchodu',
      caseRef,
      legalBasis: '§ 8 zák. 553/1991 Sb., o obecní policii',
      minutes,
    });
    expect(res.status).toBe(201);
    expect(res.body.state).toBe('active');
    await waitForTiles(page, (ts) => ts.length === 1 && ts[0].cameraId === camera() && ts[0].frames >= 10, 60_000, 'the granted camera playing for the police');
    // The case reference is on the tile.
    expect(await page.textContent(`.tile[data-camera="${camera()}"] .case`)).toContain(caseRef);
    return res.body;
  }

  async function expectCutWithin1s(page: Page, from: number, grantId: string, caseRef: string, grantEnd: 'revoked' | 'expired'): Promise<void> {
    const deadline = Date.now() + 5000;
    let ended: Ending | undefined;
    while (!ended && Date.now() < deadline) {
      ended = (await endings(page)).find((e) => e.cameraId === camera());
      if (!ended) await page.waitForTimeout(20);
    }
    expect(ended, 'the page never saw the view end').toBeDefined();
    expect(ended!.causeKind).toBe('access_revoked');
    expect(ended!.at - from).toBeLessThan(1000); // video stopped within a second
    expect(ended!.lastFrameAt ?? 0).toBeLessThan(from + 1000); // and no frame was shown after that
    // The centre's WebRTC session is gone too.
    for (const until = Date.now() + 2000; (await viewers()) !== 0 && Date.now() < until; ) await page.waitForTimeout(50);
    expect(await viewers()).toBe(0);
    // The page says why, and keeps saying it once the tile is gone.
    await page.waitForFunction(() => document.querySelectorAll('video').length === 0, undefined, { timeout: 5000 });
    expect(await tileStats(page)).toEqual([]);
    expect(await notice(page)).toContain(caseRef);
    expect(await page.textContent('#notice')).toMatch(grantEnd === 'revoked' ? /odvoláno/ : /vypršela/);
    // The audit log records the cut with the case reference.
    const auditor = await client('auditor');
    const stops = (await auditor.get<{ entries: { actor: string; detail: Record<string, unknown> }[] }>(`/api/audit?kind=view.stop&cameraId=${encodeURIComponent(camera())}`)).body.entries;
    expect(stops.find((e) => e.detail.grantId === grantId)).toMatchObject({ actor: suite.stack.account('police').username, detail: { cause: 'access_revoked', grantEnd, caseRef } });
    const ends = (await auditor.get<{ entries: { detail: Record<string, unknown> }[] }>(`/api/audit?kind=grant.${grantEnd === 'revoked' ? 'revoke' : 'expire'}`)).body.entries;
    expect(ends.find((e) => e.detail.grantId === grantId)?.detail).toMatchObject({ caseRef, sessionsCut: 1 });
  }

  it('revoking a grant stops the police officer\'s video within 1 s, the page says it was revoked, the audit log shows the cut', async () => {
    const page = await policePage();
    const caseRef = `MP-KV-2026/${Date.now() % 100_000}`;
    const g = await grantAndPlay(page, caseRef, 60);
    const operator = await client('operator');
    const t0 = Date.now();
    expect((await operator.post(`/api/grants/${g.id}/revoke`)).status).toBe(200);
    await expectCutWithin1s(page, t0, g.id, caseRef, 'revoked');
    await page.close();
  });

  it('a grant expiring during a live view stops the video within 1 s of its expiry, the page says it expired, the audit log shows the cut', async () => {
    const page = await policePage();
    const caseRef = `MP-KV-2026/${Date.now() % 100_000}`;
    const g = await grantAndPlay(page, caseRef, 1);
    // Still playing shortly before the expiry.
    while (Date.now() < g.expiresAt - 3000) await page.waitForTimeout(500);
    const before = (await tileStats(page))[0];
    expect(before.state).toBe('playing');
    await expectCutWithin1s(page, g.expiresAt, g.id, caseRef, 'expired');
    await page.close();
  }, 120_000);

  it('an emergency raised by the school puts its cameras on the police dashboard within 2 s; ending it cuts the police view', async () => {
    const page = await policePage();
    const admin = await client('admin');
    const password = 'school-it-password-kv-1';
    expect((await admin.post('/api/users', { username: 'it-kv-e2e', password, role: 'school_it', orgId: SCHOOL })).status).toBe(201);
    const school = await CentreClient.signIn(suite.stack.centreUrl, 'it-kv-e2e', password);
    const t0 = Date.now();
    const res = await school.post<{ id: string; caseRef: string }>(`/api/schools/${SCHOOL}/emergency`, { reason: 'Cizí osoba v budově' });
    expect(res.status).toBe(201);
    await page.waitForFunction((id) => document.querySelector(`.tile[data-camera="${id}"]`) !== null, camera(), { timeout: 2000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await page.textContent('#notice')).toMatch(/Mimořádná událost/);
    await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames >= 5, 30_000, 'the school camera playing for the police');
    const t1 = Date.now();
    expect((await school.post(`/api/grants/${res.body.id}/revoke`)).status).toBe(200);
    await expectCutWithin1s(page, t1, res.body.id, res.body.caseRef, 'revoked');
    await page.close();
  }, 120_000);
});
