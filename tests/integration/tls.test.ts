import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/src/gateway';
import { loadGatewayConfig } from '../../gateway/src/config';
import { enrolGateway } from '../../gateway/src/link/enrolment';
import { httpsJson } from '../../control-center/test/support/api-client';
import { ACCOUNTS, CentreFixture, until } from '../../control-center/test/support/centre-fixture';
import { ROOT } from '../support/centre-bootstrap';
import { makeTestCertificate } from '../support/test-certificate';

let fx: CentreFixture;
let dir: string;
let ca: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const { cert, key } = makeTestCertificate(dir);
  ca = readFileSync(cert, 'utf8');
  fx = await CentreFixture.start({ tls: { cert, key } });
}, 60_000);

afterAll(async () => {
  await fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await httpsJson(`${fx.url}/api/session`, { method: 'POST', ca, body: { username: ACCOUNTS.admin.username, password: ACCOUNTS.admin.password } });
  expect(res.status).toBe(200);
  const setCookie = (res.headers['set-cookie'] as string[])[0];
  return { cookie: setCookie.split(';')[0], csrf: (res.body as { csrfToken: string }).csrfToken, setCookie };
}

describe('TLS: the centre serves HTTPS and WSS from its certificate', () => {
  it('serves the API over HTTPS with a Secure session cookie and HSTS', async () => {
    expect(fx.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { setCookie } = await signIn();
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    const page = await httpsJson(`${fx.url}/`, { ca });
    expect(page.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(page.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });

  it('enrols a gateway over HTTPS and carries its link over WSS, trusting the centre\'s certificate', async () => {
    const { cookie, csrf } = await signIn();
    const created = await httpsJson(`${fx.url}/api/gateways`, { method: 'POST', ca, headers: { cookie, 'x-csrf-token': csrf }, body: { id: 'gw-tls', schoolId: 'gym-cheb', name: 'TLS' } });
    expect(created.status).toBe(201);
    const token = (created.body as { enrolment: { token: string } }).enrolment.token;
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(join(dir, 'centre-ca.pem'), ca);
    // Without the centre's certificate the gateway does not trust it, and sends nothing.
    await expect(enrolGateway({ centerUrl: fx.url, token, configFile })).rejects.toThrow(/cannot reach the centre: .*self-signed/);
    await enrolGateway({ centerUrl: fx.url, token, configFile, caFile: join(dir, 'centre-ca.pem') });
    const config = loadGatewayConfig(configFile);
    expect(config.centerCaFile).toBe(join(dir, 'centre-ca.pem'));
    const gateway = await Gateway.create(config, { logger: pino({ level: 'silent' }) });
    try {
      await until(() => gateway.linkUp, 'the link over wss', 10_000);
      const list = await httpsJson(`${fx.url}/api/gateways`, { ca, headers: { cookie } });
      expect((list.body as { gateways: { id: string; online: boolean }[] }).gateways.find((g) => g.id === 'gw-tls')?.online).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  it('has the gateway refuse a plain-http centre on another machine, before sending anything', async () => {
    const configFile = join(dir, 'plain.yaml');
    writeFileSync(configFile, JSON.stringify({ gatewayId: 'gw-x', schoolId: 'zs-sokolov', centerUrl: 'http://192.0.2.10:8080', secret: 'a-long-enough-secret', cameras: [] }));
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/cli.ts'), '--config', configFile], { cwd: ROOT, timeout: 30_000 }, (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('ERR: centerUrl http://192.0.2.10:8080 must use TLS (https:// or wss://): plain http is allowed only to a centre on this machine');
    await expect(enrolGateway({ centerUrl: 'http://192.0.2.10:8080', token: 'x'.repeat(43), configFile: join(dir, 'never.yaml') })).rejects.toThrow(/must use TLS/);
  });
});
