import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../demo/demo-stack';
import { launchChromium } from '../support/chromium';
import { CentreClient } from '../../control-center/test/support/api-client';
import { percentile, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import type { LightViewerStats } from './light-viewer';
import { ViewerProcess } from './viewer-process';
import { processUsage } from './process-usage';

/**
 * `npm run bench:fanout`: how the centre's cost grows with viewers. A real simulator,
 * gateway and centre (each its own process); N light WebRTC viewers (ICE, DTLS, SRTP; see
 * `light-viewer.ts`) in separate processes, spread round-robin over M cameras at
 * 1280×720, 15 fps, ~2.5 Mbit/s; one Chromium tile watching the first camera throughout and
 * reading the capture-time barcode, so glass-to-glass is measured under load. The tile and the
 * light viewers watch as the demo's operator (the page signs in; the viewers' sockets carry
 * that account's session cookie); the centre's live-view caps are raised for the sweep.
 *
 * For each N of the sweep it measures, over a window: the centre's CPU time (all its
 * threads, from /proc) per RTP packet delivered to a viewer, the loss each viewer saw
 * (sequence gaps), the tile's glass-to-glass, the centre's RSS. The sweep stops at the
 * first N that does not hold (loss above 0.1 %, a viewer not receiving, the tile below 13 fps, or
 * fewer packets per viewer than the stream carries: a starved centre skips to key frames)
 * or when the time budget is spent. Last line: one JSON object for the largest N that held.
 */
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '4' },
    steps: { type: 'string', default: '1,8,32,64,128,192,256,320,384,448' },
    seconds: { type: 'string', default: '10' },
    settle: { type: 'string', default: '4' },
    'per-process': { type: 'string', default: '40' },
    'budget-minutes': { type: 'string', default: '20' },
    bitrate: { type: 'string', default: '2500' },
    /** Run the simulator, gateway and centre from another checkout (to measure a baseline). */
    root: { type: 'string' },
    label: { type: 'string', default: 'fanout' },
    /** Write the centre's CPU profile (`--cpu-prof`, one file per thread) into this directory. */
    'profile-centre': { type: 'string' },
    /** Go on with the sweep past an N that did not hold (to draw a baseline's whole curve). */
    'keep-going': { type: 'boolean', default: false },
    /**
     * Scheduling priority of the light viewers' processes (0 normal … 19 lowest). They stand for
     * viewers on other machines: at 19 the load they generate yields this machine's cores to the
     * centre, gateway, simulator and tile being measured; a viewer that cannot keep up shows as loss.
     */
    'viewers-nice': { type: 'string', default: '19' },
  },
});
const cameras = Number(values.cameras);
const steps = values.steps.split(',').map(Number);
const windowS = Number(values.seconds);
const settleS = Number(values.settle);
const perProcess = Number(values['per-process']);
const deadline = Date.now() + Number(values['budget-minutes']) * 60_000;
const MAX_LOSS_PCT = 0.1;

interface Step {
  viewers: number;
  cameras: number;
  window_s: number;
  packets: number;
  pkt_per_s_per_viewer: number;
  centre_cpu_pct: number;
  us_per_packet_viewer: number;
  marginal_us_per_packet_viewer: number | null;
  viewers_per_core: number;
  loss_pct: number;
  worst_viewer_loss_pct: number;
  not_receiving: number;
  samples_ok: number;
  samples_bad: number;
  g2g_p50_ms: number;
  g2g_p95_ms: number;
  tile_fps: number;
  centre_rss_mb: number;
  viewer_procs_cpu_pct: number;
  gateway_cpu_pct: number;
  sim_cpu_pct: number;
  held: boolean;
}

