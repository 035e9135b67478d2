import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Cam } from 'onvif';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OnvifServer, type OnvifCameraModel, type OnvifProfileInfo } from '../../src/onvif/onvif-server';

const USER = 'admin';
const PASS = 'sch00l-cam!';

function makeCamera(overrides: Partial<OnvifCameraModel> = {}): OnvifCameraModel & { syncPoints: string[] } {
  const syncPoints: string[] = [];
  const profiles: OnvifProfileInfo[] = [
    { token: 'main', name: 'Main stream', width: 640, height: 360, fps: 25, encoding: 'H264', bitrateKbps: 1500, rtspUri: 'rtsp://127.0.0.1:8554/cam1/main', snapshotUri: 'http://127.0.0.1:8080/snap/main.jpg' },
    { token: 'sub', name: 'Sub <stream> & co', width: 320, height: 180, fps: 15, encoding: 'H264', rtspUri: 'rtsp://127.0.0.1:8554/cam1/sub?a=1&b=2', snapshotUri: 'http://127.0.0.1:8080/snap/sub.jpg' },
  ];
  return {
    name: 'Hall camera 1', manufacturer: 'SchoolCam Sim', model: 'SC-100', firmware: '1.2.3', serial: 'SN-0001', hardwareId: 'HW-42',
    school: 'Lincoln High', username: USER, password: PASS,
    get profiles() { return profiles; },
    onSynchronizationPoint: (token) => { syncPoints.push(token); },
    syncPoints,
    ...overrides,
  };
}

/** Connect the agsh `onvif` client; resolves with the Cam once its connect callback succeeds. */
/** What the onvif client parses a media profile into (its typings say `any`). */
interface ParsedProfile {
  $: { token: string };
  name: string;
  videoEncoderConfiguration: { encoding: string; resolution: { width: number; height: number }; rateControl: { frameRateLimit: number } };
}
const parsedProfiles = (cam: Cam): ParsedProfile[] => (cam.profiles ?? []) as unknown as ParsedProfile[];

function connectCam(port: number, password = PASS): Promise<Cam> {
  return new Promise((resolve, reject) => {
    const cam: Cam = new Cam(
      { hostname: '127.0.0.1', port, username: USER, password, path: '/onvif/device_service', timeout: 5000 },
      (err) => (err ? reject(err) : resolve(cam)),
    );
  });
}

function call<T>(fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data as T))));
}

