import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import type { CenterConfigInput } from '../../control-center/src/config';
import { CentreClient } from '../../control-center/test/support/api-client';
import { type Account, ROOT, createAndEnrolGateway, seedCentre } from '../support/centre-bootstrap';

export interface StackOptions {
  /** Total simulated cameras, spread over the region's schools. Default 8. */
  cameras?: number;
  /** Schools with cameras (one gateway each), 1..4 of the reference region. Default 4. */
  schools?: number;
  /** Directory for the centre's SQLite file, gateway configs and secrets. */
  dataDir: string;
  /** Centre port. Default 0 (ephemeral). */
  port?: number;
  /** Where children's logs go. Default: inherit stderr. */
  logs?: 'inherit' | 'ignore';
  fps?: number;
  gopSeconds?: number;
  /** Average bitrate of each camera's main profile, kbit/s. */
  bitrateKbps?: number;
  width?: number;
  height?: number;
  /** Gateway pull linger, ms. */
  lingerMs?: number;
  /** Centre upstream linger, ms. */
  upstreamLingerMs?: number;
  /**
   * Checkout to run the simulator, centre and gateways from (default: this one), e.g. to measure
   * a baseline. Its centre database and enrolment must match this checkout's (seeded from here).
   */
  root?: string;
  /** Extra Node.js flags for the centre's process (e.g. `--cpu-prof`). */
  centreNodeArgs?: string[];
  /** Centre settings on top of the stack's (e.g. `limits` for a load test). */
  centre?: CenterConfigInput;
  /** Cameras on a school's network that its gateway is not given (for school IT to add in the wizard). */
  spare?: { schoolId: string; count: number };
}

export interface SimCameraJson extends SimCameraInfo {
  /** The centre's id for this camera (`<gatewayId>:<local id>`). */
  centreId: string;
}

/**
 * The demo's accounts, one per role (`account(role)` gives the first). The school IT account
 * belongs to a school with cameras; the second police account is that school's town's force, so
 * the school's emergency reaches a police login of the demo.
 */
export const DEMO_ACCOUNT_NAMES: readonly Omit<Account, 'password'>[] = [
  { role: 'admin', username: 'admin', org: 'kvk' },
  { role: 'operator', username: 'operator', org: 'kvk' },
  { role: 'police', username: 'police-karlovy-vary', org: 'mp-karlovy-vary' },
  { role: 'school_it', username: 'it-zs-sokolov', org: 'zs-sokolov' },
  { role: 'auditor', username: 'auditor', org: 'kvk' },
  { role: 'police', username: 'police-sokolov', org: 'mp-sokolov' },
];

