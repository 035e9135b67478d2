import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Cam } from 'onvif';
import { afterEach, describe, expect, it } from 'vitest';
import { OnvifServer, type OnvifCameraModel, type OnvifProfileInfo, type OnvifServerOptions } from '../../src/onvif/onvif-server';

const USER = 'admin';
const PASS = 'sch00l-cam!';

function makeCamera(overrides: Partial<OnvifCameraModel> = {}): OnvifCameraModel {
  const profiles: OnvifProfileInfo[] = [
    { token: 'main', name: 'MainStream', width: 1280, height: 720, fps: 15, encoding: 'H264', rtspUri: 'rtsp://127.0.0.1:8554/cam7/main', snapshotUri: 'http://127.0.0.1:8080/cam7/main.jpg' },
    { token: 'sub', name: 'SubStream', width: 640, height: 360, fps: 10, encoding: 'H264', rtspUri: 'rtsp://127.0.0.1:8554/cam7/sub', snapshotUri: 'http://127.0.0.1:8080/cam7/sub.jpg' },
  ];
  return {
    name: 'Gym camera', manufacturer: 'SchoolCam Sim', model: 'SC-200', firmware: '2.0.0', serial: 'SN-0007', hardwareId: 'HW-7',
    school: 'Lincoln High', username: USER, password: PASS, profiles, onSynchronizationPoint: () => {},
    ...overrides,
  };
}

let server: OnvifServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(camera: Partial<OnvifCameraModel> = {}, opts: Partial<OnvifServerOptions> = {}): Promise<OnvifServer> {
  server = await OnvifServer.create({ camera: makeCamera(camera), ...opts });
  return server;
}

/** What the onvif client parses a media profile into (its typings say `any`). */
interface ParsedProfile {
  $: { token: string };
  name: string;
  videoEncoderConfiguration: { encoding: string; resolution: { width: number; height: number }; rateControl: { frameRateLimit: number } };
}
const parsedProfiles = (cam: Cam): ParsedProfile[] => (cam.profiles ?? []) as unknown as ParsedProfile[];

function connectCam(port: number, opts: { password?: string; useWSSecurity?: boolean } = {}): Promise<Cam> {
  return new Promise((resolve, reject) => {
    const cam: Cam = new Cam(
      { hostname: '127.0.0.1', port, username: USER, password: opts.password ?? PASS, timeout: 5000, useWSSecurity: opts.useWSSecurity },
      (err) => (err ? reject(err) : resolve(cam)),
    );
  });
}

/** Promisify an agsh callback; settles once even if the library calls back twice. */
function call<T>(fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data as T))));
}

interface Notification {
  topic: { _: string };
  message: { message: { $: { UtcTime: string; PropertyOperation?: string }; source: { simpleItem: unknown }; data: { simpleItem: unknown } } };
}

function notifications(data: { notificationMessage?: Notification | Notification[] }): Notification[] {
  const n = data.notificationMessage;
  return n === undefined ? [] : Array.isArray(n) ? n : [n];
}

/** SimpleItems (one or many) of a linerased tt:Message part, as name → value. */
function items(part: { simpleItem: unknown }): Record<string, string> {
  const list = Array.isArray(part.simpleItem) ? part.simpleItem : [part.simpleItem];
  return Object.fromEntries(list.map((i: { $: { Name: string; Value: unknown } }) => [i.$.Name, String(i.$.Value)]));
}

function summary(n: Notification): { topic: string; op: string | undefined; source: Record<string, string>; data: Record<string, string> } {
  const m = n.message.message;
  return { topic: n.topic._, op: m.$.PropertyOperation, source: items(m.source), data: items(m.data) };
}

function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/soap+xml; charset=utf-8', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function envelope(body: string, header = ''): string {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

