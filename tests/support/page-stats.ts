import type { Page } from 'playwright-core';
import type { PageSession } from '../../control-center/src/web/app/diagnostics';
import type { TileStats } from '../../control-center/src/web/app/player/tile-stats';

export type { PageSession, TileStats };

/** Per-tile figures the live page keeps (`window.schoolcam.tiles()`). */
export function tileStats(page: Page): Promise<TileStats[]> {
  return page.evaluate(() => (window as unknown as { schoolcam: { tiles(): TileStats[] } }).schoolcam.tiles());
}

/** Polls until `check` holds for the page's tiles, or fails with the last figures seen. */
export async function waitForTiles(page: Page, check: (tiles: TileStats[]) => boolean, timeoutMs: number, what: string): Promise<TileStats[]> {
  const deadline = Date.now() + timeoutMs;
  let last: TileStats[] = [];
  while (Date.now() < deadline) {
    last = await tileStats(page);
    if (check(last)) return last;
    await page.waitForTimeout(200);
  }
  const summary = last.map((t) => ({ camera: t.cameraId, state: t.state, frames: t.frames, size: `${t.width}x${t.height}`, barcodes: t.barcodes }));
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; tiles: ${JSON.stringify(summary)}`);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export function pageSession(page: Page): Promise<PageSession> {
  return page.evaluate(() => (window as unknown as { schoolcam: { session(): PageSession } }).schoolcam.session());
}

/**
 * Opens the dashboard, signs in through its form as a person would (signing another account
 * out first; a page of the same browser may already hold the session), and waits for the
 * camera list.
 */
export async function signInPage(page: Page, url: string, account: { username: string; password: string }): Promise<PageSession> {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('login') !== null || (window as unknown as { schoolcam?: { session(): PageSession } }).schoolcam?.session().user != null);
  const already = await pageSession(page);
  if (already.user && already.user.username !== account.username) {
    await page.click('#logout');
    await page.waitForSelector('#login', { state: 'visible' });
  }
  if (already.user?.username === account.username) return waitSignedIn(page, account.username);
  return submitSignIn(page, account);
}

/** Fills the sign-in form, submits it, and waits until the page knows the account's cameras. */
export async function submitSignIn(page: Page, account: { username: string; password: string }): Promise<PageSession> {
  await page.fill('input[name="username"]', account.username);
  await page.fill('input[name="password"]', account.password);
  await page.click('button[type="submit"]');
  return waitSignedIn(page, account.username);
}

async function waitSignedIn(page: Page, username: string): Promise<PageSession> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await pageSession(page);
    if (s.user && s.camerasReceived) return s;
    if (Date.now() > deadline) throw new Error(`the page did not sign ${username} in: ${await page.textContent('#login-error').catch(() => '?')}`);
    await page.waitForTimeout(100);
  }
}
