import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../demo/demo-stack';
import { launchChromium } from '../support/chromium';
import { percentile, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { processUsage } from './process-usage';

/**
 * `npm run bench:latency`: simulator + gateways + centre + Chromium tiles on this machine.
 * Glass-to-glass latency comes from the capture-time barcode each simulated frame carries,
 * read back from the decoded pixels in the page. Time to first frame is measured from the
 * moment a tile asks for a camera to its first painted frame, with the camera's upstream
 * already running (warm: a viewer joins an existing stream) and stopped (cold: the gateway
 * has to open RTSP first). Last line: one JSON object.
 */
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '10' },
  },
});
const cameras = Number(values.cameras);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-bench-'));
const stack = await startStack({ cameras, schools: Math.min(2, cameras), dataDir, logs: 'ignore', lingerMs: 1000, upstreamLingerMs: 1000 });
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  // `?diag=1`: the tiles read the capture-time barcode.
  await signInPage(page, `${stack.pageUrl}?diag=1#/live`, stack.account('operator'));
  if (cameras > 4) await page.click('[data-grid="16"]');
  await waitForTiles(page, (ts) => ts.length === cameras && ts.every((t) => t.frames > 30), 60_000, 'every tile playing');
  const ids = (await tileStats(page)).map((t) => t.cameraId);

  // Glass-to-glass over a steady window, with the CPU the gateways and centre spent in it.
  const pids = { centre: stack.pids.centre, gateways: stack.pids.gateways };
  const u0 = { centre: processUsage(pids.centre), gateways: pids.gateways.map(processUsage) };
  const t0 = Date.now();
  const startFrames = new Map((await tileStats(page)).map((t) => [t.cameraId, t.latencies.length]));
  await page.waitForTimeout(seconds * 1000);
  const tiles = await tileStats(page);
  const wall = (Date.now() - t0) / 1000;
  const u1 = { centre: processUsage(pids.centre), gateways: pids.gateways.map(processUsage) };
  // The page keeps the last 3000 latencies per tile (over 3 minutes at 15 fps): the window's are at the end.
  const g2g = tiles.flatMap((t) => t.latencies.slice(startFrames.get(t.cameraId) ?? 0));
  const framesPainted = tiles.map((t) => t.frames).reduce((a, b) => a + b, 0);

  const ttff = async (waitMs: number): Promise<number[]> => {
    const out: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await page.evaluate((list) => list.forEach((id) => (window as unknown as { schoolcam: { unwatch(id: string): void } }).schoolcam.unwatch(id)), ids);
      await page.waitForTimeout(waitMs);
      await page.evaluate((list) => list.forEach((id) => (window as unknown as { schoolcam: { watch(id: string): void } }).schoolcam.watch(id)), ids);
      const ts = await waitForTiles(page, (x) => x.every((t) => t.firstFrameAt !== null), 30_000, 'first frames');
      for (const t of ts) out.push(t.firstFrameAt! - t.openedAt);
    }
    return out;
  };
  // Warm: the upstream lingers (1 s) and the new viewer needs a key frame from the camera.
  const warm = await ttff(300);
  // Cold: wait past both lingers so the gateway closes RTSP and the centre its upstream.
  const cold = await ttff(3000);

  const cpuPct = (a: { cpuSeconds: number }, b: { cpuSeconds: number }): number => (100 * (b.cpuSeconds - a.cpuSeconds)) / wall;
  const result = {
    cameras,
    viewers: 1,
    tiles: cameras,
    window_s: Math.round(wall),
    frames_painted: framesPainted,
    g2g_samples: g2g.length,
    g2g_p50_ms: Math.round(percentile(g2g, 50)),
    g2g_p95_ms: Math.round(percentile(g2g, 95)),
    g2g_max_ms: Math.round(Math.max(...g2g)),
    ttff_p50_ms: Math.round(percentile([...warm, ...cold], 50)),
    ttff_p95_ms: Math.round(percentile([...warm, ...cold], 95)),
    ttff_warm_p50_ms: Math.round(percentile(warm, 50)),
    ttff_warm_p95_ms: Math.round(percentile(warm, 95)),
    ttff_cold_p50_ms: Math.round(percentile(cold, 50)),
    ttff_cold_p95_ms: Math.round(percentile(cold, 95)),
    gop_s: 2,
    centre_cpu_pct: Number(cpuPct(u0.centre, u1.centre).toFixed(1)),
    centre_rss_mb: Math.round(u1.centre.rssMb),
    gateway_cpu_pct: Number((u1.gateways.reduce((s, u, i) => s + cpuPct(u0.gateways[i], u), 0) / pids.gateways.length).toFixed(1)),
    gateway_rss_mb: Math.round(u1.gateways.reduce((s, u) => s + u.rssMb, 0) / pids.gateways.length),
  };
  console.log('');
  console.log('metric                     value');
  console.log('-------------------------  ---------');
  const row = (k: string, v: string): void => console.log(`${k.padEnd(25)}  ${v}`);
  row('cameras × tiles', `${cameras} × 1 page`);
  row('glass-to-glass p50 / p95', `${result.g2g_p50_ms} / ${result.g2g_p95_ms} ms (${g2g.length} frames)`);
  row('first frame p50 / p95', `${result.ttff_p50_ms} / ${result.ttff_p95_ms} ms (GOP 2 s)`);
  row('  warm (join live stream)', `${result.ttff_warm_p50_ms} / ${result.ttff_warm_p95_ms} ms`);
  row('  cold (RTSP starts)', `${result.ttff_cold_p50_ms} / ${result.ttff_cold_p95_ms} ms`);
  row('centre CPU / RSS', `${result.centre_cpu_pct} % / ${result.centre_rss_mb} MB`);
  row('gateway CPU / RSS (each)', `${result.gateway_cpu_pct} % / ${result.gateway_rss_mb} MB`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/latency.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
