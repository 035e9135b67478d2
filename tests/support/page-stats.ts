import type { Page } from 'playwright-core';
import type { TileStats } from '../../control-center/src/web/app/main';

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
