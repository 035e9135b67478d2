import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface StackOptions {
  /** Total simulated cameras. Default 4. */
  cameras?: number;
  /** Schools (one gateway each). Default 2. */
  schools?: number;
  /** Directory for the centre's SQLite file and generated configs. */
  dataDir: string;
  /** Centre port. Default 0 (ephemeral). */
  port?: number;
  /** Where children's logs go. Default: inherit stderr. */
  logs?: 'inherit' | 'ignore';
  fps?: number;
  gopSeconds?: number;
  width?: number;
  height?: number;
  /** Gateway pull linger, ms. */
  lingerMs?: number;
  /** Centre upstream linger, ms. */
  upstreamLingerMs?: number;
}

export type SimCameraJson = SimCameraInfo;

export interface Stack {
  pageUrl: string;
  centreUrl: string;
  viewerToken: string;
  cameras: SimCameraJson[];
  /** The simulator's control API: `GET` lists the cameras, each with its `control` URL. */
  simulatorUrl: string;
  pids: { sim: number; centre: number; gateways: number[] };
  /** Ends every process of the stack (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * The all-in-one system on loopback: the camera simulator, one gateway per school and
 * the control centre, each its own process (as deployed), media kept on 127.0.0.1.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const children: ChildProcess[] = [];
  const stdio = opts.logs ?? 'inherit';
  const run = (args: string[], stdout: 'pipe' | 'ignore' = 'pipe'): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', stdout, stdio] });
    children.push(child);
    return child;
  };
  const stop = once(async () => {
    await Promise.all(children.map((c) => terminate(c)));
  });
  try {
    mkdirSync(opts.dataDir, { recursive: true });
    const simArgs = ['device-sim/src/cli.ts', '--json', '--discovery-interface', 'none', '--cameras', String(opts.cameras ?? 4), '--schools', String(opts.schools ?? 2)];
    if (opts.fps) simArgs.push('--fps', String(opts.fps));
    if (opts.gopSeconds) simArgs.push('--gop', String(opts.gopSeconds));
    if (opts.width) simArgs.push('--width', String(opts.width));
    if (opts.height) simArgs.push('--height', String(opts.height));
    const sim = run(simArgs);
    const simInfo = (await firstJsonLine(sim, 'simulator')) as { cameras: SimCameraJson[] };

    const bySchool = new Map<string, SimCameraJson[]>();
    for (const c of simInfo.cameras) bySchool.set(c.school, [...(bySchool.get(c.school) ?? []), c]);
    const gateways = [...bySchool.keys()].map((school) => ({ id: `gw-${school}`, schoolId: school, name: `Gateway ${school}`, secret: randomBytes(18).toString('base64url') }));
    const viewerToken = randomBytes(18).toString('base64url');
    const centreConfig = join(opts.dataDir, 'centre.json');
    writeFileSync(
      centreConfig,
      JSON.stringify({ host: '127.0.0.1', port: opts.port ?? 0, dataDir: opts.dataDir, viewerToken, loopbackOnly: true, logLevel: process.env.SCHOOLCAM_LOG_LEVEL ?? "info", upstreamLingerMs: opts.upstreamLingerMs ?? 5000, gateways }, null, 2),
      { mode: 0o600 },
    );
    const centre = run(['control-center/src/cli.ts', '--json', '--config', centreConfig]);
    const centreInfo = (await firstJsonLine(centre, 'control centre')) as { url: string; pageUrl: string };

    const gatewayPids: number[] = [];
    for (const g of gateways) {
      const file = join(opts.dataDir, `${g.id}.json`);
      const cameras = bySchool.get(g.schoolId)!.map((c) => ({ id: c.id, name: c.name, onvif: { xaddr: c.onvif, username: c.username, password: c.password } }));
      writeFileSync(
        file,
        JSON.stringify({ gatewayId: g.id, schoolId: g.schoolId, centerUrl: centreInfo.url, secret: g.secret, dataDir: opts.dataDir, loopbackOnly: true, logLevel: process.env.SCHOOLCAM_LOG_LEVEL ?? "info", lingerMs: opts.lingerMs ?? 10_000, cameras }, null, 2),
        { mode: 0o600 },
      );
      gatewayPids.push(run(['gateway/src/cli.ts', '--config', file], 'ignore').pid!);
    }
    await waitForGateways(centreInfo.url, gateways.length);
    return {
      pageUrl: centreInfo.pageUrl,
      centreUrl: centreInfo.url,
      viewerToken,
      cameras: simInfo.cameras,
      simulatorUrl: simInfo.cameras[0].control.replace(/\/cameras\/[^/]+$/, ''),
      pids: { sim: sim.pid!, centre: centre.pid!, gateways: gatewayPids },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForGateways(url: string, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${url}/api/health`)).json()) as { gatewaysOnline: number };
    if (health.gatewaysOnline >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${health.gatewaysOnline} of ${n} gateways connected within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function firstJsonLine(child: ChildProcess, what: string, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`${what} did not report ready within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null): void => fail(new Error(`${what} exited (${code}) before it was ready`));
    const fail = (err: Error): void => {
      clearTimeout(timer);
      rl.close();
      child.off('exit', onExit);
      reject(err);
    };
    child.once('exit', onExit);
    rl.once('line', (line) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      rl.close();
      try {
        resolvePromise(JSON.parse(line));
      } catch {
        reject(new Error(`${what} printed something that is not JSON: ${line.slice(0, 200)}`));
      }
      child.stdout!.resume(); // keep draining so the child never blocks on a full pipe
    });
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