/** WS-Security UsernameToken, written independently of the server's code. */
function usernameToken(opts: { password?: string; nonce?: Buffer; created?: string } = {}): string {
  const nonce = opts.nonce ?? randomBytes(16);
  const created = opts.created ?? new Date().toISOString();
  const digest = createHash('sha1').update(nonce).update(created).update(opts.password ?? PASS).digest('base64');
  return (
    '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ' +
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
    `<wsse:Username>${USER}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

function envelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope">' +
    `<SOAP-ENV:Header>${header}</SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`
  );
}

function post(port: number, path: string, body: string | Buffer, opts: { method?: string; contentType?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'POST', headers: { 'Content-Type': opts.contentType ?? 'application/soap+xml; charset=utf-8' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.method === 'GET' ? undefined : body);
  });
}

const SYNC_BODY = '<trt:SetSynchronizationPoint xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><trt:ProfileToken>sub</trt:ProfileToken></trt:SetSynchronizationPoint>';
const DATE_BODY = '<tds:GetSystemDateAndTime xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>';

describe('OnvifServer with the agsh onvif client', () => {
  let camera: ReturnType<typeof makeCamera>;
  let server: OnvifServer;

  beforeAll(async () => {
    camera = makeCamera();
    server = await OnvifServer.create({ camera });
  });
  afterAll(async () => {
    await server.close();
  });

  it('exposes the device service xaddr on the bound port', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.xaddr).toBe(`http://127.0.0.1:${server.port}/onvif/device_service`);
  });

  it('Cam connects and sees the device information and both profiles', async () => {
    const cam = await connectCam(server.port);
    const info = await call<Record<string, unknown>>((cb) => cam.getDeviceInformation(cb));
    expect(info).toMatchObject({ manufacturer: 'SchoolCam Sim', model: 'SC-100', firmwareVersion: '1.2.3', serialNumber: 'SN-0001', hardwareId: 'HW-42' });

    const profiles = parsedProfiles(cam).map((p) => ({
      token: p.$.token,
      name: p.name,
      width: p.videoEncoderConfiguration.resolution.width,
      height: p.videoEncoderConfiguration.resolution.height,
      fps: p.videoEncoderConfiguration.rateControl.frameRateLimit,
      encoding: p.videoEncoderConfiguration.encoding,
    }));
    expect(profiles).toEqual([
      { token: 'main', name: 'Main stream', width: 640, height: 360, fps: 25, encoding: 'H264' },
      { token: 'sub', name: 'Sub <stream> & co', width: 320, height: 180, fps: 15, encoding: 'H264' },
    ]);
    expect(cam.activeSource).toMatchObject({ sourceToken: 'vs0', profileToken: 'main', width: 640, height: 360 });
  });

  it('Cam.getStreamUri and getSnapshotUri return the profile URIs (escaped characters intact)', async () => {
    const cam = await connectCam(server.port);
    const main = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'main' }, cb));
    expect(main.uri).toBe('rtsp://127.0.0.1:8554/cam1/main');
    const sub = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'sub' }, cb));
    expect(sub.uri).toBe('rtsp://127.0.0.1:8554/cam1/sub?a=1&b=2');
    const snap = await call<{ uri: string }>((cb) => cam.getSnapshotUri({ profileToken: 'sub' }, cb));
    expect(snap.uri).toBe('http://127.0.0.1:8080/snap/sub.jpg');
  });

  it('Cam.getStreamUri for an unknown profile fails with a SOAP fault', async () => {
    const cam = await connectCam(server.port);
    await expect(call((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'nope' }, cb))).rejects.toThrow(/profile/i);
  });

  it('Cam reads scopes, hostname and network interfaces', async () => {
    const cam = await connectCam(server.port);
    const scopes = await call<Array<{ scopeItem: string }>>((cb) => cam.getScopes(cb));
    expect(scopes.map((s) => s.scopeItem)).toEqual([
      'onvif://www.onvif.org/name/Hall%20camera%201',
      'onvif://www.onvif.org/hardware/HW-42',
      'onvif://www.onvif.org/location/Lincoln%20High',
      'onvif://www.onvif.org/type/video_encoder',
      'onvif://www.onvif.org/Profile/Streaming',
    ]);
    const hostname = await call<{ name?: string }>((cb) => cam.getHostname(cb));
    expect(hostname.name).toBe('cam-sn-0001');
    const ifaces = await call<unknown>((cb) => cam.getNetworkInterfaces(cb));
    expect(JSON.stringify(ifaces)).toContain('127.0.0.1');
  });

  it('Cam.getCapabilities lists the device and media XAddrs', async () => {
    const cam = await connectCam(server.port);
    const caps = await call<Record<string, { XAddr: string }>>((cb) => cam.getCapabilities(cb));
    expect(caps.device?.XAddr).toBe(server.xaddr);
    expect(caps.media?.XAddr).toBe(`http://127.0.0.1:${server.port}/onvif/media_service`);
  });

  it('Cam with a wrong password is refused on connect', async () => {
    await expect(connectCam(server.port, 'wrong')).rejects.toThrow(/not authorized/i);
  });

  it('Cam.setSynchronizationPoint reaches onSynchronizationPoint', async () => {
    const cam = await connectCam(server.port);
    camera.syncPoints.length = 0;
    await call((cb) => cam.setSynchronizationPoint({ profileToken: 'main' }, cb));
    expect(camera.syncPoints).toEqual(['main']);
  });
});

