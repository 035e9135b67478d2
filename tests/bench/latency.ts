import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import type { TileStats } from '../../control-center/src/web/app/player/tile-stats';
import { startStack } from '../demo/demo-stack';
import { launchChromium } from '../support/chromium';
import { median, percentile, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { processUsage } from './process-usage';

/**
 * `npm run bench:latency`: simulator + gateways + centre + a Chromium page on this machine,
 * several rounds, each with a fresh stack and a fresh browser, so the variance between runs
 * shows. Glass-to-glass latency comes from the capture-time barcode each simulated frame
 * carries, read back from the decoded pixels in the page. Per round it measures:
 * - g2g over the first 10 s of each view (the page's first views, and a view opened again
 *   after the warm first-frame cycles: an operator switching cameras), and over a settled
 *   window that starts 15 s into the views;
 * - Chromium's jitter-buffer delay from getStats() (`jitterBufferDelay / jitterBufferEmittedCount`)
 *   over both windows;
 * - time to first frame, warm (the camera's upstream is running) and cold (RTSP starts);
 * - CPU and RSS of the gateways and the centre over the settled window.
 * It reports the median and the worst round; the last line (one JSON object) keeps the keys
 * of earlier versions, with `g2g_p95_ms` and `ttff_warm_p50_ms` the worst round's.
 */
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '20' },
    'warm-views': { type: 'string', default: '8' },
    'cold-views': { type: 'string', default: '3' },
  },
});
const cameras = Number(values.cameras);
const rounds = Number(values.rounds);
const settledS = Number(values.seconds);
const warmViews = Number(values['warm-views']);
const coldViews = Number(values['cold-views']);
const FIRST_S = 10;
const SETTLE_START_S = 15;

interface Inbound {
  jitterBufferDelay?: number;
  jitterBufferEmittedCount?: number;
}

interface Round {
  round: number;
  g2g_first10s_p50_ms: number;
  g2g_first10s_p95_ms: number;
  g2g_p50_ms: number;
  g2g_p95_ms: number;
  g2g_max_ms: number;
  g2g_samples: number;
  frames_painted: number;
  jitter_buffer_first10s_ms: number;
  jitter_buffer_ms: number;
  ttff_warm_p50_ms: number;
  ttff_warm_p95_ms: number;
  ttff_cold_p50_ms: number;
  ttff_cold_p95_ms: number;
  ttff_all: number[];
  centre_cpu_pct: number;
  centre_rss_mb: number;
  gateway_cpu_pct: number;
  gateway_rss_mb: number;
  window_s: number;
}

const inboundOf = (page: Page, ids: string[]): Promise<Inbound[]> => Promise.all(ids.map((id) => page.evaluate((x) => window.schoolcam.inbound(x), id) as Promise<Inbound | null>)).then((r) => r.map((x) => x ?? {}));

/** Mean jitter-buffer delay (ms) between two getStats() samples of the same tiles. */
function jitterMs(a: Inbound[], b: Inbound[]): number {
  let delay = 0;
  let count = 0;
  b.forEach((s, i) => {
    delay += (s.jitterBufferDelay ?? 0) - (a[i]?.jitterBufferDelay ?? 0);
    count += (s.jitterBufferEmittedCount ?? 0) - (a[i]?.jitterBufferEmittedCount ?? 0);
  });
  return count > 0 ? (1000 * delay) / count : NaN;
}

/**
 * Waits until every tile has shown frames for `seconds` after its first frame, and returns
 * the latencies of those first seconds, and the jitter-buffer delay over them.
 */
async function firstSeconds(page: Page, ids: string[], seconds: number): Promise<{ g2g: number[]; jitter: number }> {
  const start = await waitForTiles(page, (ts) => ts.length === ids.length && ts.every((t) => t.firstFrameAt !== null), 30_000, 'first frames');
  const base = start.map((t) => t.latencies.length);
  const j0 = await inboundOf(page, ids);
  const cut = new Map<string, number>();
  const deadline = Date.now() + seconds * 1000 + 20_000;
  while (cut.size < ids.length && Date.now() < deadline) {
    const now = Date.now();
    for (const t of await tileStats(page)) if (!cut.has(t.cameraId) && t.firstFrameAt !== null && now - t.firstFrameAt >= seconds * 1000) cut.set(t.cameraId, t.latencies.length);
    await page.waitForTimeout(100);
  }
  const j1 = await inboundOf(page, ids);
  const tiles = await tileStats(page);
  const g2g = tiles.flatMap((t, i) => t.latencies.slice(Math.min(base[i] ?? 0, t.latencies.length), cut.get(t.cameraId) ?? t.latencies.length));
  return { g2g, jitter: jitterMs(j0, j1) };
}

