import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig, resolveGatewayConfig } from '../../src/config';

const base = {
  gatewayId: 'gw-zs-sokolov',
  schoolId: 'zs-sokolov',
  centerUrl: 'http://127.0.0.1:8080',
  secret: 'a-long-enough-secret',
  cameras: [
    { id: 'cam1', name: 'Vchod', onvif: { xaddr: 'http://10.0.0.5/onvif/device_service', username: 'admin', password: 'x' } },
    { id: 'cam2', name: 'Dvůr', rtsp: { url: 'rtsp://10.0.0.6/stream1' } },
  ],
};

describe('gateway configuration', () => {
  it('applies defaults and freezes the result', () => {
    const cfg = resolveGatewayConfig(base);
    expect(cfg.lingerMs).toBe(10_000);
    expect(cfg.loopbackOnly).toBe(false);
    expect(Object.isFrozen(cfg.cameras[0])).toBe(true);
  });

  it('names the path of what is wrong: unknown keys, a camera with both or neither source, duplicate ids', () => {
    expect(() => resolveGatewayConfig({ ...base, colour: 'red' })).toThrow(ConfigError);
    expect(() => resolveGatewayConfig({ ...base, cameras: [{ id: 'c', name: 'n' }] })).toThrow(/\/cameras\/0 needs exactly one of onvif or rtsp/);
    expect(() => resolveGatewayConfig({ ...base, cameras: [base.cameras[1], base.cameras[1]] })).toThrow(/duplicate camera id cam2/);
    expect(() => resolveGatewayConfig({ ...base, centerUrl: 'ftp://x' })).toThrow(/\/centerUrl/);
    expect(() => resolveGatewayConfig({ ...base, secret: 'short' })).toThrow(/\/secret/);
  });

  it('reads YAML and lets the environment override the centre URL and secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, `gatewayId: gw1\nschoolId: zs-cheb\ncenterUrl: http://centre:8080\nsecret: from-the-file-123\ncameras: []\n`);
    const cfg = loadGatewayConfig(file, { SCHOOLCAM_CENTER_URL: 'https://centre.example:443', SCHOOLCAM_GATEWAY_SECRET: 'from-the-environment' });
    expect(cfg.centerUrl).toBe('https://centre.example:443');
    expect(cfg.secret).toBe('from-the-environment');
    expect(() => loadGatewayConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot be read/);
  });
});
