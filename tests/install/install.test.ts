/**
 * Installing on a school's box: scripts/install.sh run into a throwaway root directory, the
 * result checked file by file, the units checked by systemd's own `systemd-analyze`, and the
 * installed centre and gateway set up as the install tells an admin to, then started the way
 * their units start them, as an unprivileged user with every capability dropped. Needs root, setpriv (util-linux) and systemd-analyze (Debian's `systemd`):
 * without them the test fails, it does not skip.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CenterConfig, loadCenterConfig } from '../../control-center/src/config';
import { GatewayConfig, loadGatewayConfig } from '../../gateway/src/config';
import { CentreClient } from '../../control-center/test/support/api-client';

const SRC = fileURLToPath(new URL('../../', import.meta.url));
const PARTS = ['centre', 'gateway'] as const;
type Part = (typeof PARTS)[number];
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
    // The gateway's names its secret file, found next to it as after an enrolment.
    const dir = mkdtempSync(join(tmpdir(), 'schoolcam-example-'));
    try {
      copyFileSync(join(SRC, 'config/gateway.example.yaml'), join(dir, 'gateway.yaml'));
      writeFileSync(join(dir, 'gateway.secret'), 'the-secret-enrolment-wrote\n', { mode: 0o600 });
      const gateway = loadGatewayConfig(join(dir, 'gateway.yaml'), {});
      expect(gateway.secret).toBe('the-secret-enrolment-wrote');
      expect(gateway.cameras.map((c) => c.id)).toEqual(['zs-sokolov-vchod', 'zs-sokolov-jidelna']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
  const etc = (p: string, r = root): string => join(r, 'etc', p);
  const app = (p: string, r = root): string => join(r, 'opt/schoolcam', p);
  const install = (into: string): string => run('bash', [join(SRC, 'scripts/install.sh'), '--root', into, '--node', process.execPath, 'all']).out;
  const throwawayRoot = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'schoolcam-install-'));
    chmodSync(dir, 0o755); // the unprivileged services below read the app through it
    roots.push(dir);
    return dir;
  };
  const unit = (part: Part, r = root): Map<string, string[]> => unitSettings(readFileSync(etc(`systemd/system/schoolcam-${part}.service`, r), 'utf8'));

  beforeAll(() => {
    run('setpriv', ['--version']);
    run('systemd-analyze', ['--version']);
    root = throwawayRoot();
    install(root);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(roots.map((dir) => rm(dir, { recursive: true, force: true })));
  }, 120_000);

  it('puts the app in /opt/schoolcam with only what runs, ready to run', () => {
    for (const f of ['package.json', 'package-lock.json', 'config/region.kvk.yaml', 'protocol/src/index.ts', 'gateway/src/cli.ts', 'control-center/src/cli.ts', 'control-center/src/web/app/index.html', 'control-center/dist/web/index.html', 'node_modules/tsx/dist/loader.mjs']) {
      expect({ f, exists: existsSync(app(f)) }).toEqual({ f, exists: true });
    }
    // Nothing that only builds or tests: no test folders, no simulator, no test runner, no compiler.
    for (const f of ['device-sim', 'tests', 'control-center/test', 'protocol/test', 'gateway/test', 'node_modules/@schoolcam/device-sim', 'node_modules/vitest', 'node_modules/typescript', 'node_modules/playwright-core']) {
      expect({ f, exists: existsSync(app(f)) }).toEqual({ f, exists: false });
    }
    expect(statSync(app('.')).mode & 0o022).toBe(0); // nobody but root may change the app
    // The native addon came along, built for the Node.js the units run.
    expect(run(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close(); console.log('loaded')"], { cwd: app('.') }).out).toBe('loaded');
  });

  it('installs both units, enabled to start at boot, running the Node.js it was given', () => {
    for (const part of PARTS) {
      expect(statSync(etc(`systemd/system/schoolcam-${part}.service`)).mode & 0o777).toBe(0o644);
      expect(readlinkSync(etc(`systemd/system/multi-user.target.wants/schoolcam-${part}.service`))).toBe(`/etc/systemd/system/schoolcam-${part}.service`);
      const [node, , loader, cli] = unit(part).get('ExecStart')![0].split(' ');
      expect(node).toBe(process.execPath);
      // The files the unit runs are where the install put them.
      expect(existsSync(join(root, loader))).toBe(true);
      expect(cli).toBe(`/opt/schoolcam/${part === 'centre' ? 'control-center' : 'gateway'}/src/cli.ts`);
      expect(existsSync(join(root, cli))).toBe(true);
    }
  });

  it('writes the centre\'s configuration from its example, readable by root only, and leaves the gateway\'s to its enrolment', () => {
    expect(statSync(etc('schoolcam/centre.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(etc('schoolcam/centre.yaml'), 'utf8')).toBe(readFileSync(join(SRC, 'config/centre.example.yaml'), 'utf8'));
    expect(readdirSync(etc('schoolcam'))).toEqual(['centre.yaml']);
    // Not enrolled yet: systemd skips the gateway rather than failing it.
    expect(unit('gateway').get('ConditionPathExists')).toEqual(['/etc/schoolcam/gateway.secret']);
  });

  it('an upgrade replaces the app whole and keeps the configuration and the enrolment', () => {
    const box = throwawayRoot();
    install(box);
    const kept = { 'centre.yaml': 'port: 8443\n', 'gateway.yaml': 'gatewayId: gw-box\n', 'gateway.secret': 'the-enrolled-secret\n' };
    for (const [f, content] of Object.entries(kept)) writeFileSync(join(box, 'etc/schoolcam', f), content, { mode: 0o600 });
    writeFileSync(join(box, 'opt/schoolcam/gateway/src/removed-in-this-release.ts'), '');
    const out = install(box);
    expect(out).toContain(`kept the existing configuration ${join(box, 'etc/schoolcam/centre.yaml')}`);
    for (const [f, content] of Object.entries(kept)) expect({ f, content: readFileSync(join(box, 'etc/schoolcam', f), 'utf8') }).toEqual({ f, content });
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
    expect(r.out).toMatch(/Node.js 18.19.0 is not supported: install Node.js 24 LTS/);
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

  it('hardens both units: a dynamic user, no capability, a read-only system, a state directory, credentials, a bounded restart', () => {
    const credentials = { centre: ['centre.yaml:/etc/schoolcam/centre.yaml'], gateway: ['gateway.yaml:/etc/schoolcam/gateway.yaml', 'gateway.secret:/etc/schoolcam/gateway.secret'] };
    const dataDirVariable = { centre: 'SCHOOLCAM_DATA_DIR', gateway: 'SCHOOLCAM_GATEWAY_DATA_DIR' };
    for (const part of PARTS) {
      const s = unit(part);
      expect(Object.fromEntries(['DynamicUser', 'NoNewPrivileges', 'ProtectSystem', 'CapabilityBoundingSet', 'AmbientCapabilities', 'StateDirectory', 'Environment', 'Restart', 'StartLimitBurst', 'LoadCredential'].map((k) => [k, s.get(k)]))).toEqual({
        DynamicUser: ['yes'],
        NoNewPrivileges: ['yes'],
        ProtectSystem: ['strict'],
        CapabilityBoundingSet: [''],
        AmbientCapabilities: [''],
        StateDirectory: [`schoolcam-${part}`],
        Environment: [`${dataDirVariable[part]}=%S/schoolcam-${part}`],
        Restart: ['on-failure'],
        StartLimitBurst: ['5'],
        LoadCredential: credentials[part],
      });
      // systemd's own score of what the sandbox leaves exposed (0 best, 10 worst): at most 2.0.
      const file = etc(`systemd/system/schoolcam-${part}.service`);
      const score = run('systemd-analyze', ['security', '--offline=true', '--threshold=20', file], { allowFailure: true });
      expect({ part, status: score.status, overall: /Overall exposure level for \S+: (\S+)/.exec(score.out)?.[1] }).toMatchObject({ part, status: 0 });
    }
  });

  it('runs as the install prints it: the region and an admin added, the centre started, a gateway created, enrolled and started, linked to the centre; both services unprivileged with every capability dropped', async () => {
    // A box of its own: this test edits the configuration and enrols, as an admin does.
    const box = throwawayRoot();
    install(box);
    const state = join(box, 'var/lib');
    const started: ChildProcess[] = [];
    /** The installed CLI as root (an admin at the box), with the unit's Node.js and loader. */
    const cli = (part: Part, args: string[], input?: string): string => {
      const [node, importFlag, loader, entry] = unit(part, box).get('ExecStart')![0].split(' ');
      const r = spawnSync(node, [importFlag, join(box, loader), join(box, entry), ...args], { cwd: app('.', box), input, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${part} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    };
    /**
     * The unit run as systemd would, by setpriv: its credentials copied into a directory of their
     * own readable by the service's user only, its Environment with %S set, in its state
     * directory owned by that user, under the unprivileged user with no capability.
     */
    const startService = (part: Part): { child: ChildProcess; firstLine: Promise<string> } => {
      const s = unit(part, box);
      const stateDir = join(state, `schoolcam-${part}`);
      const credentials = join(box, `run/credentials/schoolcam-${part}.service`);
      mkdirSync(stateDir, { recursive: true, mode: 0o755 });
      mkdirSync(credentials, { recursive: true, mode: 0o755 });
      for (const dir of [stateDir, credentials]) chmodSync(dir, 0o700);
      for (const spec of s.get('LoadCredential') ?? []) {
        const [id, path] = spec.split(':');
        copyFileSync(join(box, path), join(credentials, id));
        chmodSync(join(credentials, id), 0o400);
      }
      run('chown', ['-R', `${UNPRIVILEGED}:${UNPRIVILEGED}`, stateDir, credentials]);
      const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', CREDENTIALS_DIRECTORY: credentials };
      for (const e of s.get('Environment') ?? []) {
        const [k, v] = e.split(/=(.*)/s);
        env[k] = v.replaceAll('%S', state);
      }
      const [node, ...args] = s.get('ExecStart')![0].replace('${CREDENTIALS_DIRECTORY}', credentials).split(' ').map((a) => (a.startsWith('/opt/') ? join(box, a) : a));
      const child = spawn('setpriv', [`--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', node, ...args], {
        cwd: s.get('WorkingDirectory')![0].replaceAll('%S', state),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const firstLine = new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`${part} exited (${code}): ${stderr}`)));
      });
      firstLine.catch(() => undefined); // awaited where it matters; an early exit also fails the polls below
      return { child, firstLine };
    };
    const expectUnprivileged = (child: ChildProcess): void => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const field = (k: string): string | undefined => new RegExp(`^${k}:\\s+(\\S+)`, 'm').exec(status)?.[1];
      expect({ uid: field('Uid'), capEff: field('CapEff'), capBnd: field('CapBnd') }).toEqual({ uid: String(UNPRIVILEGED), capEff: '0000000000000000', capBnd: '0000000000000000' });
    };
    try {
      // The centre, the first time (its database where systemd will give it the state directory).
      const centreData = join(state, 'schoolcam-centre');
      cli('centre', ['orgs', 'import', app('config/region.kvk.yaml', box), '--data', centreData]);
      const password = 'the-first-admin-password';
      cli('centre', ['users', 'add', '--username', 'admin', '--role', 'admin', '--org', 'kvk', '--password-stdin', '--data', centreData], `${password}\n`);
      // The admin reads the config and moves the port (8080 may be taken on this machine).
      writeFileSync(etc('schoolcam/centre.yaml', box), readFileSync(etc('schoolcam/centre.yaml', box), 'utf8').replace(/^port: 8080$/m, 'port: 0').replace(/^# logLevel: info$/m, 'logLevel: warn'), { mode: 0o600 });
      const centre = startService('centre');
      const url = /^Control centre: (\S+)$/.exec(await centre.firstLine)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expectUnprivileged(centre.child);
      expect(lstatSync(join(centreData, 'centre.sqlite')).uid).toBe(UNPRIVILEGED);

      // A gateway for a school, created in the centre, enrolled on the box with its token.
      const admin = await CentreClient.signIn(url!, 'admin', password);
      const created = await admin.post<{ enrolment: { token: string } }>('/api/gateways', { id: 'gw-box', schoolId: 'zs-sokolov', name: 'The box in the closet' });
      expect(created.status).toBe(201);
      expect(existsSync(etc('schoolcam/gateway.secret', box))).toBe(false); // the unit's condition: not started yet
      cli('gateway', ['enroll', url!, created.body.enrolment.token, '--config', etc('schoolcam/gateway.yaml', box)]);
      for (const f of ['gateway.yaml', 'gateway.secret']) expect({ f, mode: statSync(etc(`schoolcam/${f}`, box)).mode & 0o777 }).toEqual({ f, mode: 0o600 });

      const gateway = startService('gateway');
      await expect
        .poll(async () => (gateway.child.exitCode === null ? (await admin.get<{ gateways: { id: string; online: boolean }[] }>('/api/gateways')).body.gateways.find((g) => g.id === 'gw-box')?.online : 'exited'), { timeout: 30_000, interval: 200 })
        .toBe(true);
      expectUnprivileged(gateway.child);
      expect(lstatSync(join(state, 'schoolcam-gateway/gateway-gw-box.db')).uid).toBe(UNPRIVILEGED);
    } finally {
      const running = started.filter((c) => c.exitCode === null && c.signalCode === null);
      const exited = running.map((c) => new Promise((r) => c.once('exit', r)));
      for (const child of running) child.kill('SIGTERM');
      await Promise.all(exited);
    }
  }, 150_000);
});
