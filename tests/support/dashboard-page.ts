import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT } from './centre-bootstrap';
import { type PageSession, submitSignIn } from './page-stats';

/** Where journeys save the screenshots people look at (git-ignored). */
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

export interface Viewport {
  width: number;
  height: number;
}
export const FULL_HD: Viewport = { width: 1920, height: 1080 };
export const LAPTOP: Viewport = { width: 1366, height: 768 };
export const PHONE: Viewport = { width: 390, height: 844 };

/** A person at the dashboard: their own browser context (cookies, window), and what the page did. */
export interface Person {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested (to prove it loads nothing from outside the centre). */
  requests: string[];
  /** Console messages about the Content Security Policy, and uncaught page errors. */
  problems: string[];
  close(): Promise<void>;
}

/** Opens the dashboard in a fresh context, recording every request and every CSP complaint. */
export async function openDashboard(browser: Browser, url: string, viewport: Viewport = FULL_HD): Promise<Person> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'cs-CZ' });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (/content security policy|refused to (load|execute|apply|connect)/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  return { context, page, requests, problems, close: () => context.close() };
}

/** Signs in through the form as a person would, and waits for the page to know the account's cameras. */
export async function signIn(person: Person, account: { username: string; password: string }): Promise<PageSession> {
  await person.page.waitForSelector('#login');
  return submitSignIn(person.page, account);
}

/** Saves a screenshot under {@link SCREENSHOT_DIR} for the closing note. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Requests that went anywhere but the centre (the dashboard must work on a closed network). */
export function foreignRequests(person: Person, centreUrl: string): string[] {
  const own = new URL(centreUrl).host;
  return person.requests.filter((u) => {
    if (u.startsWith('data:') || u.startsWith('blob:')) return false;
    return new URL(u).host !== own;
  });
}

/** Every control a keyboard reaches has a name a screen reader can say. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.$$eval('button, input, select, textarea, a[href], [tabindex="0"]', (els) =>
    els
      .filter((el) => (el as HTMLElement).offsetParent !== null || el.tagName === 'svg')
      .filter((el) => {
        const e = el as HTMLElement;
        const aria = e.getAttribute('aria-label') ?? e.getAttribute('aria-labelledby') ?? e.getAttribute('title');
        if (aria) return false;
        if ((e as HTMLInputElement).labels?.length) return false;
        if (e.tagName === 'INPUT' && (e as HTMLInputElement).type === 'hidden') return false;
        return (e.textContent ?? '').trim() === '';
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}
