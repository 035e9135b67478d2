import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import net from 'node:net';
import { promisify } from 'node:util';
import { Cam } from 'onvif';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { runControlCommand } from '../../device-sim/src/control/control-client';
import { buildProbe } from '../../protocol/src/discovery/ws-discovery-message';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { OnvifCamera, OnvifError } from '../../gateway/src/onvif/onvif-client';
import { RtspClient, openRtspVideo } from '../../protocol/src/rtsp/rtsp-client';
import { RtspError } from '../../protocol/src/rtsp/rtsp-error';
import { DigestClientState, parseWwwAuthenticate } from '../../protocol/src/rtsp/digest-auth';
import { parseRtp } from '../../protocol/src/rtp/rtp-packet';
import { H264Depacketizer } from '../../protocol/src/h264/depacketizer';
import { NalType, nalType, type AccessUnit } from '../../protocol/src/h264/nal';
import { parseSps } from '../../protocol/src/h264/sps';

/**
 * Every fault and event of the simulator, switched through the control CLI (the same HTTP
 * API the YAML schedule and integrators use), and observed by a real client.
 */
let fleet: Fleet;
let cam: SimCameraInfo;

async function ctl(...args: string[]): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const code = await runControlCommand([cam.control, ...args], (l) => lines.push(l));
  expect(code, lines.join('\n')).toBe(0);
  return JSON.parse(lines.join('\n')) as Record<string, unknown>;
}

interface Player {
  client: RtspClient;
  units: AccessUnit[];
  packets: () => number;
  closed: Promise<Error | undefined>;
}

async function play(path = 'main', opts: { password?: string } = {}): Promise<Player> {
  const url = cam.rtsp.replace(/\/main$/, `/${path}`);
  const { client, video } = await openRtspVideo(url, { username: cam.username, password: opts.password ?? cam.password });
  const units: AccessUnit[] = [];
  let packets = 0;
  const depack = new H264Depacketizer();
  client.on('rtp', (ch, pkt) => {
    if (ch !== video.channel) return;
    packets++;
    units.push(...depack.push(parseRtp(pkt)));
  });
  const closed = new Promise<Error | undefined>((r) => client.once('close', r));
  return { client, units, packets: () => packets, closed };
}

/** GET with HTTP Digest, as a VMS fetches a camera snapshot. */
async function fetchDigest(url: string): Promise<Buffer> {
  const first = await fetch(url);
  expect(first.status).toBe(401);
  const challenge = first.headers.get('www-authenticate')!;
  const state = DigestClientState.fromChallenges(parseWwwAuthenticate([challenge]), cam.username, cam.password);
  const u = new URL(url);
  const res = await fetch(url, { headers: { authorization: state!.authorization('GET', u.pathname) } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/jpeg');
  return Buffer.from(await res.arrayBuffer());
}

function probeJpeg(jpeg: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-i', 'pipe:0'], (err, stdout) =>
      // ExecFileException is declared as an Omit<> of Error, not as an Error subclass.
      err ? reject(err as Error) : resolve(stdout.trim()),
    );
    child.stdin!.end(jpeg);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function connectCam(password = cam.password): Promise<Cam> {
  const u = new URL(cam.onvif);
  return new Promise((resolve, reject) => {
    const c: Cam = new Cam({ hostname: u.hostname, port: Number(u.port), path: u.pathname, username: cam.username, password, timeout: 5000 }, (err) => (err ? reject(err) : resolve(c)));
  });
}

function call<T>(fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data as T))));
}

/** The first line and the WWW-Authenticate headers of a raw RTSP DESCRIBE with no credentials. */
async function rawDescribe(): Promise<string> {
  const u = new URL(cam.rtsp);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(`DESCRIBE ${cam.rtsp} RTSP/1.0\r\nCSeq: 1\r\n\r\n`));
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
      if (text.includes('\r\n\r\n')) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', reject);
  });
}