function usernameToken(password = PASS): string {
  const nonce = randomBytes(16);
  const created = new Date().toISOString();
  const digest = createHash('sha1').update(nonce).update(created).update(password).digest('base64');
  return (
    '<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
    `<Username>${USER}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
    `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created></UsernameToken></Security>`
  );
}

const PROFILES_BODY = '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>';

describe('Events service with the agsh onvif client', () => {
  it('getEventProperties lists the motion and tamper topics', async () => {
    const s = await start();
    const cam = await connectCam(s.port);
    expect(cam.uri?.events?.href).toBe(`http://127.0.0.1:${s.port}/onvif/events_service`);
    const props = await call<{ topicSet: Record<string, unknown> }>((cb) => cam.getEventProperties(cb));
    const set = JSON.stringify(props.topicSet);
    // (the client lower-cases the first letter of element names)
    expect(Object.keys(props.topicSet)).toEqual(expect.arrayContaining(['videoSource', 'ruleEngine']));
    for (const name of ['"motionAlarm"', '"globalSceneChange"', '"imagingService"', '"cellMotionDetector"', '"motion"', '"IsMotion"', '"State"']) expect(set).toContain(name);
  });

  it('createPullPointSubscription + pullMessages: Initialized states, then motion and tamper as they happen', async () => {
    const s = await start();
    const cam = await connectCam(s.port);
    const sub = await call<{ subscriptionReference: { address: { href: string } }; currentTime: Date; terminationTime: Date }>((cb) => cam.createPullPointSubscription(cb));
    expect(sub.subscriptionReference.address.href).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/onvif/subscription/[0-9a-f]+$`));
    // The agsh client asks for PT2M.
    expect(sub.terminationTime.getTime() - sub.currentTime.getTime()).toBe(120_000);

    const first = notifications(await call((cb) => cam.pullMessages({}, cb))).map(summary);
    expect(first).toEqual([
      { topic: 'tns1:VideoSource/MotionAlarm', op: 'Initialized', source: { Source: 'vs0' }, data: { State: 'false' } },
      { topic: 'tns1:RuleEngine/CellMotionDetector/Motion', op: 'Initialized', source: { VideoSourceConfigurationToken: 'vsc0', VideoAnalyticsConfigurationToken: 'vac0', Rule: 'MotionDetectorRule' }, data: { IsMotion: 'false' } },
      { topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService', op: 'Initialized', source: { Source: 'vs0' }, data: { State: 'false' } },
    ]);

    // A long-poll (the client asks PT1M) answered by the motion that starts while it waits.
    const started = Date.now();
    const pending = call<{ notificationMessage?: Notification[] }>((cb) => cam.pullMessages({}, cb));
    setTimeout(() => s.triggerMotion(true), 200);
    const motion = notifications(await pending).map(summary);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(motion.map((m) => [m.topic, m.op, m.data])).toEqual([
      ['tns1:VideoSource/MotionAlarm', 'Changed', { State: 'true' }],
      ['tns1:RuleEngine/CellMotionDetector/Motion', 'Changed', { IsMotion: 'true' }],
    ]);

    s.triggerTamper(true);
    const tamper = notifications(await call((cb) => cam.pullMessages({}, cb))).map(summary);
    expect(tamper).toEqual([{ topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService', op: 'Changed', source: { Source: 'vs0' }, data: { State: 'true' } }]);

    const renewed = await call<{ terminationTime: Date; currentTime: Date }>((cb) => cam.renew({}, cb));
    expect(renewed.terminationTime.getTime() - renewed.currentTime.getTime()).toBe(120_000);
  });

  it('Cam "event" listener (the library\'s own pull/renew loop) receives a motion event', async () => {
    const s = await start();
    const cam = await connectCam(s.port);
    const motion = new Promise<Notification>((resolve) => {
      cam.on('event', (n: Notification) => {
        if (n.topic._ === 'tns1:VideoSource/MotionAlarm' && summary(n).data.State === 'true') resolve(n);
      });
    });
    // Wait for the library's subscription to exist before moving.
    for (let i = 0; i < 50 && s.faultState().subscriptions === 0; i++) await new Promise((r) => setTimeout(r, 20));
    s.triggerMotion(true);
    expect(summary(await motion).op).toBe('Changed');
    cam.removeAllListeners('event');
  });

  it('Unsubscribe removes the subscription; pulling it afterwards gets ResourceUnknownFault', async () => {
    const s = await start();
    const cam = await connectCam(s.port);
    await call((cb) => cam.createPullPointSubscription(cb));
    const saved = cam.events.subscription as unknown;
    expect(s.faultState().subscriptions).toBe(1);
    await call((cb) => cam.unsubscribe(cb));
    expect(s.faultState().subscriptions).toBe(0);
    cam.events.subscription = saved;
    await expect(call((cb) => cam.pullMessages({}, cb))).rejects.toThrow(/subscription does not exist/);
  });

  it('after dropSubscriptions() a pending and the next PullMessages fail with ResourceUnknownFault', async () => {
    const s = await start();
    const cam = await connectCam(s.port);
    await call((cb) => cam.createPullPointSubscription(cb));
    await call((cb) => cam.pullMessages({}, cb)); // the Initialized states
    const pending = call((cb) => cam.pullMessages({}, cb));
    await new Promise((r) => setTimeout(r, 100));
    expect(s.dropSubscriptions()).toBe(1);
    await expect(pending).rejects.toThrow(/subscription does not exist/);
    await expect(call((cb) => cam.pullMessages({}, cb))).rejects.toThrow(/subscription does not exist/);
    // The client recovers by subscribing again.
    await call((cb) => cam.createPullPointSubscription(cb));
    expect(s.faultState().subscriptions).toBe(1);
  });

  it('a subscription expires at its termination time and is then unknown', async () => {
    const s = await start();
    const create = await post(s.port, '/onvif/events_service', envelope(
      '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT1S</InitialTerminationTime></CreatePullPointSubscription>', usernameToken()));
    expect(create.status).toBe(200);
    const address = /<wsa:Address>([^<]+)<\/wsa:Address>/.exec(create.body)?.[1] ?? '';
    const path = new URL(address).pathname;
    await new Promise((r) => setTimeout(r, 1100));
    const pull = await post(s.port, path, envelope('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT1S</Timeout><MessageLimit>5</MessageLimit></PullMessages>', usernameToken()));
    expect(pull.status).toBe(400);
    expect(pull.body).toContain('<env:Value>wsrf-rw:ResourceUnknownFault</env:Value>');
    expect(pull.body).toContain('<wsrf-rw:ResourceUnknownFault><wsrf-bf:Timestamp>');
    expect(s.faultState().subscriptions).toBe(0);
  });

  it('refuses subscriptions beyond the limit with SubscribeCreationFailedFault', async () => {
    const s = await start({}, { maxSubscriptions: 2 });
    const create = (): Promise<{ status: number; body: string }> =>
      post(s.port, '/onvif/events_service', envelope('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>', usernameToken()));
    expect((await create()).status).toBe(200);
    expect((await create()).status).toBe(200);
    const third = await create();
    expect(third.status).toBe(500);
    expect(third.body).toContain('wsnt:SubscribeCreationFailedFault');
  });

  it('a long-poll ends when the server closes, and close() does not wait for it', async () => {
    const s = await start();
    const create = await post(s.port, '/onvif/events_service', envelope('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>', usernameToken()));
    const path = new URL(/<wsa:Address>([^<]+)</.exec(create.body)?.[1] ?? '').pathname;
    await post(s.port, path, envelope('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT0S</Timeout><MessageLimit>10</MessageLimit></PullMessages>', usernameToken()));
    const pending = post(s.port, path, envelope('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT50S</Timeout><MessageLimit>10</MessageLimit></PullMessages>', usernameToken()));
    const outcome = pending.then(() => 'answered', () => 'reset');
    await new Promise((r) => setTimeout(r, 100));
    const t = Date.now();
    await s.close();
    expect(Date.now() - t).toBeLessThan(2000);
    expect(await outcome).toBe('reset');
  });

  it('PullMessages with a garbage Timeout gets ter:InvalidArgVal', async () => {
    const s = await start();
    const create = await post(s.port, '/onvif/events_service', envelope('<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>', usernameToken()));
    const path = new URL(/<wsa:Address>([^<]+)</.exec(create.body)?.[1] ?? '').pathname;
    const res = await post(s.port, path, envelope('<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>five seconds</Timeout><MessageLimit>10</MessageLimit></PullMessages>', usernameToken()));
    expect(res.status).toBe(400);
    expect(res.body).toContain('ter:InvalidArgVal');
  });
});

describe('PTZ service', () => {
  it('Cam sees the PTZ node and configuration, moves continuously, stops, and reads the status', async () => {
    const s = await start({ ptz: true });
    const cam = await connectCam(s.port);
    expect(cam.uri?.ptz?.href).toBe(`http://127.0.0.1:${s.port}/onvif/ptz_service`);
    expect(cam.activeSource?.ptz).toEqual({ name: 'PTZConfig', token: 'ptzc0' });

    const nodes = await call<Record<string, { name: string; maximumNumberOfPresets: number }>>((cb) => cam.getNodes(cb));
    expect(Object.keys(nodes)).toEqual(['ptz0']);
    expect(nodes.ptz0).toMatchObject({ name: 'PTZ', maximumNumberOfPresets: 32 });
    const configs = await call<Record<string, { token: string; nodeToken: string }>>((cb) => cam.getConfigurations(cb));
    expect(configs.PTZConfig).toMatchObject({ token: 'ptzc0', nodeToken: 'ptz0' });

    await call((cb) => cam.continuousMove({ x: 1, y: 0.5, zoom: 0.5 }, cb));
    await new Promise((r) => setTimeout(r, 300));
    const moving = await call<{ position: { x: number; y: number; zoom: number }; moveStatus: { panTilt: string; zoom: string } }>((cb) => cam.getStatus({}, cb));
    expect(moving.moveStatus).toEqual({ panTilt: 'MOVING', zoom: 'MOVING' });
    expect(moving.position.x).toBeGreaterThan(0.05);
    expect(moving.position.y).toBeGreaterThan(0.02);
    expect(moving.position.zoom).toBeGreaterThan(0.02);

    await call((cb) => cam.stop({}, cb));
    const stopped = await call<{ position: { x: number }; moveStatus: { panTilt: string } }>((cb) => cam.getStatus({}, cb));
    expect(stopped.moveStatus.panTilt).toBe('IDLE');
    await new Promise((r) => setTimeout(r, 100));
    const later = await call<{ position: { x: number } }>((cb) => cam.getStatus({}, cb));
    expect(later.position.x).toBe(stopped.position.x);
    // The simulator sees the same state.
    expect(s.ptzState()?.position.pan).toBe(stopped.position.x);
  });

  it('Cam sets, lists, goes to and removes presets', async () => {
    const s = await start({ ptz: true });
    const cam = await connectCam(s.port);
    await call((cb) => cam.continuousMove({ x: -1, y: 0, zoom: 0, timeout: 200 }, cb));
    await new Promise((r) => setTimeout(r, 300));
    const doorPan = s.ptzState()?.position.pan ?? 0;
    expect(doorPan).toBeLessThan(-0.05);
    expect(s.ptzState()?.moving.panTilt).toBe(false); // the Timeout ended the move
    const set = await call<unknown>((cb) => cam.setPreset({ presetName: 'Door' }, cb));
    expect(JSON.stringify(set)).toContain('presetToken');

    const presets = await call<Record<string, { $: { token: string } }>>((cb) => cam.getPresets({}, cb));
    expect(Object.keys(presets)).toEqual(['Door']);
    const token = presets.Door?.$.token ?? '';

    await call((cb) => cam.continuousMove({ x: 1, y: 0, zoom: 0, timeout: 300 }, cb));
    await new Promise((r) => setTimeout(r, 400));
    expect(s.ptzState()?.position.pan).toBeGreaterThan(doorPan + 0.1);
    await call((cb) => cam.gotoPreset({ preset: token }, cb));
    await new Promise((r) => setTimeout(r, 600));
    expect(s.ptzState()?.position.pan).toBeCloseTo(doorPan, 5);

    await expect(call((cb) => cam.gotoPreset({ preset: 'no-such' }, cb))).rejects.toThrow(/preset/i);
    await call((cb) => cam.removePreset({ presetToken: token }, cb));
    expect(await call((cb) => cam.getPresets({}, cb))).toEqual({});
  });

  it('a camera without PTZ neither advertises nor serves it', async () => {
    const s = await start({ ptz: false });
    const cam = await connectCam(s.port);
    expect(cam.uri?.ptz).toBeUndefined();
    expect(s.ptzState()).toBeUndefined();
    const caps = await post(s.port, '/onvif/device_service', envelope('<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"><Category>PTZ</Category></GetCapabilities>', usernameToken()));
    expect(caps.body).toContain('ter:NoSuchService');
    const res = await post(s.port, '/onvif/ptz_service', envelope('<GetNodes xmlns="http://www.onvif.org/ver20/ptz/wsdl"/>', usernameToken()));
    expect(res.status).toBe(500);
    expect(res.body).toContain('ter:ActionNotSupported');
    await expect(call((cb) => cam.getNodes(cb))).rejects.toThrow();
  });
});

