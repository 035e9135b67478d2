import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseRtp, serializeRtp } from '../../src/rtp/rtp-packet';
import { openRtspVideo, RtspClient } from '../../src/rtsp/rtsp-client';
import { RtspError } from '../../src/rtsp/rtsp-error';
import type { RtspLogger } from '../../src/rtsp/rtsp-logger';
import { RtspStreamParser } from '../../src/rtsp/rtsp-message';
import { RtspServer } from '../../src/rtsp/rtsp-server';
import { buildH264Sdp } from '../../src/sdp/sdp';
import { FakeSource, PPS, SPS, cleanups, rejection, startServer, track, waitFor } from './rtsp-test-kit';

const USERS = { alice: 'correct horse' };

/** Sends raw bytes on a fresh socket and collects everything the server sends until it closes. */
async function rawExchange(port: number, data: Buffer | string, waitMs = 2000): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  const done = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(data);
  await Promise.race([done, new Promise((r) => setTimeout(r, waitMs))]);
  socket.destroy();
  return { text: Buffer.concat(chunks).toString('latin1'), closed };
}

describe('RtspServer + RtspClient over 127.0.0.1', () => {
  it('closes a client that pipelines requests and never reads the replies, and keeps serving others', async () => {
    const { server } = await startServer();
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.pause(); // never read a reply
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    const burst = Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'.repeat(2000));
    let sent = 0;
    const writer = setInterval(() => {
      if (socket.destroyed || sent > 200) return clearInterval(writer);
      socket.write(burst);
      sent++;
    }, 5);
    await closed;
    clearInterval(writer);
    const c = track(await RtspClient.connect(server.url('cam1')));
    expect((await c.options()).statusCode).toBe(200);
  });

  it('openRtspVideo() with Digest credentials receives the RTP packets the source sends', async () => {
    const { server, source } = await startServer({ auth: { mode: 'digest', users: USERS } });
    const { client, video } = await openRtspVideo(server.url('cam1'), { username: 'alice', password: 'correct horse' });
    track(client);
    expect(video).toMatchObject({ payloadType: 96, clockRate: 90000, channel: 0, control: `${server.url('cam1')}/trackID=0` });
    expect(video.fmtp.spropParameterSets).toEqual([SPS, PPS]);
    const seqs: number[] = [];
    client.on('rtp', (channel, packet) => {
      expect(channel).toBe(0);
      const p = parseRtp(packet);
      expect(p.payloadType).toBe(96);
      expect(p.payload[0]).toBe(0x65);
      seqs.push(p.sequenceNumber);
    });
    await waitFor(() => seqs.length >= 10, 5000, '10 RTP packets');
    // In order and without gaps: TCP interleaving loses nothing for a client that keeps up.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] + 1) & 0xffff);
    expect(source.subscribers.size).toBe(1);
  });

  it('credentials in the URL userinfo work too and are not sent in the request URI', async () => {
    const { server } = await startServer({ auth: { mode: 'digest', users: USERS } });
    const url = server.url('cam1').replace('rtsp://', 'rtsp://alice:correct%20horse@');
    const { client } = await openRtspVideo(url);
    track(client);
    expect(client.url).toBe(server.url('cam1'));
  });

  it('a wrong password surfaces as RTSP_UNAUTHORIZED with status 401', async () => {
    const { server, source } = await startServer({ auth: { mode: 'digest', users: USERS } });
    const err = await rejection(openRtspVideo(server.url('cam1'), { username: 'alice', password: 'wrong' }));
    expect(err).toBeInstanceOf(RtspError);
    expect(err.code).toBe('RTSP_UNAUTHORIZED');
    expect(err.statusCode).toBe(401);
    expect(source.subscribeCalls).toBe(0);
    await waitFor(() => server.connectionCount === 0, 2000, 'the failed client to be closed');
  });

  it('Basic mode: refused unless allowed (the password would cross in the clear); allowed, the right password plays; no credentials gives RTSP_UNAUTHORIZED', async () => {
    const { server } = await startServer({ auth: { mode: 'basic', users: USERS } });
    const noCreds = await rejection(openRtspVideo(server.url('cam1')));
    expect(noCreds.code).toBe('RTSP_UNAUTHORIZED');
    const refused = await rejection(openRtspVideo(server.url('cam1'), { username: 'alice', password: 'correct horse' }));
    expect(refused.code).toBe('RTSP_BASIC_REFUSED');
    expect(server.sessionCount).toBe(0);
    const { client } = await openRtspVideo(server.url('cam1'), { username: 'alice', password: 'correct horse', allowBasic: true });
    track(client);
    let n = 0;
    client.on('rtp', () => n++);
    await waitFor(() => n >= 3, 5000, 'RTP over Basic auth');
  });

  it('an unknown path is a 404 RTSP_STATUS error', async () => {
    const { server } = await startServer();
    const err = await rejection(openRtspVideo(server.url('nope')));
    expect(err.code).toBe('RTSP_STATUS');
    expect(err.statusCode).toBe(404);
  });

  it('a session that sees no request for the timeout is torn down and its connection closed', async () => {
    const { server, source } = await startServer({ sessionTimeoutSec: 1 });
    const { client } = await openRtspVideo(server.url('cam1'), { keepaliveIntervalMs: 60_000 });
    track(client);
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    expect(source.subscribers.size).toBe(1);
    const err = await closed;
    expect(err).toBeInstanceOf(RtspError);
    expect((err as RtspError).code).toBe('RTSP_CLOSED');
    expect(source.subscribers.size).toBe(0);
    expect(server.sessionCount).toBe(0);
  });

  it('keepalives (GET_PARAMETER every timeout/2) hold the session open past its timeout, across nonce expiry', async () => {
    const { server } = await startServer({ sessionTimeoutSec: 1, nonceTtlSec: 0.4, auth: { mode: 'digest', users: USERS } });
    const { client } = await openRtspVideo(server.url('cam1'), { username: 'alice', password: 'correct horse' });
    track(client);
    let closed = false;
    client.on('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 2500));
    expect(closed).toBe(false);
    expect(server.sessionCount).toBe(1);
    await client.options(); // still answered: stale nonces were renewed transparently
  });

  it('TEARDOWN stops packets; the connection stays usable', async () => {
    const { server, source } = await startServer();
    const { client } = await openRtspVideo(server.url('cam1'));
    track(client);
    let n = 0;
    client.on('rtp', () => n++);
    await waitFor(() => n >= 3);
    await client.teardown();
    expect(source.subscribers.size).toBe(0);
    expect(server.sessionCount).toBe(0);
    const after = n;
    await new Promise((r) => setTimeout(r, 200));
    expect(n).toBe(after);
    const res = await client.options();
    expect(res.statusCode).toBe(200);
  });

  it('server close() closes every client, which emits close with an error', async () => {
    const { server, source } = await startServer();
    const a = track((await openRtspVideo(server.url('cam1'))).client);
    const b = track((await openRtspVideo(server.url('cam1'))).client);
    expect(source.subscribers.size).toBe(2);
    const errors = Promise.all([a, b].map((c) => new Promise<Error | undefined>((resolve) => c.once('close', resolve))));
    await server.close();
    await server.close(); // idempotent
    for (const err of await errors) expect(err).toBeInstanceOf(RtspError);
    expect(source.subscribers.size).toBe(0);
    await expect(a.options()).rejects.toMatchObject({ code: 'RTSP_CLOSED' });
  });

  it('client close() is idempotent and emits close without an error', async () => {
    const { server, source } = await startServer();
    const { client } = await openRtspVideo(server.url('cam1'));
    let closeArg: unknown = 'not emitted';
    client.on('close', (err) => (closeArg = err));
    await Promise.all([client.close(), client.close()]);
    await client.close();
    expect(closeArg).toBeUndefined();
    await waitFor(() => source.subscribers.size === 0, 2000, 'server to drop the subscriber');
  });

  it('connect() to a closed port rejects with RTSP_CONNECT_FAILED (no close event needed)', async () => {
    const { server } = await startServer();
    const port = server.port;
    await server.close();
    const err = await rejection(RtspClient.connect(`rtsp://127.0.0.1:${port}/cam1`));
    expect(err.code).toBe('RTSP_CONNECT_FAILED');
  });

  it('malformed clients get 400 and are disconnected while other clients keep playing', async () => {
    const { server } = await startServer();
    const { client } = await openRtspVideo(server.url('cam1'));
    track(client);
    let n = 0;
    client.on('rtp', () => n++);

    const garbage = await rawExchange(server.port, Buffer.from('\x16\x03\x01 garbage that is not RTSP at all\r\n\r\n', 'latin1'));
    expect(garbage.text).toMatch(/^RTSP\/1\.0 400 /);
    expect(garbage.closed).toBe(true);

    const huge = await rawExchange(server.port, `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Huge: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge.text).toMatch(/^RTSP\/1\.0 400 /);
    expect(huge.closed).toBe(true);

    const manyHeaders = await rawExchange(server.port, `OPTIONS * RTSP/1.0\r\n${'K: v\r\n'.repeat(300)}\r\n`);
    expect(manyHeaders.text).toMatch(/^RTSP\/1\.0 400 /);

    const bigBody = await rawExchange(server.port, 'SET_PARAMETER rtsp://127.0.0.1/cam1 RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 9999999\r\n\r\n');
    expect(bigBody.text).toMatch(/^RTSP\/1\.0 413 /);

    const noCseq = await rawExchange(server.port, 'OPTIONS * RTSP/1.0\r\n\r\n', 300);
    expect(noCseq.text).toMatch(/^RTSP\/1\.0 400 /);

    const before = n;
    await waitFor(() => n > before + 5, 3000, 'the good client to keep receiving');
    expect(server.connectionCount).toBe(1);
  });

  it('answers 461 to multicast or port-less UDP SETUP, 501 to unknown methods, 454 to a session id from another connection', async () => {
    const { server } = await startServer();
    const url = server.url('cam1');
    const multicast = await rawExchange(server.port, `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;multicast;port=5000-5001\r\n\r\n`, 300);
    expect(multicast.text).toMatch(/^RTSP\/1\.0 461 /);
    expect(multicast.text).toContain('CSeq: 1\r\n');
    const noPorts = await rawExchange(server.port, `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast\r\n\r\n`, 300);
    expect(noPorts.text).toMatch(/^RTSP\/1\.0 461 /);
    const udp = await rawExchange(server.port, `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n`, 300);
    expect(udp.text).toMatch(/^RTSP\/1\.0 200 /);
    expect(udp.text).toContain(`Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=${server.udpPorts![0]}-${server.udpPorts![1]}\r\n`);

    const unknown = await rawExchange(server.port, `FROBNICATE ${url} RTSP/1.0\r\nCSeq: 7\r\n\r\n`, 300);
    expect(unknown.text).toMatch(/^RTSP\/1\.0 501 /);

    const { client } = await openRtspVideo(url);
    track(client);
    // LIVE555 CVE-2026-41470: a Session id replayed on another connection must not reach the session.
    const hijack = await rawExchange(server.port, `TEARDOWN ${url} RTSP/1.0\r\nCSeq: 2\r\nSession: ${client.session}\r\n\r\n`, 300);
    expect(hijack.text).toMatch(/^RTSP\/1\.0 454 /);
    expect(server.sessionCount).toBe(1);
  });

  it('drops packets for a client that stops reading instead of buffering without bound', async () => {
    const warnings: string[] = [];
    const logger: RtspLogger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_f, m) => warnings.push(m) };
    const { server } = await startServer({ maxWriteBufferBytes: 256 * 1024, logger }, new FakeSource(60_000));
    const { client } = await openRtspVideo(server.url('cam1'));
    track(client);
    // Stop reading: the kernel buffers fill, then writableLength grows on the server side.
    (client as unknown as { socket: net.Socket }).socket.pause();
    await waitFor(() => warnings.includes('slow client, dropping RTP'), 15_000, 'the drop warning');
  });
});

/**
 * A scripted camera that behaves like the quirky ones: no GET_PARAMETER (501), RTP
 * in the same TCP write as the PLAY reply, a relative Content-Base, silence on demand.
 */
async function quirkyCamera(opts: { silent?: boolean } = {}): Promise<{ port: number; methods: string[] }> {
  const methods: string[] = [];
  const sdp = buildH264Sdp({ sps: SPS, pps: PPS }).replace('a=control:trackID=0', 'a=control:stream=0');
  const server = net.createServer((socket) => {
    const parser = new RtspStreamParser();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const f of parser.push(chunk).frames) {
        if (f.kind !== 'request') continue;
        methods.push(`${f.method} ${f.uri}`);
        if (opts.silent) continue;
        const cseq = f.headers.find(([k]) => k.toLowerCase() === 'cseq')?.[1] ?? '0';
        const reply = (status: string, headers: string[] = [], body = ''): string =>
          `RTSP/1.0 ${status}\r\nCSeq: ${cseq}\r\n${headers.map((h) => `${h}\r\n`).join('')}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;
        switch (f.method) {
          case 'DESCRIBE':
            socket.write(reply('200 OK', ['Content-Type: application/sdp', `Content-Base: ${f.uri}/`], sdp));
            break;
          case 'SETUP':
            // The camera picks its own channels (RFC 2326 §12.39 allows it).
            socket.write(reply('200 OK', ['Session: 4242;timeout=1', 'Transport: RTP/AVP/TCP;unicast;interleaved=6-7']));
            break;
          case 'PLAY': {
            const rtp = serializeRtp({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, csrcs: [], payload: Buffer.from([0x65, 0]) });
            const frame = Buffer.concat([Buffer.from([0x24, 6, 0, rtp.length]), rtp]);
            socket.write(Buffer.concat([Buffer.from(reply('200 OK', ['Session: 4242'])), frame, frame]));
            break;
          }
          case 'GET_PARAMETER':
            socket.write(reply('501 Not Implemented'));
            break;
          default:
            socket.write(reply('200 OK'));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, methods };
}

describe('RtspClient against a quirky camera', () => {
  it('delivers RTP that arrives in the same read as the PLAY reply, on the channels the camera chose', async () => {
    const cam = await quirkyCamera();
    const { client, video } = await openRtspVideo(`rtsp://127.0.0.1:${cam.port}/live`);
    track(client);
    expect(video.channel).toBe(6);
    expect(video.control).toBe(`rtsp://127.0.0.1:${cam.port}/live/stream=0`);
    let n = 0;
    client.on('rtp', (channel) => {
      expect(channel).toBe(6);
      n++;
    });
    await waitFor(() => n === 2, 2000, 'both RTP packets sent with the PLAY reply');
  });

  it('keepalive falls back from GET_PARAMETER to OPTIONS after a 501', async () => {
    const cam = await quirkyCamera();
    const { client } = await openRtspVideo(`rtsp://127.0.0.1:${cam.port}/live`);
    track(client);
    await waitFor(() => cam.methods.filter((m) => m.startsWith('OPTIONS')).length >= 2, 4000, 'OPTIONS keepalives');
    expect(cam.methods.filter((m) => m.startsWith('GET_PARAMETER'))).toHaveLength(1);
  });

  it('a request without a reply rejects with RTSP_TIMEOUT and leaves the client usable for close()', async () => {
    const cam = await quirkyCamera({ silent: true });
    const client = track(await RtspClient.connect(`rtsp://127.0.0.1:${cam.port}/live`, { timeoutMs: 200 }));
    const err = await rejection(client.options());
    expect(err.code).toBe('RTSP_TIMEOUT');
    await client.close();
    expect(client.isClosed).toBe(true);
  });
});

describe('RtspServer.disconnectUser', () => {
  it('cuts the playing connections of one user and leaves others running', async () => {
    const users: Record<string, string> = { alice: 'a-pass', bob: 'b-pass' };
    const { server, source } = await startServer({ auth: { mode: 'digest', users } });
    const alice = track((await openRtspVideo(server.url('cam1'), { username: 'alice', password: 'a-pass' })).client);
    const bob = track((await openRtspVideo(server.url('cam1'), { username: 'bob', password: 'b-pass' })).client);
    const aliceClosed = new Promise<Error | undefined>((resolve) => alice.once('close', resolve));
    delete users.alice;
    expect(server.disconnectUser('alice')).toBe(1);
    expect(await aliceClosed).toBeInstanceOf(RtspError);
    expect(source.subscribers.size).toBe(1);
    expect(bob.isClosed).toBe(false);
    const err = await rejection(openRtspVideo(server.url('cam1'), { username: 'alice', password: 'a-pass' }));
    expect(err.code).toBe('RTSP_UNAUTHORIZED');
  });
});

describe('lifecycle', () => {
  it('leaves no sockets, servers or timers behind once server and client are closed', async () => {
    const count = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (/TCP|UDP|Timeout|Immediate/.test(r)) out[r] = (out[r] ?? 0) + 1;
      return out;
    };
    await new Promise((r) => setTimeout(r, 50));
    const baseline = count();
    const source = new FakeSource();
    const server = await RtspServer.create({ resolve: () => source, sessionTimeoutSec: 30 });
    const { client } = await openRtspVideo(server.url('cam1'));
    const udpClient = await openRtspVideo(server.url('cam1'), { transport: 'udp' });
    await new Promise((r) => setTimeout(r, 100));
    await client.close();
    await udpClient.client.close();
    await server.setRefusing(true);
    await server.setRefusing(false);
    await server.close();
    source.stop();
    await new Promise((r) => setTimeout(r, 50));
    const after = count();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(baseline[kind] ?? 0);
  });
});
