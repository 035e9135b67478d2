import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnvifCamera, OnvifError, type OnvifErrorCode } from '../../gateway/src/onvif/onvif-client';

import { OnvifServer } from '../../device-sim/src/onvif/onvif-server';
import type { OnvifCameraModel } from '../../device-sim/src/onvif/onvif-camera-model';

const USER = 'gateway';
const PASS = 'pa55word';

function makeCamera(): OnvifCameraModel & { syncPoints: string[] } {
  const syncPoints: string[] = [];
  return {
    name: 'Gym', manufacturer: 'SchoolCam Sim', model: 'SC-200', firmware: '2.0.1', serial: 'SN-77', hardwareId: 'HW-7', school: 'Riverside',
    username: USER, password: PASS,
    // Sub stream listed first: the adapter must still put the largest first.
    profiles: [
      { token: 'sub', name: 'Sub', width: 320, height: 180, fps: 10, encoding: 'H264', rtspUri: 'rtsp://127.0.0.1:1/gym/sub', snapshotUri: 'http://127.0.0.1:1/sub.jpg' },
      { token: 'main', name: 'Main', width: 640, height: 360, fps: 25, encoding: 'H264', rtspUri: 'rtsp://127.0.0.1:1/gym/main', snapshotUri: 'http://127.0.0.1:1/main.jpg' },
    ],
    onSynchronizationPoint: (t) => { syncPoints.push(t); },
    syncPoints,
  };
}

type Reply = 'forward' | 'hang' | 'destroy' | { status?: number; headers?: Record<string, string>; body: string };

/** A camera stand-in: answers per SOAP operation, by default forwarding to a real OnvifServer. */
class FakeCamera {
  readonly sockets = new Set<Socket>();
  closedSockets = 0;
  behave: (op: string) => Reply = () => 'forward';
  /** edits forwarded replies */
  rewrite: ((op: string, xml: string) => string) | undefined;
  private constructor(readonly server: Server, readonly port: number, private readonly upstreamPort: number) {}

  static async start(upstreamPort = 0, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeCamera> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const fake = new FakeCamera(server, (server.address() as AddressInfo).port, upstreamPort);
    server.on('connection', (s) => {
      fake.sockets.add(s);
      s.on('close', () => { fake.sockets.delete(s); fake.closedSockets++; });
    });
    server.on('request', handler ?? ((req, res) => fake.onRequest(req, res)));
    return fake;
  }