describe('main and sub profiles', () => {
  it('GetProfiles, GetStreamUri, GetSnapshotUri and GetVideoEncoderConfigurations agree per profile token', async () => {
    const s = await start();
    const cam = await connectCam(s.port);
    const sizes = parsedProfiles(cam).map((p) => [p.$.token, p.videoEncoderConfiguration.resolution.width, p.videoEncoderConfiguration.resolution.height]);
    expect(sizes).toEqual([['main', 1280, 720], ['sub', 640, 360]]);
    const uri = (token: string, kind: 'stream' | 'snapshot'): Promise<string> =>
      call<{ uri: string }>((cb) => (kind === 'stream' ? cam.getStreamUri({ protocol: 'RTSP', profileToken: token }, cb) : cam.getSnapshotUri({ profileToken: token }, cb))).then((r) => r.uri);
    expect(await uri('main', 'stream')).toBe('rtsp://127.0.0.1:8554/cam7/main');
    expect(await uri('sub', 'stream')).toBe('rtsp://127.0.0.1:8554/cam7/sub');
    expect(await uri('main', 'snapshot')).toBe('http://127.0.0.1:8080/cam7/main.jpg');
    expect(await uri('sub', 'snapshot')).toBe('http://127.0.0.1:8080/cam7/sub.jpg');
    const encoders = await call<Array<{ $: { token: string }; resolution: { width: number; height: number }; rateControl: { frameRateLimit: number } }>>((cb) => cam.getVideoEncoderConfigurations(cb));
    expect(encoders.map((e) => [e.$.token, e.resolution.width, e.resolution.height, e.rateControl.frameRateLimit])).toEqual([['vec-main', 1280, 720, 15], ['vec-sub', 640, 360, 10]]);
    const one = await call<{ resolution: { width: number } }>((cb) => cam.getVideoEncoderConfiguration('vec-sub', cb));
    expect(one.resolution.width).toBe(640);
  });
});