async function runRound(round: number): Promise<Round> {
  const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-bench-'));
  const stack = await startStack({ cameras, schools: Math.min(2, cameras), dataDir, logs: 'ignore', lingerMs: 1000, upstreamLingerMs: 1000 });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await signInPage(page, `${stack.pageUrl}?diag=1#/live`, stack.account('operator'));
    if (cameras > 4) await page.click('[data-grid="16"]');
    await waitForTiles(page, (ts) => ts.length === cameras, 30_000, 'every tile');
    const ids = (await tileStats(page)).map((t) => t.cameraId);
    // The page's first views, from their first frame.
    const first = await firstSeconds(page, ids, FIRST_S);
    await page.waitForTimeout(Math.max(0, (SETTLE_START_S - FIRST_S) * 1000));

    // Settled window, with the CPU the gateways and centre spent in it.
    const pids = { centre: stack.pids.centre, gateways: stack.pids.gateways };
    const u0 = { centre: processUsage(pids.centre), gateways: pids.gateways.map(processUsage) };
    const startLen = new Map((await tileStats(page)).map((t) => [t.cameraId, t.latencies.length]));
    const j0 = await inboundOf(page, ids);
    const t0 = Date.now();
    await page.waitForTimeout(settledS * 1000);
    const tiles: TileStats[] = await tileStats(page);
    const j1 = await inboundOf(page, ids);
    const wall = (Date.now() - t0) / 1000;
    const u1 = { centre: processUsage(pids.centre), gateways: pids.gateways.map(processUsage) };
    // The page keeps the last 3000 latencies per tile (over 3 minutes at 15 fps): the window's are at the end.
    const g2g = tiles.flatMap((t) => t.latencies.slice(startLen.get(t.cameraId) ?? 0));

    const ttff = async (n: number, waitMs: number): Promise<number[]> => {
      const out: number[] = [];
      for (let r = 0; r < n; r++) {
        await page.evaluate((list) => list.forEach((id) => window.schoolcam.unwatch(id)), ids);
        await page.waitForTimeout(waitMs);
        await page.evaluate((list) => list.forEach((id) => window.schoolcam.watch(id)), ids);
        const ts = await waitForTiles(page, (x) => x.every((t) => t.firstFrameAt !== null), 30_000, 'first frames');
        for (const t of ts) out.push(t.firstFrameAt! - t.openedAt);
      }
      return out;
    };
    // Warm: the upstream lingers (1 s); the new viewer starts from the centre's cached GOP.
    const warm = await ttff(warmViews, 300);
    // The last warm views, as an operator who switched cameras watches them: their first 10 s.
    const again = await firstSeconds(page, ids, FIRST_S);
    // Cold: wait past both lingers so the gateway closes RTSP and the centre its upstream.
    const cold = await ttff(coldViews, 3000);

    const first10 = [...first.g2g, ...again.g2g];
    const cpuPct = (a: { cpuSeconds: number }, b: { cpuSeconds: number }): number => (100 * (b.cpuSeconds - a.cpuSeconds)) / wall;
    return {
      round,
      g2g_first10s_p50_ms: Math.round(percentile(first10, 50)),
      g2g_first10s_p95_ms: Math.round(percentile(first10, 95)),
      g2g_p50_ms: Math.round(percentile(g2g, 50)),
      g2g_p95_ms: Math.round(percentile(g2g, 95)),
      g2g_max_ms: Math.round(Math.max(...g2g)),
      g2g_samples: g2g.length,
      frames_painted: tiles.reduce((s, t) => s + t.frames, 0),
      jitter_buffer_first10s_ms: Math.round(Math.max(first.jitter, again.jitter)),
      jitter_buffer_ms: Math.round(jitterMs(j0, j1)),
      ttff_warm_p50_ms: Math.round(percentile(warm, 50)),
      ttff_warm_p95_ms: Math.round(percentile(warm, 95)),
      ttff_cold_p50_ms: Math.round(percentile(cold, 50)),
      ttff_cold_p95_ms: Math.round(percentile(cold, 95)),
      ttff_all: [...warm, ...cold],
      centre_cpu_pct: Number(cpuPct(u0.centre, u1.centre).toFixed(1)),
      centre_rss_mb: Math.round(u1.centre.rssMb),
      gateway_cpu_pct: Number((u1.gateways.reduce((s, u, i) => s + cpuPct(u0.gateways[i], u), 0) / pids.gateways.length).toFixed(1)),
      gateway_rss_mb: Math.round(u1.gateways.reduce((s, u) => s + u.rssMb, 0) / pids.gateways.length),
      window_s: Math.round(wall),
    };
  } finally {
    await browser.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const results: Round[] = [];
for (let r = 1; r <= rounds; r++) {
  const res = await runRound(r);
  results.push(res);
  console.log(
    `round ${r}: g2g settled p50/p95 ${res.g2g_p50_ms}/${res.g2g_p95_ms} ms, first 10 s p50/p95 ${res.g2g_first10s_p50_ms}/${res.g2g_first10s_p95_ms} ms, ` +
      `jitter buffer ${res.jitter_buffer_first10s_ms} → ${res.jitter_buffer_ms} ms, first frame warm p50 ${res.ttff_warm_p50_ms} ms, cold p50 ${res.ttff_cold_p50_ms} ms`,
  );
}

const worst = <K extends keyof Round>(k: K): number => Math.max(...results.map((r) => r[k] as number));
const med = <K extends keyof Round>(k: K): number => median(results.map((r) => r[k] as number));
const ttffAll = results.flatMap((r) => r.ttff_all);
const result = {
  cameras,
  viewers: 1,
  tiles: cameras,
  rounds,
  window_s: settledS,
  frames_painted: Math.round(med('frames_painted')),
  g2g_samples: results.reduce((s, r) => s + r.g2g_samples, 0),
  g2g_p50_ms: worst('g2g_p50_ms'),
  g2g_p95_ms: worst('g2g_p95_ms'),
  g2g_max_ms: worst('g2g_max_ms'),
  g2g_first10s_p95_ms: worst('g2g_first10s_p95_ms'),
  g2g_first10s_p50_ms: worst('g2g_first10s_p50_ms'),
  jitter_buffer_ms: worst('jitter_buffer_ms'),
  jitter_buffer_first10s_ms: worst('jitter_buffer_first10s_ms'),
  ttff_p50_ms: Math.round(percentile(ttffAll, 50)),
  ttff_p95_ms: Math.round(percentile(ttffAll, 95)),
  ttff_warm_p50_ms: worst('ttff_warm_p50_ms'),
  ttff_warm_p95_ms: worst('ttff_warm_p95_ms'),
  ttff_cold_p50_ms: worst('ttff_cold_p50_ms'),
  ttff_cold_p95_ms: worst('ttff_cold_p95_ms'),
  gop_s: 2,
  centre_cpu_pct: med('centre_cpu_pct'),
  centre_rss_mb: Math.round(med('centre_rss_mb')),
  gateway_cpu_pct: med('gateway_cpu_pct'),
  gateway_rss_mb: Math.round(med('gateway_rss_mb')),
  median: {
    g2g_p95_ms: med('g2g_p95_ms'),
    g2g_first10s_p95_ms: med('g2g_first10s_p95_ms'),
    jitter_buffer_ms: med('jitter_buffer_ms'),
    ttff_warm_p50_ms: med('ttff_warm_p50_ms'),
  },
  per_round: results.map(({ ttff_all: _omit, ...r }) => r),
};
console.log('');
console.log('metric                          median   worst round');
console.log('------------------------------  -------  -----------');
const row = (label: string, k: keyof Round, unit = 'ms'): void => console.log(`${label.padEnd(30)}  ${String(med(k)).padStart(7)}  ${String(worst(k)).padStart(8)} ${unit}`);
row('g2g p50 (settled)', 'g2g_p50_ms');
row('g2g p95 (settled)', 'g2g_p95_ms');
row('g2g p95 (first 10 s of a view)', 'g2g_first10s_p95_ms');
row('jitter buffer (settled)', 'jitter_buffer_ms');
row('jitter buffer (first 10 s)', 'jitter_buffer_first10s_ms');
row('first frame, warm, p50', 'ttff_warm_p50_ms');
row('first frame, cold, p50', 'ttff_cold_p50_ms');
row('centre CPU', 'centre_cpu_pct', '%');
row('gateway CPU (each)', 'gateway_cpu_pct', '%');
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/latency.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