  get xaddr(): string {
    return `http://127.0.0.1:${this.port}/onvif/device_service`;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = /<Body[^>]*>\s*<(?:[\w-]+:)?(\w+)/.exec(body.toString().replace(/<(\/?)[\w-]+:/g, '<$1'))?.[1] ?? '';
      const reply = this.behave(op);
      if (reply === 'hang') return;
      if (reply === 'destroy') return void req.socket.destroy();
      if (reply !== 'forward') {
        res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/soap+xml', ...reply.headers });
        return void res.end(reply.body);
      }
      const up = request({ host: '127.0.0.1', port: this.upstreamPort, path: req.url, method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' } }, (upRes) => {
        const upChunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => upChunks.push(c));
        upRes.on('end', () => {
          const xml = Buffer.concat(upChunks).toString();
          res.writeHead(upRes.statusCode ?? 500, { 'Content-Type': upRes.headers['content-type'] ?? '' });
          res.end(this.rewrite ? this.rewrite(op, xml) : xml);
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function expectOnvifError(p: Promise<unknown>, code: OnvifErrorCode): Promise<OnvifError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OnvifError);
  expect((err as OnvifError).code).toBe(code);
  return err as OnvifError;
}

const soap = (body: string): string =>
  `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>${body}</env:Body></env:Envelope>`;

describe('OnvifCamera against the simulated camera', () => {
  let camera: ReturnType<typeof makeCamera>;
  let sim: OnvifServer;
  const fakes: FakeCamera[] = [];

  beforeEach(async () => {
    camera = makeCamera();
    sim = await OnvifServer.create({ camera });
  });
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
    await sim.close();
  });

  async function fake(handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeCamera> {
    const f = await FakeCamera.start(sim.port, handler);
    fakes.push(f);
    return f;
  }

  it('connect() reads device info and both profiles, main (largest) first, with RTSP URIs', async () => {
    const cam = await OnvifCamera.connect({ xaddr: sim.xaddr, username: USER, password: PASS });
    expect(cam.info).toEqual({ manufacturer: 'SchoolCam Sim', model: 'SC-200', firmware: '2.0.1', serial: 'SN-77', hardwareId: 'HW-7' });
    expect(cam.profiles).toEqual([
      { token: 'main', name: 'Main', width: 640, height: 360, fps: 25, encoding: 'H264', govLength: 50, rtspUri: 'rtsp://127.0.0.1:1/gym/main' },
      { token: 'sub', name: 'Sub', width: 320, height: 180, fps: 10, encoding: 'H264', govLength: 20, rtspUri: 'rtsp://127.0.0.1:1/gym/sub' },
    ]);
    cam.close();
  });

  it('setSynchronizationPoint() reaches the camera', async () => {
    const cam = await OnvifCamera.connect({ xaddr: sim.xaddr, username: USER, password: PASS });
    await cam.setSynchronizationPoint('main');
    await Promise.all([cam.setSynchronizationPoint('sub'), cam.setSynchronizationPoint('main')]);
    expect(camera.syncPoints).toEqual(['main', 'sub', 'main']);
    cam.close();
    await expectOnvifError(cam.setSynchronizationPoint('main'), 'ONVIF_UNREACHABLE');
  });

  it('setSynchronizationPoint() on an unknown profile is ONVIF_BAD_REPLY (SOAP fault)', async () => {
    const cam = await OnvifCamera.connect({ xaddr: sim.xaddr, username: USER, password: PASS });
    await expectOnvifError(cam.setSynchronizationPoint('nope'), 'ONVIF_BAD_REPLY');
    cam.close();
  });

  it('a wrong password is ONVIF_AUTH', async () => {
    const err = await expectOnvifError(OnvifCamera.connect({ xaddr: sim.xaddr, username: USER, password: 'nope' }), 'ONVIF_AUTH');
    expect(err.message).not.toContain('nope');
  });

  it('a closed port is ONVIF_UNREACHABLE', async () => {
    const f = await fake();
    const xaddr = f.xaddr;
    await f.close();
    await expectOnvifError(OnvifCamera.connect({ xaddr, username: USER, password: PASS }), 'ONVIF_UNREACHABLE');
  });

  it('an invalid xaddr is refused without a request', async () => {
    await expectOnvifError(OnvifCamera.connect({ xaddr: 'not a url', username: USER, password: PASS }), 'ONVIF_UNREACHABLE');
    await expectOnvifError(OnvifCamera.connect({ xaddr: 'ftp://127.0.0.1/x', username: USER, password: PASS }), 'ONVIF_UNREACHABLE');
  });

  it('a camera that never replies is ONVIF_TIMEOUT after timeoutMs, and its socket is closed', async () => {
    const f = await fake();
    f.behave = () => 'hang';
    const t0 = Date.now();
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS, timeoutMs: 300 }), 'ONVIF_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect.poll(() => f.sockets.size).toBe(0);
  });

  it('a camera that dribbles one byte at a time forever is ONVIF_TIMEOUT (the deadline is not an idle timeout)', async () => {
    const f = await fake((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml' });
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    });
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS, timeoutMs: 400 }), 'ONVIF_TIMEOUT');
    await expect.poll(() => f.sockets.size).toBe(0);
  });

  it('an endless reply is cut off at maxReplyBytes (ONVIF_BAD_REPLY)', async () => {
    let written = 0;
    const f = await fake((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (!res.destroyed && written < 512 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS, maxReplyBytes: 256 * 1024 }), 'ONVIF_BAD_REPLY');
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('garbage instead of XML is ONVIF_BAD_REPLY', async () => {
    const f = await fake();
    f.behave = () => ({ body: '<html><body>Camera web UI</body></html>' });
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_BAD_REPLY');
    f.behave = () => ({ body: '\u0000\u00ff<<<>>>&&&' });
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_BAD_REPLY');
  });

  it('a SOAP envelope with an unexpected body is ONVIF_BAD_REPLY', async () => {
    const f = await fake();
    f.behave = () => ({ body: soap('<Something/>') });
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_BAD_REPLY');
  });

  it('profiles whose video source does not match still connect (the lib\'s own connect() would never call back)', async () => {
    const f = await fake();
    f.behave = (op) =>
      op === 'GetVideoSources'
        ? { body: soap('<trt:GetVideoSourcesResponse xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><trt:VideoSources token="other"><Framerate>1</Framerate></trt:VideoSources></trt:GetVideoSourcesResponse>') }
        : 'forward';
    // The fake advertises the simulator's XAddrs, but preserveAddress keeps the client on the fake.
    const cam = await OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS });
    expect(cam.profiles.map((p) => p.token)).toEqual(['main', 'sub']);
    cam.close();
  });

  it('a connection dropped mid-request is ONVIF_UNREACHABLE', async () => {
    const f = await fake();
    f.behave = () => 'destroy';
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_UNREACHABLE');
  });

  it('HTTP 401 without a Digest challenge is ONVIF_AUTH', async () => {
    const f = await fake();
    f.behave = (op) => (op === 'GetSystemDateAndTime' ? 'forward' : { status: 401, headers: { 'Content-Type': 'text/html' }, body: '<html>401</html>' });
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_AUTH');
  });

  it('a reply the lib chokes on inside its own callback (GetProfiles without Profiles) is ONVIF_BAD_REPLY', async () => {
    const f = await fake();
    f.behave = (op) => (op === 'GetProfiles' ? { body: soap('<trt:GetProfilesResponse xmlns:trt="http://www.onvif.org/ver10/media/wsdl"/>') } : 'forward');
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_BAD_REPLY');
  });

  it('a camera that only offers non-H.264 profiles is ONVIF_UNSUPPORTED (check still sees them)', async () => {
    const f = await fake();
    f.rewrite = (op, xml) => (op === 'GetProfiles' ? xml.replaceAll('<tt:Encoding>H264</tt:Encoding>', '<tt:Encoding>JPEG</tt:Encoding>') : xml);
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_UNSUPPORTED');
    const seen = await OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS, anyCodec: true });
    expect(seen.allProfiles.map((p) => [p.token, p.encoding])).toEqual([
      ['main', 'JPEG'],
      ['sub', 'JPEG'],
    ]);
    seen.close();
    f.rewrite = (op, xml) => (op === 'GetProfiles' ? xml.replace('<tt:Encoding>H264</tt:Encoding>', '<tt:Encoding>JPEG</tt:Encoding>') : xml);
    const cam = await OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS });
    expect(cam.profiles.map((p) => p.token)).toEqual(['main']);
    cam.close();
  });

  it('a camera without any RTSP-capable H.264 profile is ONVIF_UNSUPPORTED', async () => {
    const f = await fake();
    f.behave = (op) => (op === 'GetStreamUri' ? { status: 500, body: soap('<env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text>no</env:Text></env:Reason></env:Fault>') } : 'forward');
    await expectOnvifError(OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS }), 'ONVIF_UNSUPPORTED');
  });

  it('close() aborts an operation in flight with ONVIF_UNREACHABLE and drops its socket', async () => {
    const f = await fake();
    const cam = await OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS, timeoutMs: 10_000 });
    f.behave = () => 'hang';
    const pending = cam.setSynchronizationPoint('main');
    await expect.poll(() => f.sockets.size).toBe(1);
    cam.close();
    cam.close();
    await expectOnvifError(pending, 'ONVIF_UNREACHABLE');
    await expect.poll(() => f.sockets.size).toBe(0);
  });

  it('a camera that breaks after connect gives ONVIF_BAD_REPLY / ONVIF_TIMEOUT, then works again', async () => {
    const f = await fake();
    const cam = await OnvifCamera.connect({ xaddr: f.xaddr, username: USER, password: PASS, timeoutMs: 300 });
    f.behave = () => ({ body: 'garbage' });
    await expectOnvifError(cam.setSynchronizationPoint('main'), 'ONVIF_BAD_REPLY');
    f.behave = () => 'hang';
    await expectOnvifError(cam.setSynchronizationPoint('main'), 'ONVIF_TIMEOUT');
    f.behave = () => 'forward';
    await cam.setSynchronizationPoint('sub');
    expect(camera.syncPoints).toEqual(['sub']);
    cam.close();
  });
});
