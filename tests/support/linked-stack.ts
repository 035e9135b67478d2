import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { CentreClient } from '../../control-center/test/support/api-client';
import type { CenterConfigInput } from '../../control-center/src/config';
import { ControlCenter } from '../../control-center/src/server';
import { loadGatewayConfig } from '../../gateway/src/config';
import { Gateway, type GatewayOptions } from '../../gateway/src/gateway';
import { type Account, ROOT, createAndEnrolGateway, schoolAccounts, seedCentre } from './centre-bootstrap';
import { TcpProxy } from './tcp-proxy';

export interface LinkedStack {
  fleet: Fleet;
  /** The simulator's cameras; the gateway starts with the first `gatewayCameras` of them. */
  sims: SimCameraInfo[];
  centre: ControlCenter;
  /** Between the gateway and the centre: cut it, hold the centre's replies, retarget it after a restart. */
  proxy: TcpProxy;
  gatewayId: string;
  schoolId: string;
  /** `admin`, `operator`, `it` (the fleet's school), `otherIt` (another school). */
  accounts: Record<'admin' | 'operator' | 'it' | 'otherIt', Account>;
  /** The enrolled gateway's YAML (its centre is the proxy). */
  gatewayConfigFile: string;
  /** The gateway when it runs in this process. */
  gateway: Gateway | undefined;
  centreId(localId: string): string;
  signIn(who: keyof LinkedStack['accounts']): Promise<CentreClient>;
  startGateway(opts?: GatewayOptions): Promise<Gateway>;
  /** The gateway as its own process (`npm run gateway -- --config …`). */
  spawnGateway(): ChildProcess;
  /** Stops the centre and starts it again on the same database (on a new port, the proxy follows). */
  restartCentre(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real centre (this process, a temporary SQLite file) with the reference region, a simulated
 * school, and one gateway created and enrolled through the API whose link runs through a
 * {@link TcpProxy}. The gateway runs in this process ({@link LinkedStack.startGateway}) or as its
 * own process ({@link LinkedStack.spawnGateway}).
 */
export async function startLinkedStack(opts: { cameras: number; gatewayCameras?: number; centre?: CenterConfigInput }): Promise<LinkedStack> {
  const logger = pino({ level: process.env.SCHOOLCAM_TEST_LOG ?? 'silent' });
  const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-linked-'));
  const children: ChildProcess[] = [];
  const fleet = await Fleet.create({ spec: generatedFleet(opts.cameras, 1), discoveryInterface: 'none', logger });
  const sims = fleet.info().cameras;
  const schoolId = sims[0].school;
  const accounts = {
    ...schoolAccounts(schoolId),
    otherIt: { role: 'school_it', username: 'it-other', password: 'school-it-password-2', org: schoolId === 'gym-cheb' ? 'zs-sokolov' : 'gym-cheb' },
  } satisfies LinkedStack['accounts'];
  await seedCentre(dataDir, Object.values(accounts));
  const centreConfig: CenterConfigInput = { dataDir, port: 0, loopbackOnly: true, upstreamLingerMs: 200, ...opts.centre };
  let centre = await ControlCenter.create(centreConfig, { logger });
  const proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(centre.url).port) });
  const admin = await CentreClient.signIn(centre.url, accounts.admin.username, accounts.admin.password);
  const gatewayConfigFile = join(dataDir, 'gateway.yaml');
  const { gatewayId } = await createAndEnrolGateway(admin, { id: 'gw-linked', schoolId, name: 'Linked gateway', configFile: gatewayConfigFile });
  const cfg = parseYaml(readFileSync(gatewayConfigFile, 'utf8')) as Record<string, unknown>;
  Object.assign(cfg, {
    centerUrl: proxy.url,
    dataDir: 'gateway-data',
    loopbackOnly: true,
    lingerMs: 2000,
    logLevel: 'warn',
    cameras: sims.slice(0, opts.gatewayCameras ?? sims.length).map((c) => ({ id: c.id, name: c.name, onvif: { xaddr: c.onvif, username: c.username, password: c.password } })),
  });
  writeFileSync(gatewayConfigFile, stringifyYaml(cfg), { mode: 0o600 });

  const stack: LinkedStack = {
    fleet,
    sims,
    get centre() {
      return centre;
    },
    proxy,
    gatewayId,
    schoolId,
    accounts,
    gatewayConfigFile,
    gateway: undefined,
    centreId: (localId) => `${gatewayId}:${localId}`,
    signIn: (who) => CentreClient.signIn(centre.url, accounts[who].username, accounts[who].password),
    startGateway: async (gatewayOpts = {}) => {
      const { secretFile: _secretFile, ...config } = loadGatewayConfig(gatewayConfigFile);
      stack.gateway = await Gateway.create(config, { logger, ...gatewayOpts });
      return stack.gateway;
    },
    spawnGateway: () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/cli.ts', '--config', gatewayConfigFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.resume();
      children.push(child);
      return child;
    },
    restartCentre: async () => {
      await centre.close();
      centre = await ControlCenter.create(centreConfig, { logger });
      proxy.target = { host: '127.0.0.1', port: Number(new URL(centre.url).port) };
    },
    close: async () => {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
          await new Promise<void>((r) => {
            c.once('exit', () => r());
            c.kill('SIGKILL');
          });
        }
      }
      await stack.gateway?.close();
      await proxy.close();
      await centre.close();
      await fleet.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Polls until `check` holds (a deadline, not a sleep); resolves with the time it took. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - start;
}
