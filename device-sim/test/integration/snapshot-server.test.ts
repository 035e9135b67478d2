import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { DigestClientState, basicAuthorization, parseWwwAuthenticate } from '@schoolcam/protocol/rtsp/digest-auth';
import { SyntheticH264Encoder } from '@schoolcam/protocol/h264/encoder/synthetic-encoder';
import { afterEach, describe, expect, it } from 'vitest';
import { runTool } from '../../../protocol/test/unit/ffmpeg-tool';
import { SnapshotServer, type SnapshotFrame, type SnapshotServerOptions, type SnapshotSource } from '../../src/snapshot/snapshot-server';

const USER = 'admin';
const PASS = 'sn4pshot!';
const REALM = 'camera-gym-1';
const PATH = 'snapshot/main.jpg';
const W = 320;
const H = 180;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  challenges: string[];
  body: Buffer;
}

/** One GET (or `method`) on a fresh connection; rejects on socket errors such as ECONNRESET. */
function get(url: string, opts: { authorization?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.authorization) headers.authorization = opts.authorization;
    const req = request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, challenges: res.headersDistinct['www-authenticate'] ?? [], body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Answers the 401 the way a client does: challenge → credentials → second request. */
async function getWithCredentials(server: SnapshotServer, path: string, password = PASS): Promise<Reply> {
  const first = await get(server.url(path));
  expect(first.status).toBe(401);
  const state = DigestClientState.fromChallenges(parseWwwAuthenticate(first.challenges), USER, password);
  expect(state).toBeDefined();
  return get(server.url(path), { authorization: state!.authorization('GET', `/${path}`) });
}

/** A camera picture: renders a fresh frame of the synthetic encoder on each call, like an idle VideoStream. */
function cameraSource(): SnapshotSource & { last: SnapshotFrame | undefined } {
  const enc = new SyntheticH264Encoder({ width: W, height: H, fps: 10, gopSeconds: 2, name: 'Gym 1' });
  const src = {
    last: undefined as SnapshotFrame | undefined,
    currentFrame(): SnapshotFrame {
      enc.encode(Date.now());
      src.last = { i420: enc.lastFrameI420(), width: W, height: H };
      return src.last;
    },
  };
  return src;
}

const servers: SnapshotServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(over: Partial<SnapshotServerOptions> = {}): Promise<{ server: SnapshotServer; source: ReturnType<typeof cameraSource> }> {
  const source = cameraSource();
  const server = await SnapshotServer.create({
    realm: REALM,
    users: () => ({ [USER]: PASS }),
    sources: (p) => (p === PATH ? source : undefined),
    ...over,
  });
  servers.push(server);
  return { server, source };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

describe('SnapshotServer', () => {
  it('answers a GET without credentials with 401 and a Digest challenge for its realm', async () => {
    const { server } = await start();
    const r = await get(server.url(PATH));
    expect(r.status).toBe(401);
    expect(r.challenges).toHaveLength(1);
    expect(r.challenges[0]).toMatch(new RegExp(`^Digest realm="${REALM}", nonce="[0-9a-f]{64}", algorithm=MD5, qop="auth"$`));
    expect(r.headers['content-type']).not.toBe('image/jpeg');
  });

  it('serves the current picture as a JPEG that ffmpeg decodes at the camera size after Digest auth', async () => {
    const { server, source } = await start();
    const r = await getWithCredentials(server, PATH);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect([...r.body.subarray(0, 2)]).toEqual([0xff, 0xd8]);

    const probe = await runTool('ffprobe', ['-v', 'error', '-f', 'image2pipe', '-i', '-', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0'], r.body);
    expect(probe.stderr).toBe('');
    expect(probe.stdout.toString().trim()).toBe(`mjpeg,${W},${H}`);
    const decoded = await runTool(
      'ffmpeg',
      ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'],
      r.body,
    );
    expect(decoded.stderr).toBe('');
    expect(decoded.code).toBe(0);
    // It is the picture the source drew for this request, not some other frame.
    expect(psnr(source.last!.i420, decoded.stdout)).toBeGreaterThan(35);
  });

  it('accepts further requests with the same Digest nonce (nc counts up)', async () => {
    const { server } = await start();
    const first = await get(server.url(PATH));
    const state = DigestClientState.fromChallenges(parseWwwAuthenticate(first.challenges), USER, PASS)!;
    for (let i = 0; i < 3; i++) {
      const r = await get(server.url(PATH), { authorization: state.authorization('GET', `/${PATH}`) });
      expect(r.status).toBe(200);
    }
  });

  it('refuses a wrong password with 401 and a fresh challenge', async () => {
    const { server } = await start();
    const r = await getWithCredentials(server, PATH, 'wrong');
    expect(r.status).toBe(401);
    expect(r.challenges[0]).toMatch(/^Digest /);
    expect(r.body.toString()).not.toContain(PASS);
  });

  it('reads the users on every request, so a changed password applies at once', async () => {
    let password = PASS;
    const { server } = await start({ users: () => ({ [USER]: password }) });
    expect((await getWithCredentials(server, PATH)).status).toBe(200);
    password = 'rotated';
    expect((await getWithCredentials(server, PATH)).status).toBe(401);
    expect((await getWithCredentials(server, PATH, 'rotated')).status).toBe(200);
  });

  it('in basic mode challenges with Basic only, accepts Basic credentials and refuses Digest ones', async () => {
    const { server } = await start({ authMode: () => 'basic' });
    const r = await get(server.url(PATH));
    expect(r.status).toBe(401);
    expect(r.challenges).toEqual([`Basic realm="${REALM}"`]);
    expect((await get(server.url(PATH), { authorization: basicAuthorization(USER, PASS) })).status).toBe(200);
    expect((await get(server.url(PATH), { authorization: basicAuthorization(USER, 'nope') })).status).toBe(401);
    server.setAuthMode('digest');
    const digest = await getWithCredentials(server, PATH);
    expect(digest.status).toBe(200);
    server.setAuthMode('basic');
    const state = DigestClientState.fromChallenges(parseWwwAuthenticate((await get(server.url(PATH), {})).challenges), USER, PASS);
    expect(state?.scheme).toBe('Basic');
  });

  it('in digest mode refuses Basic credentials even when they are right', async () => {
    const { server } = await start();
    expect((await get(server.url(PATH), { authorization: basicAuthorization(USER, PASS) })).status).toBe(401);
  });

  it('with the always-wrong fault refuses the right password, Digest or Basic, until the mode changes', async () => {
    const { server } = await start();
    server.setAuthMode('always-wrong');
    const digest = await getWithCredentials(server, PATH);
    expect(digest.status).toBe(401);
    expect(digest.challenges[0]).toMatch(/^Digest /);
    expect((await get(server.url(PATH), { authorization: basicAuthorization(USER, PASS) })).status).toBe(401);
    server.setAuthMode('any');
    expect((await getWithCredentials(server, PATH)).status).toBe(200);
    expect((await get(server.url(PATH), { authorization: basicAuthorization(USER, PASS) })).status).toBe(200);
  });

  it('while refusing resets open and new connections, then serves again', async () => {
    const { server } = await start();
    // A kept-alive connection that already got an answer.
    const sock = connect(server.port, '127.0.0.1');
    const answered = new Promise<void>((resolve) => sock.once('data', () => resolve()));
    const closed = new Promise<boolean>((resolve) => sock.once('close', (hadError) => resolve(hadError)));
    const errored = new Promise<string | undefined>((resolve) => sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code)));
    sock.write(`GET /${PATH} HTTP/1.1\r\nHost: camera\r\nConnection: keep-alive\r\n\r\n`);
    await answered;

    server.setRefusing(true);
    expect(await errored).toBe('ECONNRESET');
    expect(await closed).toBe(true);
    await expect(get(server.url(PATH))).rejects.toMatchObject({ code: 'ECONNRESET' });

    server.setRefusing(false);
    expect((await getWithCredentials(server, PATH)).status).toBe(200);
  }, 10_000);

  it('answers 404 for an unknown path (after auth) and 405 with Allow for other methods', async () => {
    const { server } = await start();
    expect((await get(server.url('snapshot/other.jpg'))).status).toBe(401);
    const r404 = await getWithCredentials(server, 'snapshot/other.jpg');
    expect(r404.status).toBe(404);
    const r405 = await get(server.url(PATH), { method: 'POST' });
    expect(r405.status).toBe(405);
    expect(r405.headers.allow).toBe('GET, HEAD');
  });

  it('ignores the query string, as clients add e.g. ?channel=1', async () => {
    const { server } = await start();
    const first = await get(server.url(`${PATH}?channel=1`));
    const state = DigestClientState.fromChallenges(parseWwwAuthenticate(first.challenges), USER, PASS)!;
    const r = await get(server.url(`${PATH}?channel=1`), { authorization: state.authorization('GET', `/${PATH}?channel=1`) });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
  });

  it('answers 503 with Retry-After beyond maxInFlight, and serves the ones in flight', async () => {
    const frame = cameraSource().currentFrame();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const slow: SnapshotSource = {
      currentFrame: async () => {
        calls++;
        await gate;
        return frame;
      },
    };
    const { server } = await start({ authMode: () => 'none', maxInFlight: 1, sources: () => slow });
    const first = get(server.url(PATH));
    await expect.poll(() => server.inFlight).toBe(1);
    await expect.poll(() => calls).toBe(1);
    const second = await get(server.url(PATH));
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    release();
    expect((await first).status).toBe(200);
    expect(server.inFlight).toBe(0);
    expect((await get(server.url(PATH))).status).toBe(200);
  });

  it('answers 503 while the source has no picture and 500 without details when it throws', async () => {
    const { server } = await start({
      authMode: () => 'none',
      sources: (p) => (p === 'none.jpg' ? { currentFrame: () => undefined } : { currentFrame: () => { throw new Error('secret internals'); } }),
    });
    const none = await get(server.url('none.jpg'));
    expect(none.status).toBe(503);
    expect(none.headers['retry-after']).toBe('1');
    const broken = await get(server.url('broken.jpg'));
    expect(broken.status).toBe(500);
    expect(broken.body.toString()).not.toContain('secret');
    expect(server.inFlight).toBe(0);
  });

  it('close() is idempotent, emits close once, and frees the port', async () => {
    const { server } = await start();
    let closes = 0;
    server.on('close', () => closes++);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    expect(closes).toBe(1);
    await expect(get(server.url(PATH))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