async function probe(): Promise<string[]> {
  const socket = createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  await new Promise<void>((r, j) => socket.send(buildProbe({ messageId: `urn:uuid:${Date.now()}` }), fleet.discovery.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await sleep(300);
  await new Promise<void>((r) => socket.close(() => r()));
  return got.filter((x) => x.includes(`/name/${encodeURIComponent(cam.name)}`) || x.includes(cam.onvif) || x.includes('0.0.0.0'));
}

beforeAll(async () => {
  fleet = await Fleet.create({ spec: generatedFleet(1, 1, { fps: 15, gopSeconds: 2 }), discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
  cam = fleet.info().cameras[0]!;
});

afterAll(async () => {
  await fleet?.close();
});

beforeEach(async () => {
  await ctl('clear');
});

describe('simulator faults, each seen by a client', () => {
  it('reboot: RTSP and ONVIF refuse, then serve again; resetClock puts the camera clock at 2000-01-01', async () => {
    const before = await play();
    await ctl('fault', 'reboot', 'downSeconds=1.5', 'resetClock=true');
    expect(await before.closed).toBeInstanceOf(Error); // the playing client lost its connection
    await expect(RtspClient.connect(cam.rtsp, { username: cam.username, password: cam.password, timeoutMs: 1000 })).rejects.toThrow();
    await expect(OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password, timeoutMs: 1000 })).rejects.toBeInstanceOf(OnvifError);
    expect(await probe()).toEqual([]); // a rebooting camera does not answer discovery
    await sleep(1700);
    const after = await play();
    await until(() => after.units.some((u) => u.keyframe), 3000, 'an IDR after the reboot');
    expect(after.units[0].keyframe).toBe(true); // a rebooted encoder starts with an IDR
    await after.client.close();
    const c = await connectCam();
    const date = await call<Date>((cb) => c.getSystemDateAndTime(cb));
    expect(date.getUTCFullYear()).toBe(2000);
    expect(await probe()).toHaveLength(1);
  });

  it('stall: the RTSP connection stays open but no RTP arrives; it ends by itself', async () => {
    const p = await play();
    await until(() => p.packets() > 10, 3000, 'packets before the stall');
    await ctl('fault', 'stall', 'seconds=1.5');
    await sleep(200);
    const stalledAt = p.packets();
    await sleep(1000);
    expect(p.packets()).toBe(stalledAt);
    expect(p.client.isClosed).toBe(false);
    await until(() => p.packets() > stalledAt, 3000, 'RTP after the stall ended');
    await p.client.close();
  });

  it('drop: every RTSP session ends and its connection closes', async () => {
    const p = await play();
    const state = await ctl('state');
    expect((state.profiles as { clients: number }[])[0].clients).toBe(1);
    await ctl('fault', 'drop');
    expect(await p.closed).toBeInstanceOf(Error);
  });

  it('stream: a new size takes effect for playing and new clients (new SPS in-band, new SDP)', async () => {
    const p = await play();
    await until(() => p.units.some((u) => u.keyframe), 3000, 'first IDR');
    await ctl('fault', 'stream', 'width=320', 'height=240', 'gopSeconds=1');
    const sps = await until(() => {
      const au = p.units.slice(1).find((u) => u.keyframe && u.nalus.some((n) => nalType(n) === NalType.Sps && parseSps(n).width === 320));
      return au?.nalus.find((n) => nalType(n) === NalType.Sps);
    }, 3000, 'an SPS with the new size');
    expect(parseSps(sps)).toMatchObject({ width: 320, height: 240 });
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', cam.rtsp.replace('rtsp://', `rtsp://${cam.username}:${cam.password}@`)]);
    expect(stdout.trim()).toBe('320,240');
    await p.client.close();
    await ctl('fault', 'stream', 'width=640', 'height=360', 'gopSeconds=2');
  });

  it('SetSynchronizationPoint: the next frame after the reply is an IDR', async () => {
    const p = await play();
    await until(() => p.units.some((u) => u.keyframe), 3000, 'first IDR');
    await sleep(300); // well inside the 2 s GOP
    const onvif = await OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password });
    await onvif.setSynchronizationPoint('main');
    const seen = p.units.length;
    await until(() => p.units.length > seen, 1000, 'the next frame');
    expect(p.units[seen].keyframe).toBe(true);
    onvif.close();
    await p.client.close();
  });

  it('clock-skew: GetSystemDateAndTime reports the skewed clock and WS-UsernameToken still works for a client that syncs', async () => {
    await ctl('fault', 'clock-skew', 'offsetMs=3600000');
    const c = await connectCam();
    const date = await call<Date>((cb) => c.getSystemDateAndTime(cb));
    expect(Math.abs(date.getTime() - (Date.now() + 3_600_000))).toBeLessThan(5000);
    const info = await call<{ manufacturer?: string }>((cb) => c.getDeviceInformation(cb));
    expect(info.manufacturer).toBe('Schoolcam');
  });

  it('auth: basic-only and digest-only change the challenge; always-wrong refuses the right password everywhere', async () => {
    await ctl('fault', 'auth', 'mode=basic-only');
    expect(await rawDescribe()).toMatch(/WWW-Authenticate: Basic/i);
    expect(await rawDescribe()).not.toMatch(/WWW-Authenticate: Digest/i);
    await ctl('fault', 'auth', 'mode=digest-only');
    expect(await rawDescribe()).toMatch(/WWW-Authenticate: Digest/i);
    expect(await rawDescribe()).not.toMatch(/WWW-Authenticate: Basic/i);
    await ctl('fault', 'auth', 'mode=always-wrong');
    const err = await RtspClient.connect(cam.rtsp, { username: cam.username, password: cam.password })
      .then((c) => c.describe().finally(() => c.close()))
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RtspError);
    expect((err as RtspError).code).toBe('RTSP_UNAUTHORIZED');
    await expect(OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password })).rejects.toMatchObject({ code: 'ONVIF_AUTH' });
    const snap = await fetch(cam.snapshot);
    expect(snap.status).toBe(401);
  });

  it('lose-subscriptions: a client\'s pull-point subscription is gone', async () => {
    const c = await connectCam();
    await call((cb) => c.createPullPointSubscription(cb));
    await call((cb) => c.pullMessages({ messageLimit: 10 }, cb)); // Initialized states
    await ctl('fault', 'lose-subscriptions');
    await expect(call((cb) => c.pullMessages({ messageLimit: 10 }, cb))).rejects.toThrow();
  });

  it('malformed: RTSP replies break our client with a typed error, SOAP replies break the ONVIF client; clear restores both', async () => {
    await ctl('fault', 'malformed', 'target=both');
    const err = await openRtspVideo(cam.rtsp, { username: cam.username, password: cam.password, timeoutMs: 2000 }).then(
      (r) => r.client.close(),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RtspError);
    await expect(OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ONVIF_BAD_REPLY' });
    await ctl('clear');
    const p = await play();
    await p.client.close();
    const ok = await OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password });
    expect(ok.profiles.map((x) => x.token)).toEqual(['main', 'sub']);
    ok.close();
  });

  it('discovery: 0.0.0.0 XAddrs and duplicate ProbeMatches', async () => {
    const normal = await probe();
    expect(normal).toHaveLength(1);
    expect(normal[0]).toContain(cam.onvif);
    await ctl('fault', 'discovery', 'zeroXAddrs=true', 'duplicates=true');
    const faulty = await probe();
    expect(faulty).toHaveLength(2);
    for (const m of faulty) expect(m).toMatch(/<[^>]*XAddrs>http:\/\/0\.0\.0\.0:\d+\/onvif\/device_service</);
  });

  it('events: motion and tamper reach a pull-point subscriber', async () => {
    const c = await connectCam();
    await call((cb) => c.createPullPointSubscription(cb));
    await call((cb) => c.pullMessages({ messageLimit: 10 }, cb)); // Initialized states
    await ctl('event', 'motion');
    const motion = JSON.stringify(await call((cb) => c.pullMessages({ messageLimit: 10 }, cb)));
    expect(motion).toContain('MotionAlarm');
    expect(motion).toMatch(/"Name":"State","Value":true|"Value":"true"/);
    await ctl('event', 'tamper');
    const tamper = JSON.stringify(await call((cb) => c.pullMessages({ messageLimit: 10 }, cb)));
    expect(tamper).toContain('GlobalSceneChange/ImagingService');
    await call((cb) => c.unsubscribe(cb));
  });

  it('snapshot: a JPEG of the current picture with Digest auth; both profiles play', async () => {
    const noAuth = await fetch(cam.snapshot);
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toMatch(/^Digest /);
    const main = await play('main');
    const sub = await play('sub');
    await until(() => main.units.some((u) => u.keyframe) && sub.units.some((u) => u.keyframe), 3000, 'both profiles');
    const size = (p: Player) => parseSps(p.units.find((u) => u.keyframe)!.nalus.find((n) => nalType(n) === NalType.Sps)!);
    expect(size(main)).toMatchObject({ width: 640, height: 360 });
    expect(size(sub)).toMatchObject({ width: 320, height: 180 });
    await main.client.close();
    await sub.client.close();
  });

  it('the onvif client lists both profiles and gets their stream and snapshot URIs; the JPEG decodes; a wrong password is refused', async () => {
    const c = await connectCam();
    const profiles = (c as unknown as { profiles: { $: { token: string }; videoEncoderConfiguration: { resolution: { width: number; height: number } } }[] }).profiles;
    expect(profiles.map((p) => [p.$.token, p.videoEncoderConfiguration.resolution.width, p.videoEncoderConfiguration.resolution.height])).toEqual([
      ['main', 640, 360],
      ['sub', 320, 180],
    ]);
    for (const token of ['main', 'sub']) {
      const stream = await call<{ uri: string }>((cb) => c.getStreamUri({ protocol: 'RTSP', profileToken: token }, cb));
      expect(stream.uri).toBe(cam.rtsp.replace(/main$/, token));
      const snap = await call<{ uri: string }>((cb) => c.getSnapshotUri({ profileToken: token }, cb));
      const jpeg = await fetchDigest(snap.uri);
      const probed = await probeJpeg(jpeg);
      expect(probed).toBe(token === 'main' ? 'mjpeg,640,360' : 'mjpeg,320,180');
    }
    await expect(connectCam('wrong-password')).rejects.toThrow();
  });

  it('the control API refuses unknown faults and bad parameters with a clear error, and the CLI exits non-zero', async () => {
    const lines: string[] = [];
    expect(await runControlCommand([cam.control, 'fault', 'explode'], (l) => lines.push(l))).toBe(1);
    expect(lines.join('')).toContain('UNKNOWN_FAULT');
    lines.length = 0;
    expect(await runControlCommand([cam.control, 'fault', 'stall', 'seconds=-1'], (l) => lines.push(l))).toBe(1);
    expect(lines.join('')).toContain('BAD_PARAMS');
    const res = await fetch(`${cam.control}/faults/stall`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
    expect(((await ctl('state')).faults as { stall: boolean }).stall).toBe(false);
  });

  it('`npm run sim -- ctl` works as a separate process', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'device-sim/src/cli.ts', 'ctl', cam.control, 'fault', 'stall', 'on=true'], { cwd: new URL('../..', import.meta.url).pathname });
    expect((JSON.parse(stdout) as { faults: { stall: boolean } }).faults.stall).toBe(true);
  });
});