/** RFC 2617 §3.2.2, written independently of protocol/src/rtsp/digest-auth.ts. */
function digestHeader(challenge: string, password: string, path: string): string {
  const field = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const realm = field('realm');
  const nonce = field('nonce');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = md5(`${md5(`${USER}:${realm}:${password}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`POST:${path}`)}`);
  return `Digest username="${USER}", realm="${realm}", nonce="${nonce}", uri="${path}", qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", algorithm=MD5`;
}

describe('HTTP Digest authentication', () => {
  it('http-digest mode: 401 with a Digest challenge and the NotAuthorized fault; a correct Digest header is accepted, a wrong one refused', async () => {
    const s = await start({ authSchemes: 'http-digest' });
    const refused = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY));
    expect(refused.status).toBe(401);
    const challenge = String(refused.headers['www-authenticate']);
    expect(challenge).toMatch(/^Digest realm="SimCam-SN-0007", nonce="[0-9a-f]+", algorithm=MD5, qop="auth"/);
    expect(refused.body).toContain('ter:NotAuthorized');

    const ok = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY), { Authorization: digestHeader(challenge, PASS, '/onvif/media_service') });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<trt:Profiles token="sub"');

    const wrong = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY), { Authorization: digestHeader(challenge, 'nope', '/onvif/media_service') });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('ter:NotAuthorized');

    // UsernameToken alone is not enough on a digest-only camera.
    const token = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY, usernameToken()));
    expect(token.status).toBe(401);
  });

  it('default mode accepts a Digest header without a UsernameToken, and keeps 400 for no credentials', async () => {
    const s = await start();
    const challenged = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY), { Authorization: 'Digest username="admin"' });
    expect(challenged.status).toBe(401);
    const challenge = String(challenged.headers['www-authenticate']);
    const ok = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY), { Authorization: digestHeader(challenge, PASS, '/onvif/media_service') });
    expect(ok.status).toBe(200);
    const none = await post(s.port, '/onvif/media_service', envelope(PROFILES_BODY));
    expect(none.status).toBe(400);
    expect(none.headers['www-authenticate']).toBeUndefined();
  });

  it('the agsh client connects to a digest-only camera through its own Digest support', async () => {
    const s = await start({ authSchemes: 'http-digest' });
    const cam = await connectCam(s.port, { useWSSecurity: false });
    expect(cam.profiles).toHaveLength(2);
    await expect(connectCam(s.port, { password: 'wrong', useWSSecurity: false })).rejects.toThrow(/Digest authentication failed/);
  });
});

