import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Stack, type StackOptions, startStack } from '../demo/demo-stack';
import type { Browser as PlaywrightBrowser } from 'playwright-core';
import { type Browser, launchChromium, launchChromiumBrowser } from './chromium';

/**
 * The demo stack and a browser for one test file: started before its first test, stopped (and
 * its data directory removed) after its last. Read `stack` and `browser` inside tests.
 */
function stackWith<B extends { close(): Promise<void> }>(opts: Omit<StackOptions, 'dataDir'>, launch: () => Promise<B>): { readonly stack: Stack; readonly browser: B } {
  const state: { stack?: Stack; browser?: B; dataDir?: string } = {};
  beforeAll(async () => {
    state.dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-e2e-'));
    state.stack = await startStack({ ...opts, dataDir: state.dataDir });
    state.browser = await launch();
  });
  afterAll(async () => {
    await state.browser?.close();
    await state.stack?.stop();
    if (state.dataDir) rmSync(state.dataDir, { recursive: true, force: true });
  });
  return {
    get stack() {
      return state.stack!;
    },
    get browser() {
      return state.browser!;
    },
  };
}

/** The demo stack and a Chromium (one persistent context) for one test file. */
export function stackForSuite(opts: Omit<StackOptions, 'dataDir'>): { readonly stack: Stack; readonly browser: Browser } {
  return stackWith(opts, launchChromium);
}

/** The demo stack and a Chromium that opens one context per person (see `dashboard-page.ts`), for one test file. */
export function stackForJourneys(opts: Omit<StackOptions, 'dataDir'>): { readonly stack: Stack; readonly browser: PlaywrightBrowser } {
  return stackWith(opts, launchChromiumBrowser);
}
