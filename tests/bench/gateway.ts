import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../demo/demo-stack';
import { processUsage } from './process-usage';
import { ViewerProcess } from './viewer-process';

/**
 * `npm run bench:gateway`: what relaying a camera costs the school gateway. The simulator
 * serves N cameras at 1280×720, 15 fps, ~2.5 Mbit/s; one gateway pulls them all over RTSP,
 * depacketizes, packetizes and sends them as SRTP to the centre, where one light viewer per
 * camera keeps each stream running. Over a window it measures the gateway's CPU time (all
 * threads, from /proc) per camera, and the simulator's, with the packet rate and loss the viewers
 * saw. Last line: one JSON object (`cameras`, `gateway_cpu_pct_per_camera`, `cameras_per_core`,
 * `loss_pct`, `sim_cpu_pct_per_camera`).
 */
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '15' },
    bitrate: { type: 'string', default: '2500' },
    /** Run the simulator, gateway and centre from another checkout (to measure a baseline). */
    root: { type: 'string' },
  },
});
const cameras = Number(values.cameras);
const windowS = Number(values.seconds);

const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-bench-gateway-'));
const stack = await startStack({ cameras, schools: 1, dataDir, logs: 'ignore', width: 1280, height: 720, fps: 15, gopSeconds: 2, bitrateKbps: Number(values.bitrate), root: values.root });
const viewers = new ViewerProcess();
let result: Record<string, number | boolean>;
try {
  await viewers.request({ type: 'watch', centreUrl: stack.centreUrl, token: stack.viewerToken, cameraIds: stack.cameras.map((c) => c.id) });
  const t0 = Date.now();
  for (;;) {
    const s = await viewers.request({ type: 'stats' });
    if (s.viewers.length === cameras && s.viewers.every((v) => v.state === 'receiving' && v.received > 0)) break;
    if (Date.now() - t0 > 90_000) throw new Error(`only ${s.viewers.filter((v) => v.state === 'receiving').length} of ${cameras} streams running after 90 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 4000)); // warm-up: JIT, first key frames
  const gw = stack.pids.gateways[0];
  const g0 = processUsage(gw);
  const s0 = processUsage(stack.pids.sim);
  const v0 = await viewers.request({ type: 'stats' });
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const wall = (Date.now() - w0) / 1000;
  const g1 = processUsage(gw);
  const s1 = processUsage(stack.pids.sim);
  const v1 = await viewers.request({ type: 'stats' });
  let packets = 0;
  let lost = 0;
  v1.viewers.forEach((v, i) => {
    packets += v.received - v0.viewers[i].received + v.gaps - v0.viewers[i].gaps;
    lost += v.gaps - v0.viewers[i].gaps;
  });
  const gwPct = (100 * (g1.cpuSeconds - g0.cpuSeconds)) / wall;
  const simPct = (100 * (s1.cpuSeconds - s0.cpuSeconds)) / wall;
  result = {
    cameras,
    window_s: Math.round(wall),
    gateway_cpu_pct: Number(gwPct.toFixed(1)),
    gateway_cpu_pct_per_camera: Number((gwPct / cameras).toFixed(2)),
    cameras_per_core: Math.floor((100 * cameras) / gwPct),
    pkt_per_s_per_camera: Math.round(packets / wall / cameras),
    loss_pct: Number(((100 * lost) / Math.max(1, packets)).toFixed(3)),
    gateway_rss_mb: Math.round(g1.rssMb),
    sim_cpu_pct_per_camera: Number((simPct / cameras).toFixed(2)),
  };
} finally {
  await viewers.stop();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log('');
for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(28)} ${v}`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/gateway.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
