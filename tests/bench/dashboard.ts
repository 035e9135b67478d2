import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../demo/demo-stack';
import { launchChromiumBrowser } from '../support/chromium';
import { percentile, tileStats, waitForTiles } from '../support/page-stats';
import { processUsage } from './process-usage';

/**
 * `npm run bench:dashboard`: the operator's 16-tile wall in Chromium, on the demo stack
 * (simulator → 4 school gateways → centre). Measures the time from pressing "Sign in" to all
 * 16 tiles showing a decoded frame (target ≤ 3 s), the browser's CPU for 16 tiles over a
 * steady window (every Chromium process of the bench's browser), and glass-to-glass latency
 * across the tiles (p50/p95), read from the capture-time barcode in the decoded pixels.
 * Last line: one JSON object, also written to `bench-results/dashboard.json`.
 */
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
  },
});
const cameras = Number(values.cameras);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const TARGET_MS = 3000;

/** Every process under `root` (Chromium's browser, renderer, GPU and utility processes). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, p] of parent) if (p === pid) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

function cpuSeconds(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) {
    try {
      m.set(pid, processUsage(pid).cpuSeconds);
    } catch {
      // exited
    }
  }
  return m;
}

const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-bench-'));
const stack = await startStack({ cameras, schools: 4, dataDir, logs: 'ignore' });
const browser = await launchChromiumBrowser();
try {
  const operator = stack.account('operator');
  const loginToWall: number[] = [];
  let g2g: number[] = [];
  let browserCpuPct = 0;
  let framesPerTile = 0;
  for (let round = 0; round < rounds; round++) {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    // A control-room bookmark: the live wall in the 16-tile layout, with the latency read-out on.
    await page.goto(`${stack.pageUrl}?diag=1#/live?layout=16`);
    await page.waitForSelector('#login');
    await page.fill('input[name="username"]', operator.username);
    await page.fill('input[name="password"]', operator.password);
    const t0 = await page.evaluate(() => performance.timeOrigin + performance.now());
    await page.click('button[type="submit"]');
    const tiles = await waitForTiles(page, (ts) => ts.length === cameras && ts.every((t) => t.firstFrameAt !== null), 60_000, `${cameras} tiles playing`);
    loginToWall.push(Math.max(...tiles.map((t) => t.firstFrameAt!)) - t0);

    if (round === rounds - 1) {
      // Steady state on the last round: browser CPU and glass-to-glass over a window.
      await page.waitForTimeout(3000);
      const own = descendants(process.pid).filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium');
        } catch {
          return false;
        }
      });
      const before = new Map((await tileStats(page)).map((t) => [t.cameraId, { lat: t.latencies.length, frames: t.frames }]));
      const c0 = cpuSeconds(own);
      const w0 = Date.now();
      await page.waitForTimeout(seconds * 1000);
      const c1 = cpuSeconds(own);
      const wall = (Date.now() - w0) / 1000;
      let used = 0;
      for (const [pid, s] of c1) used += s - (c0.get(pid) ?? s);
      browserCpuPct = (100 * used) / wall;
      const after = await tileStats(page);
      g2g = after.flatMap((t) => t.latencies.slice(before.get(t.cameraId)?.lat ?? 0));
      framesPerTile = after.reduce((n, t) => n + t.frames - (before.get(t.cameraId)?.frames ?? 0), 0) / after.length / wall;
      const sizes = new Set(after.map((t) => `${t.width}x${t.height}`));
      console.log(`tile sizes: ${[...sizes].join(', ')}`);
    }
    await context.close();
    // Let the centre (5 s) and the gateways (10 s) release the feeds before the next sign-in: a cold wall each round.
    if (round < rounds - 1) await new Promise((r) => setTimeout(r, 17_000));
  }
  const result = {
    tiles: cameras,
    rounds,
    login_to_wall_ms: Math.round(percentile(loginToWall, 50)),
    login_to_wall_max_ms: Math.round(Math.max(...loginToWall)),
    target_ms: TARGET_MS,
    target_met: Math.max(...loginToWall) <= TARGET_MS,
    browser_cpu_pct: Number(browserCpuPct.toFixed(1)),
    fps_per_tile: Number(framesPerTile.toFixed(1)),
    window_s: seconds,
    g2g_samples: g2g.length,
    g2g_p50_ms: Math.round(percentile(g2g, 50)),
    g2g_p95_ms: Math.round(percentile(g2g, 95)),
  };
  console.log('');
  console.log('metric                          value');
  console.log('------------------------------  ---------');
  const row = (k: string, v: string): void => console.log(`${k.padEnd(30)}  ${v}`);
  row('sign-in → 16 tiles playing', `${result.login_to_wall_ms} ms median, ${result.login_to_wall_max_ms} ms worst of ${rounds} (target ≤ ${TARGET_MS} ms)`);
  row('browser CPU, 16 tiles', `${result.browser_cpu_pct} % of one core (${result.fps_per_tile} fps per tile)`);
  row('glass-to-glass p50 / p95', `${result.g2g_p50_ms} / ${result.g2g_p95_ms} ms (${g2g.length} frames)`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/dashboard.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
