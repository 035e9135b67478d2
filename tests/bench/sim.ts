import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { RtspClient, openRtspVideo } from '../../protocol/src/rtsp/rtsp-client';
import { processUsage } from './process-usage';

/**
 * `npm run bench:sim`: CPU and RSS of the camera simulator with one RTSP client per camera
 * (TCP interleaved, our own client, in this process on the other core), at 640×360@10 and
 * 1280×720@15. The simulator runs in its own process so its CPU is measured alone.
 * Last line: one JSON object.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '200' },
    'hd-cameras': { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
  },
});

interface Run {
  label: string;
  cameras: number;
  width: number;
  height: number;
  fps: number;
  cpu_pct: number;
  cpu_pct_per_camera: number;
  rss_mb: number;
  fps_received: number;
  mbit_s: number;
}

async function measure(cameras: number, width: number, height: number, fps: number, seconds: number): Promise<Run> {
  const sim = spawn(
    process.execPath,
    ['--import', 'tsx', 'device-sim/src/cli.ts', '--json', '--cameras', String(cameras), '--schools', String(Math.min(cameras, 4)), '--width', String(width), '--height', String(height), '--fps', String(fps), '--discovery-interface', 'none', '--log-level', 'warn'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const clients: RtspClient[] = [];
  try {
    const line = await new Promise<string>((res, rej) => {
      const rl = createInterface({ input: sim.stdout });
      rl.once('line', (l) => {
        rl.close();
        sim.stdout.resume();
        res(l);
      });
      sim.once('exit', (code) => rej(new Error(`simulator exited (${code})`)));
    });
    const info = JSON.parse(line) as { cameras: { rtsp: string; username: string; password: string }[] };
    let frames = 0;
    let bytes = 0;
    for (const c of info.cameras) {
      const { client, video } = await openRtspVideo(c.rtsp, { username: c.username, password: c.password, timeoutMs: 20_000 });
      client.on('rtp', (ch, pkt) => {
        if (ch !== video.channel) return;
        bytes += pkt.length;
        if (pkt[1] & 0x80) frames++; // marker bit: last packet of a frame
      });
      clients.push(client);
    }
    await new Promise((r) => setTimeout(r, 3000)); // warm-up: JIT, first IDRs
    const u0 = processUsage(sim.pid!);
    const f0 = frames;
    const b0 = bytes;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const wall = (Date.now() - t0) / 1000;
    const u1 = processUsage(sim.pid!);
    const cpu = (100 * (u1.cpuSeconds - u0.cpuSeconds)) / wall;
    return {
      label: `${width}x${height}@${fps}`,
      cameras,
      width,
      height,
      fps,
      cpu_pct: Number(cpu.toFixed(1)),
      cpu_pct_per_camera: Number((cpu / cameras).toFixed(3)),
      rss_mb: Math.round(u1.rssMb),
      fps_received: Number(((frames - f0) / wall / cameras).toFixed(2)),
      mbit_s: Number((((bytes - b0) * 8) / wall / 1e6).toFixed(1)),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await new Promise<void>((res) => {
      if (sim.exitCode !== null) return res();
      const kill = setTimeout(() => sim.kill('SIGKILL'), 5000);
      sim.once('exit', () => {
        clearTimeout(kill);
        res();
      });
      sim.kill('SIGTERM');
    });
  }
}

const seconds = Number(values.seconds);
const runs = [await measure(Number(values.cameras), 640, 360, 10, seconds), await measure(Number(values['hd-cameras']), 1280, 720, 15, seconds)];
console.log('');
console.log('profile         cameras  sim CPU %  CPU %/camera  RSS MB  fps/camera  Mbit/s');
for (const r of runs) {
  console.log(
    `${r.label.padEnd(14)}  ${String(r.cameras).padStart(7)}  ${r.cpu_pct.toFixed(1).padStart(9)}  ${r.cpu_pct_per_camera.toFixed(3).padStart(12)}  ${String(r.rss_mb).padStart(6)}  ${r.fps_received.toFixed(2).padStart(10)}  ${r.mbit_s.toFixed(1).padStart(6)}`,
  );
}
const main = runs[0];
const result = {
  cameras: main.cameras,
  cpu_pct_per_camera: main.cpu_pct_per_camera,
  rss_mb: main.rss_mb,
  cpu_pct: main.cpu_pct,
  fps_per_camera: main.fps_received,
  within_one_core: main.cpu_pct <= 100,
  runs,
};
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/sim.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
