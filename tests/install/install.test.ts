/**
 * Installing on a school's box: scripts/install.sh run into a throwaway root directory, the
 * result checked file by file, the units checked by systemd's own `systemd-analyze`, and the
 * installed app started the way its unit starts it, as an unprivileged user with every
 * capability dropped. Needs root, setpriv (util-linux) and systemd-analyze (Debian's `systemd`):
 * without them the test fails, it does not skip.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CenterConfig, loadCenterConfig } from '../../control-center/src/config';
import { GatewayConfig, loadGatewayConfig } from '../../gateway/src/config';

const SRC = fileURLToPath(new URL('../../', import.meta.url));
const PARTS = ['centre', 'gateway'] as const;
const UNPRIVILEGED = 65534; // nobody

/** Runs a tool this test depends on; a missing tool is an error that says how to get it. */
function run(cmd: string, args: string[], opts: { allowFailure?: boolean; cwd?: string } = {}): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}): run npm run test:deps`);
  const out = `${r.stdout}${r.stderr}`.trim();
  if (!opts.allowFailure && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${out}`);
  return { status: r.status, out };
}

/** The JSON Schema shape of a TypeBox schema, as far as walking its keys needs. */
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** Every property name of an object schema, nested objects and arrays of objects included. */
function keysOf(schema: unknown): string[] {
  const node = schema as SchemaNode;
  const obj = node.type === 'array' && node.items ? node.items : node;
  if (obj.type !== 'object' || !obj.properties) return [];
  return Object.entries(obj.properties).flatMap(([k, v]) => [k, ...keysOf(v)]);
}

/** `Key=value` lines of a unit file, by key (a key may repeat). */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) settings.set(m[1], [...(settings.get(m[1]) ?? []), m[2]]);
  }
  return settings;
}