describe('OnvifServer raw SOAP', () => {
  let camera: ReturnType<typeof makeCamera>;
  let server: OnvifServer;

  afterEach(async () => {
    await server.close();
  });

  async function start(overrides: Partial<OnvifCameraModel> = {}): Promise<void> {
    camera = makeCamera(overrides);
    server = await OnvifServer.create({ camera });
  }

  it('SetSynchronizationPoint with a hand-made UsernameToken digest is accepted and calls the camera', async () => {
    await start();
    const res = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, usernameToken()));
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/<trt:SetSynchronizationPointResponse\/>/);
    expect(camera.syncPoints).toEqual(['sub']);
  });

  it('a replayed nonce is refused with ter:NotAuthorized', async () => {
    await start();
    const token = usernameToken();
    expect((await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, token))).status).toBe(200);
    const replay = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, token));
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('<env:Value>env:Sender</env:Value>');
    expect(replay.body).toContain('<env:Value>ter:NotAuthorized</env:Value>');
    expect(camera.syncPoints).toEqual(['sub']);
  });

  it('a token Created 10 minutes ago is refused, even with a correct digest', async () => {
    await start();
    const created = new Date(Date.now() - 10 * 60_000).toISOString();
    const res = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, usernameToken({ created })));
    expect(res.status).toBe(400);
    expect(res.body).toContain('ter:NotAuthorized');
    expect(camera.syncPoints).toEqual([]);
  });

  it('a token Created 10 minutes in the future is refused', async () => {
    await start();
    const created = new Date(Date.now() + 10 * 60_000).toISOString();
    const res = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, usernameToken({ created })));
    expect(res.status).toBe(400);
    expect(res.body).toContain('ter:NotAuthorized');
  });

  it('a request without a UsernameToken is refused', async () => {
    await start();
    const res = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY));
    expect(res.status).toBe(400);
    expect(res.body).toContain('ter:NotAuthorized');
    expect(camera.syncPoints).toEqual([]);
  });

  it('PasswordText is accepted', async () => {
    await start();
    const token =
      '<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
      `<Username>${USER}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${PASS.replace('&', '&amp;')}</Password>` +
      '</UsernameToken></Security>';
    const res = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, token));
    expect(res.status).toBe(200);
  });

  it('GetSystemDateAndTime needs no auth and reports the camera clock, offset included', async () => {
    const offset = 3 * 3600_000 + 17 * 60_000;
    await start({ clockOffsetMs: offset });
    const res = await post(server.port, '/onvif/device_service', envelope(DATE_BODY));
    expect(res.status).toBe(200);
    const num = (tag: string): number => Number(new RegExp(`<tt:${tag}>(\\d+)</tt:${tag}>`).exec(res.body)?.[1]);
    const reported = Date.UTC(num('Year'), num('Month') - 1, num('Day'), num('Hour'), num('Minute'), num('Second'));
    expect(Math.abs(reported - (Date.now() + offset))).toBeLessThan(5_000);
  });

  it('a skewed camera clock is honoured: tokens follow the camera, not the host', async () => {
    const offset = 60 * 60_000;
    await start({ clockOffsetMs: offset });
    const hostTime = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, usernameToken()));
    expect(hostTime.status).toBe(400);
    const cameraTime = new Date(Date.now() + offset).toISOString();
    const ok = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, usernameToken({ created: cameraTime })));
    expect(ok.status).toBe(200);
  });

  it('Cam connects to a camera whose clock is an hour off (it learns the offset first)', async () => {
    await start({ clockOffsetMs: -60 * 60_000 });
    const cam = await connectCam(server.port);
    expect(cam.profiles).toHaveLength(2);
  });

  it('an unknown operation gets env:Receiver / ter:ActionNotSupported', async () => {
    await start();
    const res = await post(server.port, '/onvif/device_service', envelope('<tds:SystemReboot xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>', usernameToken()));
    expect(res.status).toBe(500);
    expect(res.body).toContain('<env:Value>env:Receiver</env:Value>');
    expect(res.body).toContain('ter:ActionNotSupported');
  });

  it('a media operation sent to the device service is not supported there', async () => {
    await start();
    const res = await post(server.port, '/onvif/device_service', envelope(SYNC_BODY, usernameToken()));
    expect(res.body).toContain('ter:ActionNotSupported');
    expect(camera.syncPoints).toEqual([]);
  });

  it('malformed XML gets an env:Sender fault, and the server keeps serving', async () => {
    await start();
    const res = await post(server.port, '/onvif/device_service', '<s:Envelope><s:Body><Get');
    expect(res.status).toBe(400);
    expect(res.body).toContain('<env:Value>env:Sender</env:Value>');
    expect(res.body).toContain('ter:WellFormed');
    expect((await post(server.port, '/onvif/device_service', envelope(DATE_BODY))).status).toBe(200);
  });

  it('a DOCTYPE (entity expansion) is refused', async () => {
    await start();
    const body = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "${'a'.repeat(1000)}">]>` + envelope(DATE_BODY).replace('<?xml version="1.0" encoding="UTF-8"?>', '');
    const res = await post(server.port, '/onvif/device_service', body);
    expect(res.status).toBe(400);
    expect(res.body).toContain('ter:WellFormed');
  });

  it('a body over 256 KiB gets 413', async () => {
    await start();
    const res = await post(server.port, '/onvif/device_service', Buffer.alloc(300 * 1024, 'a'));
    expect(res.status).toBe(413);
  });

  it('GET, unknown paths and odd content types are refused', async () => {
    await start();
    expect((await post(server.port, '/onvif/device_service', '', { method: 'GET' })).status).toBe(405);
    expect((await post(server.port, '/onvif/other', envelope(DATE_BODY))).status).toBe(404);
    expect((await post(server.port, '/onvif/device_service', envelope(DATE_BODY), { contentType: 'application/json' })).status).toBe(415);
    expect((await post(server.port, '/onvif/device_service', envelope(DATE_BODY), { contentType: 'text/xml; charset=utf-8' })).status).toBe(200);
  });

  it('a throwing onSynchronizationPoint yields a Receiver fault, not a crash', async () => {
    await start({ onSynchronizationPoint: () => { throw new Error('encoder gone'); } });
    const res = await post(server.port, '/onvif/media_service', envelope(SYNC_BODY, usernameToken()));
    expect(res.status).toBe(500);
    expect(res.body).toContain('env:Receiver');
    expect(res.body).not.toContain('encoder gone');
  });

  it('close() is idempotent and emits close once', async () => {
    await start();
    let closes = 0;
    server.on('close', () => closes++);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    expect(closes).toBe(1);
    await expect(post(server.port, '/onvif/device_service', envelope(DATE_BODY))).rejects.toThrow();
  });
});
