import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CentreClient } from '../../control-center/test/support/api-client';
import { type Person, foreignRequests, openDashboard, screenshot, signIn } from '../support/dashboard-page';
import { stackForJourneys } from '../support/stack-suite';

/**
 * The region's administrator and auditor at the dashboard, and what a person sees at
 * sign-in: accounts made and used, a gateway revoked, the audit log read and exported.
 */
describe('the administrator and the auditor at the dashboard (Chromium, demo stack)', () => {
  const suite = stackForJourneys({ cameras: 4, schools: 4, fps: 10, logs: 'ignore' });

  function expectClean(p: Person): void {
    expect(foreignRequests(p, suite.stack.centreUrl)).toEqual([]);
    expect(p.problems).toEqual([]);
  }

  async function as(role: 'admin' | 'auditor', path = ''): Promise<Person> {
    const p = await openDashboard(suite.browser, `${suite.stack.pageUrl}${path}`);
    await signIn(p, suite.stack.account(role));
    return p;
  }

  it('an admin creates a school IT account in the page; its owner signs in and sees only their own school', async () => {
    const admin = await as('admin', '#/users');
    const { page } = admin;
    const username = `it-new-${Date.now() % 100000}`;
    await page.fill('#create-user input[name="username"]', username);
    await page.click('#create-user button:has-text("Vygenerovat heslo")');
    const password = await page.inputValue('#create-user input[name="password"]');
    expect(password).toHaveLength(16);
    await page.selectOption('#create-user select[name="role"]', 'school_it');
    await page.selectOption('#create-user select[name="orgId"]', 'zs-sokolov');
    await page.click('#create-user button[type="submit"]');
    await page.waitForSelector(`#user-table tr[data-user="${username}"]`);
    expect(await page.textContent(`#user-table tr[data-user="${username}"]`)).toContain('ZŠ Sokolov');
    expectClean(admin);
    await admin.close();

    const it = await openDashboard(suite.browser, suite.stack.pageUrl);
    const session = await signIn(it, { username, password });
    expect(session.user?.role).toBe('school_it');
    const own = suite.stack.cameras.filter((c) => c.school === 'zs-sokolov').map((c) => c.centreId).sort();
    expect(own.length).toBeGreaterThan(0);
    // The school's cameras and nothing else: in the camera list and in the live tree.
    await it.page.waitForSelector('#camera-table');
    expect((await it.page.$$eval('#camera-table tbody tr', (rs) => rs.map((r) => r.getAttribute('data-camera')))).sort()).toEqual(own);
    await it.page.click('.tab[href="#/live"]');
    await it.page.waitForSelector('.tree');
    expect((await it.page.$$eval('.tree-camera', (bs) => bs.map((b) => b.getAttribute('data-camera')))).sort()).toEqual(own);
    expect(await it.page.$$eval('.tree-school', (ss) => ss.map((s) => s.getAttribute('data-school')))).toEqual(['zs-sokolov']);
    // …nor through the API, from the same page.
    const foreign = suite.stack.cameras.find((c) => c.school !== 'zs-sokolov')!.centreId;
    expect(await it.page.evaluate(async (id) => (await fetch(`/api/cameras/${encodeURIComponent(id)}`)).status, foreign)).toBe(404);
    expectClean(it);
    await it.close();
  });

  it('an admin revokes a gateway and its cameras show offline; the auditor finds the revocation and the new account in the log, exports both and sees the chain intact', async () => {
    const admin = await as('admin', '#/gateways');
    const { page } = admin;
    const school = 'gym-cheb';
    const cams = suite.stack.cameras.filter((c) => c.school === school);
    const gatewayId = cams[0].centreId.split(':')[0];
    // A new account too, for the auditor to find.
    await page.click('.tab[href="#/users"]');
    const username = `op-new-${Date.now() % 100000}`;
    await page.fill('#create-user input[name="username"]', username);
    await page.fill('#create-user input[name="password"]', 'a-long-password-42');
    await page.selectOption('#create-user select[name="role"]', 'operator');
    await page.click('#create-user button[type="submit"]');
    await page.waitForSelector(`#user-table tr[data-user="${username}"]`);

    await page.click('.tab[href="#/gateways"]');
    await page.waitForSelector(`#gateway-table tr[data-gateway="${gatewayId}"]`);
    page.once('dialog', (d) => void d.accept());
    await page.click(`#gateway-table tr[data-gateway="${gatewayId}"] button.danger`);
    await page.waitForSelector(`#gateway-table tr[data-gateway="${gatewayId}"][data-state="revoked"]`);
    await page.click('.tab[href="#/cameras"]');
    for (const c of cams) {
      await page.waitForSelector(`#camera-table tr[data-camera="${c.centreId}"][data-state="offline"]`, { timeout: 10_000 });
      expect(await page.textContent(`#camera-table tr[data-camera="${c.centreId}"]`)).toContain('nedostupná');
    }
    await page.click('.tab[href="#/overview"]');
    await page.waitForSelector(`#region-map .school-mark[data-school="${school}"][data-state="degraded"]`);
    expectClean(admin);
    await admin.close();

    const auditor = await as('auditor');
    const a = auditor.page;
    expect(await a.evaluate(() => location.hash)).toBe('#/audit');
    await a.waitForSelector('#verify-result');
    expect(await a.textContent('#verify-result')).toMatch(/^Řetězec záznamů je neporušený \(\d+ záznam(y|ů)?\)\.$/);
    await a.fill('#audit-filters input[name="kind"]', 'gateway.revoke');
    await a.click('#audit-filters button[type="submit"]');
    await a.waitForSelector(`#audit-table tr[data-kind="gateway.revoke"]`);
    const rows = await a.$$eval('#audit-table tbody tr', (rs) => rs.map((r) => r.textContent ?? ''));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes('gateway.revoke'))).toBe(true);
    expect(rows.some((r) => r.includes(gatewayId) && r.includes('admin'))).toBe(true);
    await a.fill('#audit-filters input[name="kind"]', '');
    await a.fill('#audit-filters input[name="actor"]', 'admin');
    await a.click('#audit-filters button[type="submit"]');
    await a.waitForSelector(`#audit-table tr[data-kind="user.create"]`);
    expect(await a.textContent('#audit-table')).toContain(username);
    await screenshot(a, 'audit');

    for (const [button, format] of [['#export-csv', 'csv'], ['#export-json', 'json']] as const) {
      const [download] = await Promise.all([a.waitForEvent('download'), a.click(button)]);
      expect(download.suggestedFilename()).toMatch(new RegExp(`^schoolcam-audit-\\d{4}-\\d{2}-\\d{2}\\.${format}$`));
      const text = readFileSync((await download.path()), 'utf8');
      expect(text).toContain('gateway.revoke');
      expect(text).toContain(gatewayId);
      expect(text).toContain(username);
    }
    expectClean(auditor);
    await auditor.close();
  });

  it('says plainly why sign-in failed: a wrong password, then a locked account; and why a session ended', async () => {
    const admin = await CentreClient.signIn(suite.stack.centreUrl, 'admin', suite.stack.account('admin').password);
    const username = `lock-${Date.now() % 100000}`;
    const created = await admin.post<{ id: string }>('/api/users', { username, password: 'the-right-password-1', role: 'operator', orgId: 'kvk' });
    expect(created.status).toBe(201);
    const p = await openDashboard(suite.browser, suite.stack.pageUrl);
    const { page } = p;
    const attempt = async (password: string): Promise<string> => {
      await page.fill('input[name="username"]', username);
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/session') && r.request().method() === 'POST'), page.click('button[type="submit"]')]);
      await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '') !== '' && !(document.querySelector('button[type="submit"]') as HTMLButtonElement).disabled);
      return (await page.textContent('#login-error')) ?? '';
    };
    expect(await attempt('wrong-password-1')).toBe('Nesprávné jméno nebo heslo.');
    let last = '';
    for (let i = 0; i < 6 && !last.includes('zablokován'); i++) last = await attempt('wrong-password-1');
    expect(last).toMatch(/^Účet je dočasně zablokován po příliš mnoha neúspěšných pokusech\. Zkuste to znovu za \d+ min\.$/);
    // Even the right password is refused while locked.
    expect(await attempt('the-right-password-1')).toMatch(/zablokován/);

    // A session ended by an administrator: the page says so and asks to sign in again.
    const other = `ended-${Date.now() % 100000}`;
    const made = await admin.post<{ id: string }>('/api/users', { username: other, password: 'the-right-password-2', role: 'operator', orgId: 'kvk' });
    await signIn(p, { username: other, password: 'the-right-password-2' });
    await page.waitForSelector('#region-map');
    expect((await admin.patch(`/api/users/${made.body.id}`, { disabled: true })).status).toBe(200);
    await page.waitForSelector('#login', { timeout: 10_000 });
    expect(await page.textContent('#login-error')).toMatch(/^Přihlášení bylo ukončeno \(account disabled\)\. Přihlaste se znovu\.$/);
    expectClean(p);
    await p.close();
  });
});