const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-bench-fanout-'));
const stack = await startStack({
  cameras,
  schools: 1,
  dataDir,
  logs: 'ignore',
  width: 1280,
  height: 720,
  fps: 15,
  gopSeconds: 2,
  bitrateKbps: Number(values.bitrate),
  root: values.root,
  centreNodeArgs: values['profile-centre'] ? ['--cpu-prof', `--cpu-prof-dir=${values['profile-centre']}`] : [],
  // Every viewer is the one operator's: lift the per-account and total caps above the sweep.
  centre: { limits: { viewersPerUser: 10_000, viewersTotal: 10_000 } },
});
const browser = await launchChromium();
const procs: ViewerProcess[] = [];
const results: Step[] = [];
try {
  const page = await browser.context.newPage();
  const operator = stack.account('operator');
  await signInPage(page, `${stack.pageUrl}?diag=1#/live`, operator);
  await page.click('[data-grid="1"]');
  const [tile0] = await waitForTiles(page, (ts) => ts.length === 1 && ts[0].frames > 30, 60_000, 'the sample tile playing');
  const tileCamera = tile0.cameraId;
  const cameraIds = stack.cameras.map((c) => c.centreId);
  const { cookie } = await CentreClient.signIn(stack.centreUrl, operator.username, operator.password);
  const inbound = async (): Promise<{ packets: number }> => {
    const r = (await page.evaluate((id) => window.schoolcam.inbound(id), tileCamera)) as { packetsReceived?: number; packetsLost?: number } | null;
    return { packets: (r?.packetsReceived ?? 0) + Math.max(0, r?.packetsLost ?? 0) };
  };

  const allStats = async (): Promise<{ viewers: LightViewerStats[]; cpuUs: number }> => {
    const reports = await Promise.all(procs.map((p) => p.request({ type: 'stats' })));
    return { viewers: reports.flatMap((r) => r.viewers), cpuUs: reports.reduce((s, r) => s + r.cpuUs, 0) };
  };

  let added = 0;
  let streamRate: number | undefined;
  let previous: { cpuS: number; packets: number } | undefined;
  for (const n of steps) {
    if (Date.now() > deadline) {
      console.log(`time budget spent before N=${n}`);
      break;
    }
    // Add viewers up to n, round-robin over the cameras, filling viewer processes in turn.
    const want: string[] = [];
    for (; added < n; added++) want.push(cameraIds[added % cameraIds.length]);
    const byProc = new Map<ViewerProcess, string[]>();
    for (const id of want) {
      let p = procs.find((x) => x.count < perProcess);
      if (!p) {
        p = new ViewerProcess(Number(values['viewers-nice']));
        procs.push(p);
      }
      p.count++;
      byProc.set(p, [...(byProc.get(p) ?? []), id]);
    }
    const t0 = Date.now();
    await Promise.all([...byProc].map(([p, ids]) => p.request({ type: 'watch', centreUrl: stack.centreUrl, cookie, cameraIds: ids })));
    // Every viewer connected and receiving, then let the system settle.
    let receiving = 0;
    for (;;) {
      const s = await allStats();
      receiving = s.viewers.filter((v) => v.state === 'receiving' && v.received > 0).length;
      if (receiving >= n || Date.now() - t0 > 60_000) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (receiving < n) {
      console.log(`N=${String(n).padStart(4)}  only ${receiving} of ${n} viewers receiving after 60 s: stopping`);
      break;
    }
    const setupS = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, settleS * 1000));

    const c0 = processUsage(stack.pids.centre);
    const g0 = stack.pids.gateways.map(processUsage);
    const s0 = processUsage(stack.pids.sim);
    const v0 = await allStats();
    const i0 = await inbound();
    const lat0 = new Map((await tileStats(page)).map((t) => [t.cameraId, { n: t.latencies.length, frames: t.frames }]));
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const wall = (Date.now() - w0) / 1000;
    const c1 = processUsage(stack.pids.centre);
    const g1 = stack.pids.gateways.map(processUsage);
    const s1 = processUsage(stack.pids.sim);
    const v1 = await allStats();
    const i1 = await inbound();
    const tiles = await tileStats(page);

    const tile = tiles.find((t) => t.cameraId === tileCamera);
    const l0 = lat0.get(tileCamera);
    // The page keeps the last 3000 latencies of a tile (over 3 minutes at 15 fps): the window's are at the end.
    const g2gWindow = tile && l0 ? tile.latencies.slice(l0.n) : [];
    let packets = i1.packets - i0.packets;
    let lost = 0;
    let worst = 0;
    let notReceiving = 0;
    let samplesOk = 0;
    let samplesBad = 0;
    v1.viewers.forEach((v, i) => {
      const b = v0.viewers[i];
      const got = v.received - (b?.received ?? 0);
      const gaps = v.gaps - (b?.gaps ?? 0);
      packets += got + gaps;
      lost += gaps;
      samplesOk += v.samplesOk - (b?.samplesOk ?? 0);
      samplesBad += v.samplesBad - (b?.samplesBad ?? 0);
      if (got + gaps > 0) worst = Math.max(worst, (100 * gaps) / (got + gaps));
      if (got < 10 * wall || v.state !== 'receiving') notReceiving++;
    });
    const cpuS = c1.cpuSeconds - c0.cpuSeconds;
    const viewersCounted = n + 1; // the light viewers and the Chromium tile
    const perViewerRate = packets / wall / viewersCounted;
    const us = (cpuS * 1e6) / packets;
    const marginal = previous && packets > previous.packets ? ((cpuS - previous.cpuS) * 1e6) / (packets - previous.packets) : null;
    previous = { cpuS, packets };
    const lossPct = (100 * lost) / Math.max(1, packets);
    const tileFps = tile && l0 ? (tile.frames - l0.frames) / wall : 0;
    const step: Step = {
      viewers: n,
      cameras,
      window_s: Number(wall.toFixed(1)),
      packets,
      pkt_per_s_per_viewer: Math.round(perViewerRate),
      centre_cpu_pct: Number(((100 * cpuS) / wall).toFixed(1)),
      us_per_packet_viewer: Number(us.toFixed(1)),
      marginal_us_per_packet_viewer: marginal === null ? null : Number(marginal.toFixed(1)),
      viewers_per_core: Math.floor(1e6 / (us * perViewerRate)),
      loss_pct: Number(lossPct.toFixed(3)),
      worst_viewer_loss_pct: Number(worst.toFixed(3)),
      not_receiving: notReceiving,
      samples_ok: samplesOk,
      samples_bad: samplesBad,
      g2g_p50_ms: Math.round(percentile(g2gWindow, 50)),
      g2g_p95_ms: Math.round(percentile(g2gWindow, 95)),
      tile_fps: Number(tileFps.toFixed(1)),
      centre_rss_mb: Math.round(c1.rssMb),
      viewer_procs_cpu_pct: Number(((100 * (v1.cpuUs - v0.cpuUs)) / 1e6 / wall).toFixed(1)),
      gateway_cpu_pct: Number(((100 * g1.reduce((s, u, i) => s + u.cpuSeconds - g0[i].cpuSeconds, 0)) / wall).toFixed(1)),
      sim_cpu_pct: Number(((100 * (s1.cpuSeconds - s0.cpuSeconds)) / wall).toFixed(1)),
      held: false,
    };
    // A starved centre skips to key frames rather than fall behind (no sequence gaps, fewer packets):
    // the stream's packet rate must be delivered too, as measured with one viewer.
    streamRate ??= perViewerRate;
    step.held = lossPct <= MAX_LOSS_PCT && notReceiving === 0 && samplesBad === 0 && tileFps > 13 && perViewerRate >= 0.95 * streamRate;
    results.push(step);
    console.log(
      `N=${String(n).padStart(4)}  setup ${setupS.toFixed(1)} s  centre ${step.centre_cpu_pct.toFixed(1).padStart(6)} %  ${step.us_per_packet_viewer.toFixed(1).padStart(6)} µs/pkt/viewer` +
        `  (marginal ${step.marginal_us_per_packet_viewer ?? '-'})  ${step.viewers_per_core} viewers/core  loss ${step.loss_pct} % (worst ${step.worst_viewer_loss_pct} %)` +
        `  tile g2g p50/p95 ${step.g2g_p50_ms}/${step.g2g_p95_ms} ms @ ${step.tile_fps} fps  RSS ${step.centre_rss_mb} MB  viewers' procs ${step.viewer_procs_cpu_pct} %  gw ${step.gateway_cpu_pct} %  sim ${step.sim_cpu_pct} %${step.held ? '' : '  NOT HELD'}`,
    );
    if (!step.held && (!values['keep-going'] || notReceiving > 0)) break;
  }
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await browser.close();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const held = results.filter((r) => r.held);
const best = held.at(-1) ?? results[0];
console.log('');
console.log('viewers  µs/pkt/viewer  marginal  viewers/core  centre CPU %  loss %  tile g2g p50/p95 ms  RSS MB');
for (const r of results) {
  console.log(
    `${String(r.viewers).padStart(7)}  ${r.us_per_packet_viewer.toFixed(1).padStart(13)}  ${String(r.marginal_us_per_packet_viewer ?? '-').padStart(8)}  ${String(r.viewers_per_core).padStart(12)}  ${r.centre_cpu_pct.toFixed(1).padStart(12)}  ${r.loss_pct.toFixed(3).padStart(6)}  ${`${r.g2g_p50_ms}/${r.g2g_p95_ms}`.padStart(19)}  ${String(r.centre_rss_mb).padStart(6)}${r.held ? '' : '  (did not hold)'}`,
  );
}
const result = {
  viewers: best?.viewers ?? 0,
  cameras,
  us_per_packet_viewer: best?.us_per_packet_viewer ?? null,
  viewers_per_core: best?.viewers_per_core ?? 0,
  loss_pct: best?.loss_pct ?? null,
  g2g_p95_ms: best?.g2g_p95_ms ?? null,
  g2g_p50_ms: best?.g2g_p50_ms ?? null,
  g2g_p95_one_viewer_ms: results[0]?.g2g_p95_ms ?? null,
  centre_cpu_pct: best?.centre_cpu_pct ?? null,
  centre_rss_mb: best?.centre_rss_mb ?? null,
  held: best?.held ?? false,
  curve: results,
};
mkdirSync('bench-results', { recursive: true });
writeFileSync(`bench-results/${values.label}.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