export interface Stack {
  /** The dashboard (no secret in it). */
  pageUrl: string;
  centreUrl: string;
  /** Bearer token for `GET /metrics`. */
  metricsToken: string;
  /** One sign-in per role. */
  accounts: Account[];
  account(role: Account['role']): Account;
  cameras: SimCameraJson[];
  /** Simulated cameras no gateway was given ({@link StackOptions.spare}). */
  spareCameras: SimCameraInfo[];
  /** The simulator's control API: `GET` lists the cameras, each with its `control` URL. */
  simulatorUrl: string;
  pids: { sim: number; centre: number; gateways: number[] };
  /** Ends every process of the stack (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * The all-in-one system on loopback, each part its own process as deployed: the camera
 * simulator, the control centre (its database seeded with the reference region and one
 * account per role), and one gateway per school — each created by the admin through the API
 * and enrolled with its one-time token. Media stays on 127.0.0.1.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const children: ChildProcess[] = [];
  const stdio = opts.logs ?? 'inherit';
  const run = (args: string[], stdout: 'pipe' | 'ignore' = 'pipe', nodeArgs: string[] = []): ChildProcess => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], { cwd: opts.root ?? ROOT, stdio: ['ignore', stdout, stdio] });
    children.push(child);
    return child;
  };
  const stop = once(async () => {
    await Promise.all(children.map((c) => terminate(c)));
  });
  try {
    mkdirSync(opts.dataDir, { recursive: true });
    const schools = opts.schools ?? 4;
    const simArgs = ['device-sim/src/cli.ts', '--json', '--discovery-interface', 'none', ...(opts.root ? [] : ['--discovery-per-school']), '--cameras', String(opts.cameras ?? 8), '--schools', String(schools)];
    if (opts.fps) simArgs.push('--fps', String(opts.fps));
    if (opts.gopSeconds) simArgs.push('--gop', String(opts.gopSeconds));
    if (opts.bitrateKbps) simArgs.push('--bitrate', String(opts.bitrateKbps));
    if (opts.width) simArgs.push('--width', String(opts.width));
    if (opts.height) simArgs.push('--height', String(opts.height));
    const sim = run(simArgs);

    // Fresh passwords at every start: the demo prints them.
    const accounts: Account[] = DEMO_ACCOUNT_NAMES.map((a) => ({ ...a, password: randomBytes(9).toString('base64url') }));
    if (opts.root) {
      // Another checkout's centre reads its own schema: seed with its code, not this one's.
      const seed = `const { seedCentre } = await import('./tests/support/centre-bootstrap.ts'); await seedCentre(process.env.SEED_DIR, JSON.parse(process.env.SEED_ACCOUNTS));`;
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', seed], {
        cwd: opts.root,
        env: { ...process.env, SEED_DIR: opts.dataDir, SEED_ACCOUNTS: JSON.stringify(accounts) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    } else {
      await seedCentre(opts.dataDir, accounts);
    }
    const metricsToken = randomBytes(18).toString('base64url');
    const centreConfig = join(opts.dataDir, 'centre.json');
    writeFileSync(
      centreConfig,
      JSON.stringify(
        {
          host: '127.0.0.1',
          port: opts.port ?? 0,
          dataDir: opts.dataDir,
          loopbackOnly: true,
          logLevel: process.env.SCHOOLCAM_LOG_LEVEL ?? 'info',
          upstreamLingerMs: opts.upstreamLingerMs ?? 5000,
          ...opts.centre,
          metrics: { ...opts.centre?.metrics, token: metricsToken },
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
    const centre = run(['control-center/src/cli.ts', '--json', '--config', centreConfig], 'pipe', opts.centreNodeArgs);
    const [simInfo, centreInfo] = (await Promise.all([firstJsonLine(sim, 'simulator'), firstJsonLine(centre, 'control centre')])) as [
      { cameras: SimCameraInfo[]; discoveryPorts?: Record<string, number> },
      { url: string },
    ];
    const admin = await CentreClient.signIn(centreInfo.url, 'admin', accounts[0].password);

    const bySchool = new Map<string, SimCameraInfo[]>();
    for (const c of simInfo.cameras) bySchool.set(c.school, [...(bySchool.get(c.school) ?? []), c]);
    const spareCameras: SimCameraInfo[] = [];
    if (opts.spare) {
      const cams = bySchool.get(opts.spare.schoolId) ?? [];
      if (cams.length <= opts.spare.count) throw new Error(`school ${opts.spare.schoolId} has ${cams.length} cameras: too few to keep ${opts.spare.count} spare`);
      spareCameras.push(...cams.splice(cams.length - opts.spare.count));
    }
    const known = (await admin.get<{ gateways: { id: string; state: string }[] }>('/api/gateways')).body.gateways;
    const gatewayIds = new Map<string, string>();
    const gatewayPids: number[] = [];
    for (const [schoolId, cams] of bySchool) {
      const file = join(opts.dataDir, `gateway-${schoolId}.yaml`);
      const gatewayId = await gatewayFor(admin, known, schoolId, file);
      gatewayIds.set(schoolId, gatewayId);
      // The simulator makes new camera passwords at every start: refresh the camera list.
      const cfg = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
      cfg.loopbackOnly = true;
      cfg.logLevel = process.env.SCHOOLCAM_LOG_LEVEL ?? 'info';
      cfg.lingerMs = opts.lingerMs ?? 10_000;
      // Each school's gateway probes "its LAN": the simulator's responder for that school's cameras.
      const discoveryPort = simInfo.discoveryPorts?.[schoolId];
      if (discoveryPort !== undefined) cfg.discoveryPort = discoveryPort;
      cfg.dataDir = opts.dataDir;
      cfg.cameras = cams.map((c) => ({ id: c.id, name: c.name, onvif: { xaddr: c.onvif, username: c.username, password: c.password } }));
      writeFileSync(file, stringifyYaml(cfg), { mode: 0o600 });
      gatewayPids.push(run(['gateway/src/cli.ts', '--config', file], 'ignore').pid!);
    }
    await waitForGateways(admin, [...gatewayIds.values()]);
    return {
      pageUrl: `${centreInfo.url}/`,
      centreUrl: centreInfo.url,
      metricsToken,
      accounts,
      account: (role) => accounts.find((a) => a.role === role)!,
      cameras: simInfo.cameras.filter((c) => !spareCameras.includes(c)).map((c) => ({ ...c, centreId: `${gatewayIds.get(c.school)}:${c.id}` })),
      spareCameras,
      simulatorUrl: simInfo.cameras[0].control.replace(/\/cameras\/[^/]+$/, ''),
      pids: { sim: sim.pid!, centre: centre.pid!, gateways: gatewayPids },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The school's gateway: the one enrolled on an earlier run when its config and secret are
 * still here, else a new one created and enrolled now (an unusable old one is revoked).
 */
async function gatewayFor(admin: CentreClient, known: { id: string; state: string }[], schoolId: string, file: string): Promise<string> {
  if (existsSync(file)) {
    const cfg = parseYaml(readFileSync(file, 'utf8')) as { gatewayId?: string; secretFile?: string };
    const g = known.find((k) => k.id === cfg.gatewayId);
    if (g?.state === 'enrolled' && cfg.secretFile && existsSync(join(file, '..', cfg.secretFile))) return g.id;
  }
  let id = `gw-${schoolId}`;
  const old = known.find((k) => k.id === id);
  if (old) {
    if (old.state !== 'revoked') await admin.post(`/api/gateways/${old.id}/revoke`);
    id = `gw-${schoolId}-${randomBytes(3).toString('hex')}`;
  }
  await createAndEnrolGateway(admin, { id, schoolId, name: `Gateway ${schoolId}`, configFile: file });
  return id;
}

async function waitForGateways(admin: CentreClient, ids: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = (await admin.get<{ gateways: { id: string; online: boolean }[] }>('/api/gateways')).body.gateways;
    const online = ids.filter((id) => list.some((g) => g.id === id && g.online));
    if (online.length === ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${online.length} of ${ids.length} gateways connected within ${timeoutMs} ms`);
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
