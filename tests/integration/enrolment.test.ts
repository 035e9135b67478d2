import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { Gateway } from '../../gateway/src/gateway';
import { loadGatewayConfig, resolveGatewayConfig } from '../../gateway/src/config';
import type { CentreClient } from '../../control-center/test/support/api-client';
import { ACCOUNTS, CentreFixture, openViewer, until } from '../../control-center/test/support/centre-fixture';
import { ROOT } from '../support/centre-bootstrap';

/** `npm run gateway -- <args>` as a person runs it on site. */
function gatewayCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/cli.ts'), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let fx: CentreFixture;
let admin: CentreClient;
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  fx = await CentreFixture.start();
  admin = await fx.signIn(ACCOUNTS.admin);
  fleet = await Fleet.create({ spec: generatedFleet(1, 1), discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
  dir = mkdtempSync(join(tmpdir(), 'enrolment-'));
}, 60_000);

afterAll(async () => {
  await fx?.close();
  await fleet?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway enrolment and revocation', () => {
  it('a one-time token enrols a gateway once: the secret lands in a 0600 file, the config never holds it, and the token then fails', async () => {
    const created = await admin.post<{ gateway: { state: string }; enrolment: { token: string; command: string } }>('/api/gateways', { id: 'gw-once', schoolId: 'zs-sokolov', name: 'Once' });
    expect(created.status).toBe(201);
    expect(created.body.gateway.state).toBe('awaiting_enrolment');
    expect(created.body.enrolment.command).toBe(`npm run gateway -- enroll ${fx.url} ${created.body.enrolment.token}`);
    const configFile = join(dir, 'once.yaml');
    const first = await gatewayCli(['enroll', fx.url, created.body.enrolment.token, '--config', configFile]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout.trim().split('\n').at(-1)!)).toMatchObject({ ok: true, gatewayId: 'gw-once', schoolId: 'zs-sokolov' });
    const config = parseYaml(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({ gatewayId: 'gw-once', schoolId: 'zs-sokolov', centerUrl: fx.url, secretFile: 'once.secret', cameras: [] });
    expect(statSync(join(dir, 'once.secret')).mode & 0o777).toBe(0o600);
    expect(statSync(configFile).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, 'once.secret'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const second = await gatewayCli(['enroll', fx.url, created.body.enrolment.token, '--config', join(dir, 'again.yaml')]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe('ERR: the centre refused the enrolment: enrolment token unknown, already used or expired: ask an administrator for a new gateway');
    const list = (await admin.get<{ gateways: { id: string; state: string }[] }>('/api/gateways')).body.gateways;
    expect(list.find((g) => g.id === 'gw-once')?.state).toBe('enrolled');
    const audit = await (await fx.signIn(ACCOUNTS.auditor)).get<{ entries: { outcome: string; target: string | null }[] }>('/api/audit?kind=gateway.enrol');
    expect(audit.body.entries.some((e) => e.outcome === 'ok' && e.target === 'gw-once')).toBe(true);
    expect(audit.body.entries.some((e) => e.outcome === 'refused')).toBe(true);
  });

  it('a revoked gateway is cut at once, with its viewers, and cannot reconnect', async () => {
    const created = await admin.post<{ enrolment: { token: string } }>('/api/gateways', { id: 'gw-revoke', schoolId: 'zs-sokolov', name: 'To revoke' });
    const configFile = join(dir, 'revoke.yaml');
    const enrolment = await gatewayCli(['enroll', fx.url, created.body.enrolment.token, '--config', configFile]);
    expect(enrolment.stderr).toBe(''); // says why, should the enrolment fail
    expect(enrolment.code).toBe(0);
    const { secretFile: _secretFile, ...enrolled } = loadGatewayConfig(configFile);
    const cam = fleet.info().cameras[0];
    const gateway = await Gateway.create(
      resolveGatewayConfig({ ...enrolled, loopbackOnly: true, lingerMs: 200, cameras: [{ id: cam.id, name: cam.name, onvif: { xaddr: cam.onvif, username: cam.username, password: cam.password } }] }),
      { logger: pino({ level: 'silent' }) },
    );
    try {
      await until(() => gateway.linkUp, 'the enrolled gateway to connect', 10_000);
      const operator = await fx.signIn(ACCOUNTS.operator);
      const viewer = await openViewer(fx.url, operator.cookie);
      if (typeof viewer === 'number') throw new Error(`viewer refused ${viewer}`);
      await until(() => viewer.events.some((e) => e.type === 'cameras' && (e.cameras as { id: string }[]).some((c) => c.id === `gw-revoke:${cam.id}`)), 'the camera listed');
      viewer.ws.send(JSON.stringify({ type: 'watch', tile: 't1', cameraId: `gw-revoke:${cam.id}` }));
      await until(() => viewer.events.some((e) => e.type === 'offer'), 'an offer');

      const revokedAt = Date.now();
      const res = await admin.post<{ state: string; online: boolean }>('/api/gateways/gw-revoke/revoke');
      expect(res.body).toMatchObject({ state: 'revoked', online: false });
      await until(() => !gateway.linkUp, 'the gateway\'s link to drop', 1000);
      await until(() => viewer.events.some((e) => e.type === 'ended'), 'the viewer told', 1000);
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      expect(viewer.events.find((e) => e.type === 'ended')).toMatchObject({ tile: 't1', cause: { kind: 'gateway_revoked', gatewayId: 'gw-revoke' } });
      viewer.ws.close();

      // The gateway keeps trying with its secret (backoff from 0.5 s): every attempt is refused.
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        expect(gateway.linkUp).toBe(false);
        await new Promise((r) => setTimeout(r, 100));
      }
      const secret = readFileSync(join(dir, 'revoke.secret'), 'utf8').trim();
      expect(await fx.dial('gw-revoke', secret)).toBe(401);
      const cams = (await operator.get<{ cameras: { id: string; state: string; reason: string }[] }>('/api/cameras')).body.cameras;
      expect(cams.find((c) => c.id === `gw-revoke:${cam.id}`)).toMatchObject({ state: 'offline', reason: 'gateway revoked' });
      const stops = (await (await fx.signIn(ACCOUNTS.auditor)).get<{ entries: { detail: { cause: string } }[] }>(`/api/audit?kind=view.stop&cameraId=gw-revoke:${cam.id}`)).body.entries;
      expect(stops[0].detail.cause).toBe('gateway_revoked');
    } finally {
      await gateway.close();
    }
  });
});
