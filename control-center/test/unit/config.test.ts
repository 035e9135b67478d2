import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadCenterConfig, resolveCenterConfig } from '../../src/config';
import { LOG_REDACT } from '../../src/logging';

describe('centre config', () => {
  it('fills every section\'s defaults and lets one field of a section be given alone', () => {
    const c = resolveCenterConfig({ session: { idleMinutes: 5 } });
    expect(c.session).toEqual({ idleMinutes: 5, absoluteMinutes: 720 });
    expect(c.limits.tilesPerSocket).toBe(32);
    expect(c.totpRequiredFor).toEqual([]);
    expect(Object.isFrozen(c.session)).toBe(true);
  });

  it('defaults grants to 8 h within a 24 h maximum, and refuses a default or emergency length above the maximum', () => {
    expect(resolveCenterConfig({}).grants).toEqual({ defaultMinutes: 480, maxMinutes: 1440, twoPersonRule: false, emergencyMinutes: 60, emergencyForces: {} });
    expect(resolveCenterConfig({ grants: { twoPersonRule: true } }).grants.twoPersonRule).toBe(true);
    expect(() => resolveCenterConfig({ grants: { defaultMinutes: 600, maxMinutes: 300 } })).toThrow('/grants/defaultMinutes 600 exceeds /grants/maxMinutes 300');
    expect(() => resolveCenterConfig({ grants: { emergencyMinutes: 120, maxMinutes: 60, defaultMinutes: 60 } })).toThrow(/emergencyMinutes/);
    expect(() => resolveCenterConfig({ rtspExport: { publicUrl: 'rtsp://user:pw@host:8554' } })).toThrow(/rtspExport\/publicUrl/);
  });

  it('rejects unknown keys and wrong values with the path', () => {
    expect(() => resolveCenterConfig({ nonsense: 1 } as never)).toThrow('/nonsense Unexpected property');
    expect(() => resolveCenterConfig({ limits: { tilesPerSocket: 0 } })).toThrow(/\/limits\/tilesPerSocket/);
    expect(() => resolveCenterConfig({ totpRequiredFor: ['janitor'] } as never)).toThrow(/totpRequiredFor/);
  });

  it('says what replaced the first release\'s shared token and plaintext gateway secrets', () => {
    expect(() => resolveCenterConfig({ viewerToken: 'x'.repeat(20) } as never)).toThrow(/own accounts/);
    expect(() => resolveCenterConfig({ gateways: [] } as never)).toThrow(/enrols/);
  });

  it('serves the RTSP re-export only when a port is set, and refuses a public URL with credentials or a path in it', () => {
    expect(resolveCenterConfig({}).rtspExport.port).toBeUndefined();
    expect(resolveCenterConfig({ rtspExport: { port: 0, publicUrl: 'rtsps://video.kvk.example:8554' } }).rtspExport).toEqual({ port: 0, publicUrl: 'rtsps://video.kvk.example:8554' });
    expect(() => resolveCenterConfig({ rtspExport: { port: 8554, publicUrl: 'rtsp://u:p@host:8554' } })).toThrow(/rtspExport\/publicUrl/);
    expect(() => resolveCenterConfig({ rtspExport: { port: 8554, publicUrl: 'rtsp://host:8554/grant' } })).toThrow(/rtspExport\/publicUrl/);
    expect(loadCenterConfig(undefined, { SCHOOLCAM_RTSP_EXPORT_PORT: '8554' }).rtspExport.port).toBe(8554);
  });

  it('layers the environment over the file', () => {
    const c = loadCenterConfig(undefined, { SCHOOLCAM_CENTER_PORT: '9001', SCHOOLCAM_METRICS_TOKEN: 'm'.repeat(20), SCHOOLCAM_DATA_DIR: '/var/lib/schoolcam' });
    expect([c.port, c.metrics.token, c.dataDir]).toEqual([9001, 'm'.repeat(20), '/var/lib/schoolcam']);
  });
});

describe('log redaction', () => {
  it('never writes passwords, tokens, secrets, cookies or one-time codes', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = pino({ redact: LOG_REDACT }, sink);
    log.info({ password: 'hunter2hunter2', body: { password: 'p4ssw0rd-x', totp: '123456', token: 'enrol-token', secret: 'gw-secret' } }, 'sign-in');
    log.info({ req: { headers: { cookie: 'schoolcam_session=abc', authorization: 'Bearer xyz', 'x-csrf-token': 'csrf-1' } } }, 'request');
    const all = lines.join('');
    for (const s of ['hunter2hunter2', 'p4ssw0rd-x', '123456', 'enrol-token', 'gw-secret', 'schoolcam_session=abc', 'Bearer xyz', 'csrf-1']) expect(all).not.toContain(s);
    expect(all).toContain('[redacted]');
  });
});
