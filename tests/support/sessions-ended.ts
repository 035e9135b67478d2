import { afterEach, expect } from 'vitest';

/**
 * Every test of the calling file must leave no session behind: after each one, `open()` has to
 * fall back to zero within `timeoutMs` (peers exit, TEARDOWN arrives, sockets close
 * asynchronously). A check per test, not one test at the end, so that it holds whatever order the
 * tests run in and whichever of them runs alone.
 */
export function expectSessionsEndAfterEachTest(what: string, open: () => number, timeoutMs = 5000): void {
  afterEach(async () => {
    await expect.poll(open, { timeout: timeoutMs, interval: 50, message: `every ${what} ended once the test's peers exited` }).toBe(0);
  });
}
