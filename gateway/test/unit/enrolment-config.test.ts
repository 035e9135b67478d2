import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, resolveGatewayConfig } from '../../src/config';
import { LinkClient, centreUrlProblem } from '../../src/link/link-client';

const identity = { gatewayId: 'gw-zs-sokolov', schoolId: 'zs-sokolov', centerUrl: 'https://centre.example', cameras: [] };

describe('the gateway talks to its centre only over TLS, unless the centre is on this machine', () => {
  it('accepts https and wss anywhere, and plain http or ws only to loopback', () => {
    for (const ok of ['https://centre.example', 'wss://10.0.0.1:8443', 'http://127.0.0.1:8080', 'http://127.8.9.10', 'ws://localhost:8080', 'http://[::1]:8080']) {
      expect({ url: ok, problem: centreUrlProblem(ok) }).toEqual({ url: ok, problem: undefined });
    }
    for (const bad of ['http://centre.example', 'ws://10.0.0.1:8080', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example', 'http://[::ffff:7f00:1]', 'ftp://centre.example', 'not a url']) {
      expect({ url: bad, refused: typeof centreUrlProblem(bad) === 'string' }).toEqual({ url: bad, refused: true });
    }
  });

  it('refuses to start a link to a non-TLS centre on another machine', () => {
    expect(() => new LinkClient({ centerUrl: 'http://192.0.2.10:8080', gatewayId: 'gw', secret: 'x'.repeat(16) }, pino({ level: 'silent' }))).toThrow(/must use TLS/);
  });
});

describe('the gateway\'s secret file', () => {
  it('is read from secretFile (relative to the config), and must be readable by the owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-secret-'));
    writeFileSync(join(dir, 'gateway.secret'), 'the-enrolled-secret-0123456789\n', { mode: 0o600 });
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, JSON.stringify({ ...identity, secretFile: 'gateway.secret' }));
    expect(loadGatewayConfig(configFile, {}).secret).toBe('the-enrolled-secret-0123456789');
    chmodSync(join(dir, 'gateway.secret'), 0o644);
    expect(() => loadGatewayConfig(configFile, {})).toThrow(/readable by others: chmod 600/);
  });

  it('needs exactly one of secret and secretFile', () => {
    expect(() => resolveGatewayConfig(identity)).toThrow(/exactly one of secret or secretFile/);
    expect(() => resolveGatewayConfig({ ...identity, secret: 'a-long-enough-secret', secretFile: '/x' })).toThrow(/exactly one/);
  });
});
