import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig, resolveGatewayConfig, storagePaths } from '../../src/config';

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

  it('puts the registry and key beside the config file unless dataDir says otherwise, and takes camera transport and Basic-auth choices', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, `gatewayId: gw1\nschoolId: zs-cheb\ncenterUrl: http://centre:8080\nsecret: from-the-file-123\ncameras:\n  - { id: c1, name: Dvůr, rtsp: { url: "rtsp://10.0.0.6/x" }, transport: udp, allowBasicAuth: true }\n`);
    const cfg = loadGatewayConfig(file, {});
    expect(cfg.dataDir).toBe(join(dir, 'data'));
    expect(storagePaths(cfg)).toEqual({ database: join(dir, 'data', 'gateway-gw1.db'), keyFile: join(dir, 'data', 'gateway-gw1.key') });
    expect(cfg.cameras[0]).toMatchObject({ transport: 'udp', allowBasicAuth: true });
    expect(loadGatewayConfig(file, { SCHOOLCAM_GATEWAY_DATA_DIR: '/var/lib/schoolcam' }).dataDir).toBe('/var/lib/schoolcam');
    expect(() => resolveGatewayConfig({ ...base, cameras: [{ ...base.cameras[1], transport: 'sctp' }] })).toThrow(/\/cameras\/0\/transport/);
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
