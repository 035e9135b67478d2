import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Ending } from '../../control-center/src/web/app/diagnostics';
import { CentreClient } from '../../control-center/test/support/api-client';
import { type Person, openDashboard, screenshot, signIn } from '../support/dashboard-page';
import { tileStats, waitForTiles } from '../support/page-stats';
import { stackForJourneys } from '../support/stack-suite';

/**
 * Police sharing in Chromium on the demo stack (simulator → gateways → centre → browser): the
 * demo police officer (Karlovy Vary's force) sees a camera on their screen only while a grant
 * lets them; when the grant is revoked or expires the video stops within a second, the page says
 * why, and the audit log shows the cut with the grant's case reference. The operator shares and
 * ends through the dashboard's sharing screen; school IT raises and ends an emergency with its button.
 */
describe('police grants end live views in the browser (Chromium, demo stack)', () => {
  const suite = stackForJourneys({ cameras: 2, schools: 2, logs: 'ignore', centre: { rtspExport: { port: 0 } } });
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
  const tileOf = (id: string): string => `.tile-body[data-camera="${id}"]`;

  /** A person at the dashboard who says yes to every confirmation. */
  async function person(role: 'police' | 'operator'): Promise<Person> {
    const p = await openDashboard(suite.browser, suite.stack.pageUrl);
    p.page.on('dialog', (d) => void d.accept());
    await signIn(p, suite.stack.account(role));
    return p;
  }

  async function policeScreen(): Promise<Person> {
    const p = await person('police');
    const { page } = p;
    expect(await page.evaluate(() => location.hash)).toBe('#/police');
    expect((await page.evaluate(() => (window as unknown as { schoolcam: { session(): { liveCameras: number } } }).schoolcam.session())).liveCameras).toBe(0); // nothing before a grant
    await page.waitForSelector('#status');
    expect(await page.textContent('#status')).toMatch(/Vaší policii nyní není nic sdíleno/);
    return p;
  }

  /** The grant's camera plays on the police screen with the case reference on the tile, and the grant card counts down. */
  async function expectPlaying(page: Page, grantId: string, caseRef: string): Promise<void> {
    await waitForTiles(page, (ts) => ts.length === 1 && ts[0].cameraId === camera() && ts[0].frames >= 10, 60_000, 'the granted camera playing for the police');
    expect(await page.textContent(`${tileOf(camera())} .case`)).toBe(`č. j. ${caseRef}`);
    const card = `#police-grants li[data-grant="${grantId}"]`;
    expect(await page.textContent(card)).toContain('1 kamera');
    // The officer reads the school's name (from the grant: police cannot list schools), not its id.
    const where = await page.textContent(`${card} .grant-where`);
    expect(where).toContain('ZŠ Karlovy Vary');
    expect(where).not.toContain(SCHOOL);
    const left = (): Promise<string> => page.textContent(`${card} .countdown`).then((x) => x ?? '');
    const first = await left();
    expect(first).toMatch(/^zbývá \d+:\d\d/);
    await page.waitForFunction((args) => document.querySelector(args.sel)?.textContent !== args.first, { sel: `${card} .countdown`, first }, { timeout: 3000 }); // it counts down, live
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
    // The page says why, on the tile and above the grid, and keeps saying it.
    await page.waitForFunction(() => document.querySelectorAll('video').length === 0, undefined, { timeout: 5000 });
    expect(await tileStats(page)).toEqual([]);
    expect(await notice(page)).toContain(caseRef);
    const why = grantEnd === 'revoked' ? /Sdílení .+ bylo odvoláno – živý obraz byl ukončen/ : /Platnost sdílení .+ vypršela – živý obraz byl ukončen/;
    expect(await page.textContent('#notice')).toMatch(why);
    expect(await page.textContent(`.tile.cut[data-camera="${camera()}"]`)).toMatch(why);
    // The audit log records the cut with the case reference.
    const auditor = await client('auditor');
    const stops = (await auditor.get<{ entries: { actor: string; detail: Record<string, unknown> }[] }>(`/api/audit?kind=view.stop&cameraId=${encodeURIComponent(camera())}`)).body.entries;
    expect(stops.find((e) => e.detail.grantId === grantId)).toMatchObject({ actor: suite.stack.account('police').username, detail: { cause: 'access_revoked', grantEnd, caseRef } });
    const ends = (await auditor.get<{ entries: { detail: Record<string, unknown> }[] }>(`/api/audit?kind=grant.${grantEnd === 'revoked' ? 'revoke' : 'expire'}`)).body.entries;
    expect(ends.find((e) => e.detail.grantId === grantId)?.detail).toMatchObject({ caseRef, sessionsCut: 1 });
  }

  it('an operator shares a camera through the share form (RTSP URLs shown); revoking it there stops the police officer\'s video within 1 s, the page says it was revoked, the audit log shows the cut', async () => {
    const police = await policeScreen();
    const op = await person('operator');
    const caseRef = `MP-KV-2026/${Date.now() % 100_000}`;
    await op.page.click('.tab[href="#/sharing"]');
    await op.page.waitForSelector('#grant-form');
    await op.page.selectOption('#grant-form select[name="forceId"]', FORCE);
    await op.page.check('#grant-form input[name="what"][value="cameras"]');
    await op.page.check(`#grant-form input[name="cameraIds"][value="${camera()}"]`);
    await op.page.fill('#grant-form input[name="caseRef"]', caseRef);
    await op.page.fill('#grant-form input[name="reason"]', 'Poškozování majetku u vchodu');
    await op.page.fill('#grant-form input[name="legalBasis"]', '§ 8 zák. 553/1991 Sb., o obecní policii');
    await op.page.fill('#grant-form input[name="minutes"]', '60');
    await op.page.click('#grant-form button[type="submit"]');
    await op.page.waitForSelector('#grant-rtsp code');
    expect(await op.page.textContent('#grant-rtsp code')).toMatch(/^rtsp:\/\/[^:]+:[^@]+@127\.0\.0\.1:\d+\/grant\//);
    const row = `#grant-table tr[data-state="active"]:has-text("${caseRef}")`;
    await op.page.waitForSelector(row);
    const grantId = (await op.page.getAttribute(row, 'data-grant'))!;

    await expectPlaying(police.page, grantId, caseRef);
    const t0 = Date.now();
    await op.page.click(`${row} button.danger`);
    await expectCutWithin1s(police.page, t0, grantId, caseRef, 'revoked');
    await op.page.waitForSelector(`#grant-table tr[data-grant="${grantId}"]`, { state: 'detached' });
    await police.close();
    await op.close();
  }, 120_000);

  it('a grant expiring during a live view stops the video within 1 s of its expiry, the page says it expired, the audit log shows the cut', async () => {
    const police = await policeScreen();
    const { page } = police;
    const caseRef = `MP-KV-2026/${Date.now() % 100_000}`;
    const operator = await client('operator');
    const res = await operator.post<{ id: string; expiresAt: number; state: string }>('/api/grants', {
      forceId: FORCE,
      cameraIds: [camera()],
      reason: 'Poškozování majetku u vchodu',
      caseRef,
      legalBasis: '§ 8 zák. 553/1991 Sb., o obecní policii',
      minutes: 1,
    });
    expect(res.status).toBe(201);
    expect(res.body.state).toBe('active');
    const g = res.body;
    await expectPlaying(page, g.id, caseRef);
    // Still playing shortly before the expiry.
    while (Date.now() < g.expiresAt - 3000) await page.waitForTimeout(500);
    const before = (await tileStats(page))[0];
    expect(before.state).toBe('playing');
    await expectCutWithin1s(page, g.expiresAt, g.id, caseRef, 'expired');
    await police.close();
  }, 120_000);

  it('an emergency raised by the school\'s IT with its button puts its cameras on the police dashboard within 2 s; ending it there cuts the police view', async () => {
    const police = await policeScreen();
    const { page } = police;
    const admin = await client('admin');
    const password = 'school-it-password-kv-1';
    expect((await admin.post('/api/users', { username: 'it-kv-e2e', password, role: 'school_it', orgId: SCHOOL })).status).toBe(201);
    const it = await openDashboard(suite.browser, suite.stack.pageUrl);
    it.page.on('dialog', (d) => void d.accept());
    await signIn(it, { username: 'it-kv-e2e', password });
    await it.page.click('.tab[href="#/sharing"]');
    await it.page.waitForSelector('#emergency');
    expect(await it.page.textContent('#emergency')).toBe('Vyhlásit mimořádnou událost – sdílet kamery s policií');
    await it.page.fill('#emergency-panel input', 'Cizí osoba v budově');

    const t0 = Date.now();
    await it.page.click('#emergency');
    await page.waitForFunction((sel) => document.querySelector(sel) !== null, tileOf(camera()), { timeout: 2000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await page.textContent('#notice')).toMatch(/Mimořádná událost ve škole/);
    // The school sees its emergency running, with the time left and one button to end it.
    await it.page.waitForSelector('#emergency-end');
    expect(await it.page.textContent('.emergency-running')).toMatch(/Probíhá mimořádná událost.*zbývá \d+:\d\d/s);
    const grantId = (await it.page.getAttribute('.emergency-running', 'data-grant'))!;
    const caseRef = (await page.evaluate(() => (window as unknown as { schoolcam: { grants(): { active: { caseRef: string }[] } } }).schoolcam.grants().active[0].caseRef));
    await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames >= 5, 30_000, 'the school camera playing for the police');
    await screenshot(page, 'police-emergency');

    const t1 = Date.now();
    await it.page.click('#emergency-end');
    await expectCutWithin1s(page, t1, grantId, caseRef, 'revoked');
    await it.page.waitForSelector('#emergency');
    await police.close();
    await it.close();
  }, 120_000);
});
