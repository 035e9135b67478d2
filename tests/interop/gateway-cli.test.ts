/**
 * `npm run gateway -- cameras add|list|remove` for school IT without a centre: the CLI writes the
 * registry of a gateway that is running, which picks the change up within a second and tells the
 * centre (here a test-only link peer) with a new hello. Passwords never appear in a listing.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraSummary } from '../../gateway/src/storage/camera-registry';
import { GATEWAY_ID, GATEWAY_SECRET, startGatewayKit, type GatewayKit } from '../support/gateway-kit';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let kit: GatewayKit;
let config: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'gateway/src/cli.ts', ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  kit = await startGatewayKit({ cameras: 2, entries: (s) => [{ id: s[0].id, name: s[0].name, rtsp: { url: s[0].rtsp, username: s[0].username, password: s[0].password } }] });
  config = join(kit.dataDir, 'gateway.yaml');
  // The same gateway's config file, as school IT has it on the box.
  writeFileSync(config, `gatewayId: ${GATEWAY_ID}\nschoolId: ${kit.cameras[0].school}\ncenterUrl: ${kit.peer.url}\nsecret: ${GATEWAY_SECRET}\ndataDir: ${kit.dataDir}\ncameras:\n  - id: ${kit.cameras[0].id}\n    name: ${kit.cameras[0].name}\n    rtsp: { url: "${kit.cameras[0].rtsp}" }\n`, { mode: 0o600 });
});

afterAll(async () => {
  await kit?.close();
});

describe('gateway cameras add | list | remove', () => {
  it('adds an ONVIF camera the running gateway takes up within a second, lists it without its password, and removes it', async () => {
    const cam = kit.cameras[1];
    const added = await cli('cameras', 'add', '--config', config, '--id', 'telocvicna-1', '--name', 'Tělocvična', '--onvif', cam.onvif, '--user', cam.username, `--password=${cam.password}`, '--profile', 'sub');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toMatch(/^added camera telocvicna-1 \(Tělocvična\)/);
    const t0 = Date.now();
    await kit.peer.waitFor(() => kit.peer.of('hello').some((h) => h.cameras.some((c) => c.id === 'telocvicna-1')), 'a hello with the new camera', 5000);
    expect(Date.now() - t0).toBeLessThan(2500);

    const list = await cli('cameras', 'list', '--config', config, '--json');
    expect(list.code).toBe(0);
    const cams = (JSON.parse(list.stdout) as { cameras: CameraSummary[] }).cameras;
    expect(cams.map((c) => [c.id, c.source, c.origin])).toEqual([
      ['telocvicna-1', 'onvif', 'cli'],
      [kit.cameras[0].id, 'rtsp', 'config'],
    ]);
    expect(list.stdout).not.toContain(cam.password);
    expect((await cli('cameras', 'list', '--config', config)).stdout).toContain('telocvicna-1\tTělocvična\tonvif');

    expect(await cli('cameras', 'remove', '--config', config, 'telocvicna-1')).toMatchObject({ code: 0, stdout: 'removed camera telocvicna-1\n' });
    await kit.peer.waitFor(() => kit.peer.of('hello').at(-1)!.cameras.every((c) => c.id !== 'telocvicna-1'), 'a hello without it', 5000);
  });

  it('refuses bad requests with one ERR line and exit code 1, changing nothing', async () => {
    const bad = [
      ['cameras', 'add', '--config', config, '--name', 'x', '--rtsp', 'rtsp://a/b'],
      ['cameras', 'add', '--config', config, '--id', 'x', '--name', 'x'],
      ['cameras', 'add', '--config', config, '--id', 'bad id', '--name', 'x', '--rtsp', 'rtsp://a/b'],
      ['cameras', 'add', '--config', config, '--id', kit.cameras[0].id, '--name', 'x', '--rtsp', 'rtsp://a/b'],
      ['cameras', 'remove', '--config', config, 'nobody'],
      ['cameras', 'list'],
      ['cameras', 'frobnicate', '--config', config],
    ];
    const results = await Promise.all(bad.map((args) => cli(...args)));
    for (const [i, r] of results.entries()) {
      expect(r.code, bad[i].join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toMatch(/^ERR: /);
    }
    expect(kit.gateway.registry.list().map((c) => c.id)).toEqual([kit.cameras[0].id]);
  });
});