describe('fault hooks, as a client sees them', () => {
  it('always-wrong: Cam with the right password is refused, then accepted once back to normal', async () => {
    const s = await start();
    s.setAuthMode('always-wrong');
    expect(s.faultState().authMode).toBe('always-wrong');
    await expect(connectCam(s.port)).rejects.toThrow(/not authorized/i);
    s.setAuthMode('normal');
    expect((await connectCam(s.port)).profiles).toHaveLength(2);
  });

  it('always-wrong on a digest-only camera: the right Digest is refused with 401', async () => {
    const s = await start({ authSchemes: 'http-digest' });
    s.setAuthMode('always-wrong');
    await expect(connectCam(s.port, { useWSSecurity: false })).rejects.toThrow(/Digest authentication failed/);
  });

  it('malformed: replies are truncated XML with 200, the client fails to parse; turning it off restores service', async () => {
    const s = await start();
    s.setMalformed(true);
    const raw = await post(s.port, '/onvif/device_service', envelope('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
    expect(raw.status).toBe(200);
    expect(raw.body.startsWith('<?xml')).toBe(true);
    expect(raw.body).not.toContain('</env:Envelope>');
    await expect(connectCam(s.port)).rejects.toThrow(/Wrong ONVIF SOAP response|Unclosed|Unexpected end/i);
    s.setMalformed(false);
    expect((await connectCam(s.port)).profiles).toHaveLength(2);
  });

  it('refusing: connections are reset on the same port, then served again', async () => {
    const s = await start();
    const port = s.port;
    const cam = await connectCam(port);
    s.setRefusing(true);
    await expect(connectCam(port)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(call((cb) => cam.getDeviceInformation(cb))).rejects.toThrow();
    s.setRefusing(false);
    expect(s.port).toBe(port);
    expect((await connectCam(port)).profiles).toHaveLength(2);
  });

  it('clock skew is read live: GetSystemDateAndTime follows a change of clockOffsetMs', async () => {
    const camera = makeCamera();
    server = await OnvifServer.create({ camera });
    const cam = await connectCam(server.port);
    camera.clockOffsetMs = 2 * 3600_000;
    const date = await call<Date>((cb) => cam.getSystemDateAndTime(cb));
    expect(Math.abs(date.getTime() - (Date.now() + 2 * 3600_000))).toBeLessThan(5000);
  });
});
