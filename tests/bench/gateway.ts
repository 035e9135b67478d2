import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { CentreClient } from '../../control-center/test/support/api-client';
import { type Account, createAndEnrolGateway, seedCentre } from '../support/centre-bootstrap';
import { launchChromium } from '../support/chromium';
import { startGstServer } from '../support/gst-rtsp-server';
import { LinkPeer } from '../support/link-peer';
import { percentile, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { processUsage } from './process-usage';

/**
 * `npm run bench:gateway`: what one school gateway costs and how fast a new viewer sees a picture.
 *
 * 1. Load: the gateway (its own process) relays `--cameras` cameras at 1280×720, 15 fps, ~2.5 Mbit/s,
 *    GOP 4 s — simulated ONVIF cameras, several gateway cameras per simulated one (each its own
 *    RTSP session and ONVIF event pull) — to a stand-in for the centre (this process asks for every
 *    stream; child processes receive them over WebRTC). Measured: the gateway's CPU % (all its
 *    threads, from /proc) and RSS, per camera too, the packet rate delivered per camera, and the
 *    simulator's CPU (to show it is not what limits the run).
 * 2. First frame: the real centre and Chromium, one ONVIF camera (simulated, key frames on
 *    request) and one plain RTSP camera (GStreamer x264, no key frames on request), both
 *    1280×720 ~2.5 Mbit/s GOP 4 s. Warm: a viewer joins a stream the centre already has. Cold: the
 *    gateway has to open the camera first. The page signs in as an operator.
 * `--root DIR` runs the simulator, gateway and centre from another checkout, to measure a
 * baseline (its centre database and enrolment must match this checkout's: seeded from here).
 * Last line: one JSON object, also written to bench-results/gateway.json.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '24' },
    'per-sim-camera': { type: 'string', default: '8' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '8' },
    /** Run the simulator, gateway and centre from another checkout (to measure a baseline). */
    root: { type: 'string' },
  },
});
const CAMERAS = Number(values.cameras);
const PER_SIM = Number(values['per-sim-camera']);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const STREAM = { width: 1280, height: 720, fps: 15, gopSeconds: 4, bitrateKbps: 2500 };

const children: ChildProcess[] = [];
function run(args: string[], stdout: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: values.root ?? ROOT, stdio: ['ignore', stdout, 'ignore'] });
  children.push(child);
  return child;
}
function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((res, rej) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => rej(new Error(`${what} not ready in 60 s`)), 60_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      child.stdout!.resume();
      res(l);
    });
    child.once('exit', (code) => rej(new Error(`${what} exited (${code})`)));
  });
}
async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(kill);
            r();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  children.length = 0;
}

async function startSim(cameras: number): Promise<{ sims: SimCameraInfo[]; simPid: number }> {
  const sim = run([
    'device-sim/src/cli.ts', '--json', '--discovery-interface', 'none', '--cameras', String(cameras), '--schools', '1',
    '--width', String(STREAM.width), '--height', String(STREAM.height), '--fps', String(STREAM.fps), '--gop', String(STREAM.gopSeconds), '--bitrate', String(STREAM.bitrateKbps), '--log-level', 'warn',
  ]);
  return { sims: (JSON.parse(await firstLine(sim, 'simulator')) as { cameras: SimCameraInfo[] }).cameras, simPid: sim.pid! };
}

function writeGatewayConfig(dir: string, centerUrl: string, gatewayId: string, schoolId: string, secret: string, cameras: unknown[], lingerMs: number): string {
  const file = join(dir, `${gatewayId}.json`);
  writeFileSync(file, JSON.stringify({ gatewayId, schoolId, centerUrl, secret, dataDir: dir, loopbackOnly: true, logLevel: 'warn', lingerMs, cameras }), { mode: 0o600 });
  return file;
}