describe('the example configurations in config/', () => {
  it('load as they are with the programs\' own loaders', () => {
    expect(loadCenterConfig(join(SRC, 'config/centre.example.yaml'), {}).dataDir).toBe('/var/lib/schoolcam-centre');
    expect(loadGatewayConfig(join(SRC, 'config/gateway.example.yaml'), {}).cameras.length).toBeGreaterThan(0);
  });

  it.each([
    ['centre', CenterConfig],
    ['gateway', GatewayConfig],
  ] as const)('%s.example.yaml documents every key of its schema, set or commented out', (part, schema) => {
    const text = readFileSync(join(SRC, `config/${part}.example.yaml`), 'utf8');
    const documented = new Set([...text.matchAll(/^[ \t]*(?:#[ \t]*)?(?:-[ \t]+)?([A-Za-z]+):/gm)].map((m) => m[1]));
    const keys = keysOf(schema);
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.filter((k) => !documented.has(k))).toEqual([]);
  });
});

describe('the centre\'s Dockerfile (not built here: no base image can be pulled)', () => {
  it('copies only files that exist, and runs a loader and an entry point that exist', () => {
    const dockerfile = readFileSync(join(SRC, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(5);
    expect(copied.filter((f) => !existsSync(join(SRC, f)))).toEqual([]);
    const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(dockerfile)![1]) as string[];
    const shipped = cmd.filter((a) => a.startsWith('/opt/schoolcam/')).map((a) => a.replace('/opt/schoolcam/', ''));
    expect(shipped).toEqual(['node_modules/tsx/dist/loader.mjs', 'control-center/src/cli.ts']);
    for (const f of shipped) expect(existsSync(join(SRC, f))).toBe(true);
  });
});

describe('scripts/install.sh into a throwaway root', () => {
  const roots: string[] = [];
  let root: string;
  const etc = (p: string): string => join(root, 'etc', p);
  const app = (p: string): string => join(root, 'opt/schoolcam', p);
  const install = (into: string): string => run('bash', [join(SRC, 'scripts/install.sh'), '--root', into, '--node', process.execPath, 'all']).out;
  const throwawayRoot = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'schoolcam-install-'));
    chmodSync(dir, 0o755); // the unprivileged run below reads the app through it
    roots.push(dir);
    return dir;
  };

  beforeAll(() => {
    run('setpriv', ['--version']);
    run('systemd-analyze', ['--version']);
    root = throwawayRoot();
    install(root);
  }, 120_000);

  afterAll(() => {
    for (const dir of roots) rmSync(dir, { recursive: true, force: true });
  });

  it('puts the app in /opt/schoolcam, without tests or the simulator, ready to run', () => {
    for (const f of ['package.json', 'package-lock.json', 'protocol/src/index.ts', 'gateway/src/cli.ts', 'control-center/src/cli.ts', 'control-center/src/web/app/index.html', 'node_modules/tsx/dist/loader.mjs']) {
      expect({ f, exists: existsSync(app(f)) }).toEqual({ f, exists: true });
    }
    // The native addon came along, built for the Node.js the units run.
    expect(run(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close(); console.log('loaded')"], { cwd: app('.') }).out).toBe('loaded');
    for (const f of ['device-sim', 'tests', 'control-center/test', 'protocol/test', 'node_modules/@schoolcam/device-sim']) {
      expect({ f, exists: existsSync(app(f)) }).toEqual({ f, exists: false });
    }
    expect(statSync(app('.')).mode & 0o022).toBe(0); // nobody but root may change the app
  });

  it('installs both units, enabled to start at boot, running the Node.js it was given', () => {
    for (const part of PARTS) {
      const unit = etc(`systemd/system/schoolcam-${part}.service`);
      expect(statSync(unit).mode & 0o777).toBe(0o644);
      expect(readlinkSync(etc(`systemd/system/multi-user.target.wants/schoolcam-${part}.service`))).toBe(`/etc/systemd/system/schoolcam-${part}.service`);
      const [execStart] = unitSettings(readFileSync(unit, 'utf8')).get('ExecStart')!;
      const [node, , loader, cli] = execStart.split(' ');
      expect(node).toBe(process.execPath);
      // The files the unit runs are where the install put them.
      expect(existsSync(join(root, loader))).toBe(true);
      expect(cli).toBe(`/opt/schoolcam/${part === 'centre' ? 'control-center' : 'gateway'}/src/cli.ts`);
      expect(existsSync(join(root, cli))).toBe(true);
    }
  });

  it('writes each configuration from its example, readable by root only', () => {
    for (const part of PARTS) {
      expect(statSync(etc(`schoolcam/${part}.yaml`)).mode & 0o777).toBe(0o600);
      expect(readFileSync(etc(`schoolcam/${part}.yaml`), 'utf8')).toBe(readFileSync(join(SRC, `config/${part}.example.yaml`), 'utf8'));
    }
  });

  it('an upgrade replaces the app whole and keeps the configuration the school edited', () => {
    const box = throwawayRoot();
    install(box);
    const conf = join(box, 'etc/schoolcam/gateway.yaml');
    const edited = `${readFileSync(conf, 'utf8')}\n# edited on site\n`;
    writeFileSync(conf, edited, { mode: 0o600 });
    writeFileSync(join(box, 'opt/schoolcam/gateway/src/removed-in-this-release.ts'), '');
    const out = install(box);
    expect(out).toContain(`kept the existing configuration ${conf}`);
    expect(readFileSync(conf, 'utf8')).toBe(edited);
    expect(existsSync(join(box, 'opt/schoolcam/gateway/src/removed-in-this-release.ts'))).toBe(false);
    expect(existsSync(join(box, 'opt/schoolcam/gateway/src/cli.ts'))).toBe(true);
    expect(readdirSync(join(box, 'opt'))).toEqual(['schoolcam']); // no staging or old copy left behind
  }, 120_000);

  it('refuses a Node.js it was not tested on, before touching anything', () => {
    const box = throwawayRoot();
    // This Node.js, made to say it is Debian 12's own Node.js 18.
    writeFileSync(join(box, 'node18.cjs'), "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '18.19.0' } });\n");
    writeFileSync(join(box, 'node'), `#!/bin/sh\nexec ${process.execPath} --require ${join(box, 'node18.cjs')} "$@"\n`, { mode: 0o755 });
    const r = run('bash', [join(SRC, 'scripts/install.sh'), '--root', box, '--node', join(box, 'node'), 'gateway'], { allowFailure: true });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Node.js .* is not supported: install Node.js 24 LTS/);
    expect(readdirSync(box).sort()).toEqual(['node', 'node18.cjs']);
  });

  it('systemd-analyze verify accepts both installed units without a single warning, and does refuse a broken one', () => {
    const units = PARTS.map((p) => etc(`systemd/system/schoolcam-${p}.service`));
    const verified = run('systemd-analyze', ['verify', ...units], { allowFailure: true });
    expect(verified).toEqual({ status: 0, out: '' });
    const broken = join(root, 'broken.service');
    writeFileSync(broken, readFileSync(units[0], 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node').replace(/^ProtectSystem=/m, 'ProtectSytem='));
    const refused = run('systemd-analyze', ['verify', broken], { allowFailure: true });
    expect(refused.status).not.toBe(0);
    expect(refused.out).toMatch(/Unknown key 'ProtectSytem'/);
    expect(refused.out).toMatch(/\/nonexistent\/node is not executable/);
  });

  it('hardens both units: a dynamic user, no capability, a read-only system, a state directory, a bounded restart', () => {
    for (const part of PARTS) {
      const unit = etc(`systemd/system/schoolcam-${part}.service`);
      const s = unitSettings(readFileSync(unit, 'utf8'));
      expect(Object.fromEntries(['DynamicUser', 'NoNewPrivileges', 'ProtectSystem', 'CapabilityBoundingSet', 'AmbientCapabilities', 'StateDirectory', 'Restart', 'StartLimitBurst', 'LoadCredential'].map((k) => [k, s.get(k)]))).toEqual({
        DynamicUser: ['yes'],
        NoNewPrivileges: ['yes'],
        ProtectSystem: ['strict'],
        CapabilityBoundingSet: [''],
        AmbientCapabilities: [''],
        StateDirectory: [`schoolcam-${part}`],
        Restart: ['on-failure'],
        StartLimitBurst: ['5'],
        LoadCredential: [`${part}.yaml:/etc/schoolcam/${part}.yaml`],
      });
      // systemd's own score of what the sandbox leaves exposed (0 best, 10 worst): at most 2.0.
      const score = run('systemd-analyze', ['security', '--offline=true', '--threshold=20', unit], { allowFailure: true });
      expect({ part, status: score.status, overall: /Overall exposure level for \S+: (\S+)/.exec(score.out)?.[1] }).toMatchObject({ part, status: 0 });
    }
  });

  it('runs the installed centre and gateway the way their units do, as an unprivileged user with every capability dropped', async () => {
    const credentials = join(root, 'run/credentials');
    const state = join(root, 'var/lib');
    // As systemd lays them out: reachable parents, each service's own directories private to it.
    for (const dir of [credentials, join(state, 'schoolcam-centre'), join(state, 'schoolcam-gateway')]) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o700);
      chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
    }
    const secret = 'installed-gateway-secret';
    const credential = (name: string, value: unknown): void => {
      writeFileSync(join(credentials, name), JSON.stringify(value), { mode: 0o400 });
      chownSync(join(credentials, name), UNPRIVILEGED, UNPRIVILEGED);
    };
    credential('centre.yaml', { port: 0, dataDir: join(state, 'schoolcam-centre'), logLevel: 'warn', gateways: [{ id: 'gw-box', schoolId: 'zs-box', name: 'Box', secret }] });

    const started: ChildProcess[] = [];
    /** The unit's ExecStart, run by setpriv instead of systemd, in its state directory. */
    const start = (part: (typeof PARTS)[number]): { child: ChildProcess; firstLine: Promise<string> } => {
      const [execStart] = unitSettings(readFileSync(etc(`systemd/system/schoolcam-${part}.service`), 'utf8')).get('ExecStart')!;
      const [node, ...args] = execStart.replace('${CREDENTIALS_DIRECTORY}', credentials).split(' ').map((a) => (a.startsWith('/opt/') ? join(root, a) : a));
      const child = spawn('setpriv', [`--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', node, ...args], {
        cwd: join(state, `schoolcam-${part}`),
        env: { PATH: process.env.PATH, HOME: '/nonexistent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const firstLine = new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`${part} exited (${code}): ${stderr}`)));
      });
      firstLine.catch(() => undefined); // awaited where it matters; an early exit also fails the health poll
      return { child, firstLine };
    };
    const health = async (url: string): Promise<{ gatewaysOnline: number }> => (await (await fetch(`${url}/api/health`)).json()) as { gatewaysOnline: number };
    try {
      const centre = start('centre');
      const url = /^Control centre: (\S+)$/.exec(await centre.firstLine)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const status = readFileSync(`/proc/${centre.child.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(UNPRIVILEGED));
      expect(/^CapEff:\s+(\S+)/m.exec(status)?.[1]).toBe('0000000000000000');
      expect(/^CapBnd:\s+(\S+)/m.exec(status)?.[1]).toBe('0000000000000000');
      // Its database is in its state directory, owned by the service's user.
      expect(lstatSync(join(state, 'schoolcam-centre/centre.sqlite')).uid).toBe(UNPRIVILEGED);
      expect(await health(url!)).toMatchObject({ status: 'ok', gatewaysOnline: 0 });

      credential('gateway.yaml', { gatewayId: 'gw-box', schoolId: 'zs-box', centerUrl: url, secret, logLevel: 'warn', cameras: [] });
      const gateway = start('gateway');
      await expect.poll(async () => (gateway.child.exitCode === null ? (await health(url!)).gatewaysOnline : -1), { timeout: 20_000, interval: 100 }).toBe(1);
    } finally {
      const running = started.filter((c) => c.exitCode === null && c.signalCode === null);
      const exited = running.map((c) => new Promise((r) => c.once('exit', r)));
      for (const child of running) child.kill('SIGTERM');
      await Promise.all(exited);
    }
  }, 60_000);
});