const dir = mkdtempSync(join(tmpdir(), 'schoolcam-bench-gw-'));
const secret = randomBytes(18).toString('base64url');
try {
  // ---- 1. load --------------------------------------------------------------------------------
  const { sims, simPid } = await startSim(Math.ceil(CAMERAS / PER_SIM));
  const peer = await LinkPeer.start({ gatewayId: 'gw-bench', secret });
  const entries = Array.from({ length: CAMERAS }, (_, i) => {
    const s = sims[i % sims.length];
    return { id: `cam${i + 1}`, name: `Kamera ${i + 1}`, onvif: { xaddr: s.onvif, username: s.username, password: s.password } };
  });
  const gw = run(['gateway/src/cli.ts', '--config', writeGatewayConfig(dir, peer.url, 'gw-bench', sims[0].school, secret, entries, 60_000)], 'ignore');
  await peer.waitFor(() => peer.of('hello').length > 0, 'the gateway to connect', 30_000);

  // The centre stand-in: ask for every camera; worker threads answer each offer with a werift receiver.
  const workers = Array.from({ length: Math.min(4, CAMERAS) }, () => {
    const w = fork(fileURLToPath(new URL('./webrtc-receiver.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(w);
    return w;
  });
  const received = new Map<string, { packets: number; bytes: number; state: string }>();
  const report = async (): Promise<void> => {
    const replies = await Promise.all(
      workers.map(
        (w) =>
          new Promise<Record<string, { packets: number; bytes: number; state: string }>>((res) => {
            const on = (m: { type: string; counts?: Record<string, { packets: number; bytes: number; state: string }> }): void => {
              if (m.type !== 'report') return;
              w.off('message', on);
              res(m.counts ?? {});
            };
            w.on('message', on);
            w.send({ type: 'report' });
          }),
      ),
    );
    for (const r of replies) for (const [id, c] of Object.entries(r)) received.set(id, c);
  };
  for (const w of workers) w.on('message', (m: { type: string; streamId?: string; sdp?: string }) => m.type === 'answer' && peer.send({ type: 'stream.answer', streamId: m.streamId!, sdp: m.sdp! }));
  for (const e of entries) peer.send({ type: 'stream.start', streamId: `s-${e.id}`, cameraId: e.id });
  const offered = new Set<string>();
  // A camera's offers always go to the same receiver, so a restarted uplink's counts replace its failed one's.
  const workerOf = new Map<string, (typeof workers)[number]>();
  // An uplink that fails while everything starts at once (a loaded machine misses ICE consent checks) is
  // asked for again, as the centre does for a viewer who is still watching; the restarts are reported.
  let restarts = 0;
  let endedSeen = 0;
  const deadline = Date.now() + 90_000;
  const flowing = (): number => [...received.values()].filter((c) => c.packets > 100).length;
  while (flowing() < CAMERAS) {
    for (const offer of peer.of('stream.offer')) {
      if (offered.has(offer.streamId)) continue;
      const w = workerOf.get(offer.cameraId) ?? workers[workerOf.size % workers.length];
      workerOf.set(offer.cameraId, w);
      w.send({ type: 'offer', cameraId: offer.cameraId, streamId: offer.streamId, sdp: offer.sdp });
      offered.add(offer.streamId);
    }
    const ended = peer.of('stream.ended');
    for (const e of ended.slice(endedSeen)) {
      restarts++;
      peer.send({ type: 'stream.start', streamId: `s-${e.cameraId}-r${restarts}`, cameraId: e.cameraId });
    }
    endedSeen = ended.length;
    if (Date.now() > deadline) {
      const missing = entries.filter((e) => (received.get(e.id)?.packets ?? 0) <= 100).map((e) => `${e.id}: ${JSON.stringify(received.get(e.id) ?? 'no offer')}`);
      throw new Error(`only ${flowing()} of ${CAMERAS} streams flowing; missing ${missing.join(', ')}; ended ${JSON.stringify(peer.of('stream.ended'))}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    await report();
  }
  await new Promise((r) => setTimeout(r, 3000)); // past start-up
  await report();
  const bytes = (): number => [...received.values()].reduce((n, c) => n + c.bytes, 0);
  const b0 = bytes();
  const packets = (): number => [...received.values()].reduce((n, c) => n + c.packets, 0);
  const p0 = packets();
  const u0 = processUsage(gw.pid!);
  const sim0 = processUsage(simPid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const u1 = processUsage(gw.pid!);
  const sim1 = processUsage(simPid);
  const wall = (Date.now() - t0) / 1000;
  await report();
  const b1 = bytes();
  const stillFlowing = [...received.values()].filter((c) => c.state === 'connected').length;
  if (stillFlowing < CAMERAS) throw new Error(`${CAMERAS - stillFlowing} uplinks dropped during the measurement`);
  const cpuPct = (100 * (u1.cpuSeconds - u0.cpuSeconds)) / wall;
  const mbitPerCamera = ((b1 - b0) * 8) / wall / 1e6 / CAMERAS;
  const pktPerCamera = (packets() - p0) / wall / CAMERAS;
  const simPct = (100 * (sim1.cpuSeconds - sim0.cpuSeconds)) / wall;
  await peer.close();
  await stopAll();

  // ---- 2. first frame, through the real centre, in Chromium -------------------------------------
  const {
    sims: [onvifCam],
  } = await startSim(1);
  const gst = await startGstServer({ size: `${STREAM.width}x${STREAM.height}`, fps: STREAM.fps, gopSeconds: STREAM.gopSeconds, bitrateKbps: STREAM.bitrateKbps, pattern: 'snow' });
  const [admin, operator]: Account[] = (['admin', 'operator'] as const).map((role) => ({ role, username: role, password: randomBytes(12).toString('base64url'), org: 'kvk' }));
  await seedCentre(dir, [admin, operator]);
  const centreConfig = join(dir, 'centre.json');
  writeFileSync(centreConfig, JSON.stringify({ host: '127.0.0.1', port: 0, dataDir: dir, loopbackOnly: true, logLevel: 'warn', upstreamLingerMs: 1000 }), { mode: 0o600 });
  const centre = run(['control-center/src/cli.ts', '--json', '--config', centreConfig]);
  const centreInfo = JSON.parse(await firstLine(centre, 'centre')) as { url: string };
  // The gateway is created by the admin and enrolled with its one-time token, then given its cameras.
  const gatewayFile = join(dir, 'gw-ttff.yaml');
  const adminClient = await CentreClient.signIn(centreInfo.url, admin.username, admin.password);
  const { gatewayId } = await createAndEnrolGateway(adminClient, { id: 'gw-ttff', schoolId: onvifCam.school, name: 'Bench', configFile: gatewayFile });
  const gatewayConfig = parseYaml(readFileSync(gatewayFile, 'utf8')) as Record<string, unknown>;
  Object.assign(gatewayConfig, {
    dataDir: dir,
    loopbackOnly: true,
    logLevel: 'warn',
    lingerMs: 1000,
    cameras: [
      { id: 'onvif', name: 'ONVIF', onvif: { xaddr: onvifCam.onvif, username: onvifCam.username, password: onvifCam.password } },
      { id: 'plain', name: 'Plain RTSP', rtsp: { url: gst.url } },
    ],
  });
  writeFileSync(gatewayFile, stringifyYaml(gatewayConfig), { mode: 0o600 });
  run(['gateway/src/cli.ts', '--config', gatewayFile], 'ignore');
  // The centre's camera ids are `<gatewayId>:<local id>`.
  const ids = [`${gatewayId}:onvif`, `${gatewayId}:plain`];
  const kindOf = (cameraId: string): 'onvif' | 'plain' => (cameraId === ids[1] ? 'plain' : 'onvif');
  const browser = await launchChromium();
  const ttff: Record<'onvif' | 'plain', { warm: number[]; cold: number[] }> = { onvif: { warm: [], cold: [] }, plain: { warm: [], cold: [] } };
  try {
    const page = await browser.context.newPage();
    await signInPage(page, `${centreInfo.url}/?diag=1#/live`, operator);
    await waitForTiles(page, (ts) => ts.length === 2 && ts.every((t) => t.frames > 15), 90_000, 'both cameras playing');
    const round = async (waitMs: number, kind: 'warm' | 'cold'): Promise<void> => {
      await page.evaluate((list) => list.forEach((id) => (window as unknown as { schoolcam: { unwatch(id: string): void } }).schoolcam.unwatch(id)), ids);
      await page.waitForTimeout(waitMs);
      await page.evaluate((list) => list.forEach((id) => (window as unknown as { schoolcam: { watch(id: string): void } }).schoolcam.watch(id)), ids);
      const ts = await waitForTiles(page, (x) => x.every((t) => t.firstFrameAt !== null), 30_000, 'first frames');
      for (const t of ts) ttff[kindOf(t.cameraId)][kind].push(t.firstFrameAt! - t.openedAt);
      await page.waitForTimeout(500 + Math.random() * 2000); // land at different points of the GOP
    };
    // Warm: back within the centre's 1 s upstream linger, so the viewer joins a running stream.
    for (let r = 0; r < ROUNDS; r++) await round(200, 'warm');
    // Cold: past both lingers (centre 1 s, gateway 1 s): the gateway opens the camera again.
    for (let r = 0; r < ROUNDS; r++) await round(3500, 'cold');
    const plainFrames = (await tileStats(page)).find((t) => t.cameraId === ids[1]);
    if (!plainFrames) throw new Error('the plain RTSP tile vanished');
  } finally {
    await browser.close();
    await gst.stop();
    await stopAll();
  }

  const p50 = (xs: number[]): number => Math.round(percentile(xs, 50));
  const result = {
    cameras: CAMERAS,
    stream: `${STREAM.width}x${STREAM.height}@${STREAM.fps} GOP ${STREAM.gopSeconds} s`,
    mbit_s_per_camera: Number(mbitPerCamera.toFixed(2)),
    pkt_per_s_per_camera: Math.round(pktPerCamera),
    cpu_pct: Number(cpuPct.toFixed(1)),
    cpu_pct_per_camera: Number((cpuPct / CAMERAS).toFixed(2)),
    cameras_per_core: Math.floor(100 / (cpuPct / CAMERAS)),
    rss_mb: Math.round(u1.rssMb),
    rss_mb_per_camera: Number((u1.rssMb / CAMERAS).toFixed(1)),
    sim_cpu_pct: Number(simPct.toFixed(1)),
    uplink_restarts: restarts,
    ttff_warm_p50_ms: p50(ttff.onvif.warm),
    ttff_cold_p50_ms: p50(ttff.onvif.cold),
    ttff_plain_rtsp_warm_p50_ms: p50(ttff.plain.warm),
    ttff_plain_rtsp_cold_p50_ms: p50(ttff.plain.cold),
    ttff_warm_p95_ms: Math.round(percentile(ttff.onvif.warm, 95)),
    ttff_plain_rtsp_warm_p95_ms: Math.round(percentile(ttff.plain.warm, 95)),
  };
  const row = (k: string, v: string): void => console.log(`${k.padEnd(34)}  ${v}`);
  console.log('');
  row('cameras relayed', `${CAMERAS} (${result.stream}, ${result.mbit_s_per_camera} Mbit/s each)`);
  row('gateway CPU', `${result.cpu_pct} % of one core, ${result.cpu_pct_per_camera} % per camera (${result.cameras_per_core} cameras per core)`);
  row('gateway RSS', `${result.rss_mb} MB, ${result.rss_mb_per_camera} MB per camera`);
  row('delivered per camera', `${result.pkt_per_s_per_camera} packets/s`);
  row('uplinks restarted at start-up', String(result.uplink_restarts));
  const encoded = Math.ceil(CAMERAS / PER_SIM);
  row('simulator CPU', `${result.sim_cpu_pct} % of one core (${encoded} encoded camera${encoded === 1 ? '' : 's'})`);
  row('first frame, ONVIF warm / cold', `${result.ttff_warm_p50_ms} / ${result.ttff_cold_p50_ms} ms (p50, ${ROUNDS} rounds)`);
  row('first frame, plain RTSP warm / cold', `${result.ttff_plain_rtsp_warm_p50_ms} / ${result.ttff_plain_rtsp_cold_p50_ms} ms (p50)`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/gateway.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
