/**
 * RtspServer's UDP unicast transport and its fault hooks (the device simulator's
 * "camera misbehaves" switches), each observed through RtspClient on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import { parseRtp } from '../../src/rtp/rtp-packet';
import { openRtspVideo, RtspClient } from '../../src/rtsp/rtsp-client';
import { RtspError } from '../../src/rtsp/rtsp-error';
import { cleanups, rejection, startServer, track, waitFor } from './rtsp-test-kit';

const USERS = { alice: 'correct horse' };
const CREDS = { username: 'alice', password: 'correct horse' };
/** An RTCP receiver report with no report blocks (RFC 3550 §6.4.2), SSRC 0x11223344. */
const RTCP_RR = Buffer.from('80c9000111223344', 'hex');


function countRtp(client: RtspClient): () => number {
  let n = 0;
  client.on('rtp', () => n++);
  return () => n;
}

describe('RtspServer RTP over UDP unicast', () => {
  it('SETUP with client_port gets server_port and the RTP arrives by UDP, in order', async () => {
    const { server, source } = await startServer({ auth: { mode: 'digest', users: USERS } });
    const { client, video } = await openRtspVideo(server.url('cam1'), { ...CREDS, transport: 'udp' });
    track(client);
    const seqs: number[] = [];
    client.on('rtp', (channel, packet) => {
      expect(channel).toBe(video.channel);
      seqs.push(parseRtp(packet).sequenceNumber);
    });
    await waitFor(() => seqs.length >= 10, 5000, '10 RTP packets over UDP');
    // Loopback UDP at this rate loses nothing; a gap would mean a server-side bug.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] + 1) & 0xffff);
    expect(source.subscribers.size).toBe(1);
    expect(server.udpPorts![0] % 2).toBe(0);
    expect(server.udpPorts![1]).toBe(server.udpPorts![0] + 1);
  });

  it('RTCP receiver reports alone keep a UDP session alive past its timeout; without them it expires', async () => {
    const { server } = await startServer({ sessionTimeoutSec: 1 });
    // No RTSP keepalives from either client: only RTCP can keep a session alive.
    const withRtcp = track((await openRtspVideo(server.url('cam1'), { transport: 'udp', keepaliveIntervalMs: 3_600_000 })).client);
    const silent = track((await openRtspVideo(server.url('cam1'), { transport: 'udp', keepaliveIntervalMs: 3_600_000 })).client);
    const received = countRtp(withRtcp);
    const rr = setInterval(() => withRtcp.sendRtcp(0, RTCP_RR), 250);
    cleanups.push(() => clearInterval(rr));
    await new Promise((r) => setTimeout(r, 2500));
    expect(silent.isClosed).toBe(true);
    expect(withRtcp.isClosed).toBe(false);
    expect(server.sessionCount).toBe(1);
    const before = received();
    await waitFor(() => received() > before + 5, 2000, 'RTP still arriving');
  });

  it('TEARDOWN stops the UDP packets and the client releases its ports on close', async () => {
    const { server, source } = await startServer();
    const { client } = await openRtspVideo(server.url('cam1'), { transport: 'udp' });
    track(client);
    const received = countRtp(client);
    await waitFor(() => received() > 3, 2000, 'RTP');
    await client.teardown();
    expect(source.subscribers.size).toBe(0);
    expect(server.sessionCount).toBe(0);
  });
});

describe('RtspServer fault hooks', () => {
  it("setAuthMode('always-wrong') answers 401 to the right password; back to digest it plays; basic and none work", async () => {
    const { server } = await startServer({ auth: { mode: 'digest', users: USERS } });
    server.setAuthMode('always-wrong');
    expect(server.currentAuthMode).toBe('always-wrong');
    const err = await rejection(openRtspVideo(server.url('cam1'), CREDS));
    expect(err).toBeInstanceOf(RtspError);
    expect(err.code).toBe('RTSP_UNAUTHORIZED');
    expect(err.statusCode).toBe(401);

    server.setAuthMode('digest');
    track((await openRtspVideo(server.url('cam1'), CREDS)).client);

    server.setAuthMode('basic');
    const refused = await rejection(openRtspVideo(server.url('cam1'), CREDS));
    expect(refused.code).toBe('RTSP_BASIC_REFUSED');
    track((await openRtspVideo(server.url('cam1'), { ...CREDS, allowBasic: true })).client);
    const noCreds = await rejection(openRtspVideo(server.url('cam1')));
    expect(noCreds.code).toBe('RTSP_UNAUTHORIZED');

    server.setAuthMode('none');
    track((await openRtspVideo(server.url('cam1'))).client);
  });

  it('dropSessions() closes the connection of every playing client and keeps sessionless ones', async () => {
    const { server, source } = await startServer();
    const tcp = track((await openRtspVideo(server.url('cam1'))).client);
    const udp = track((await openRtspVideo(server.url('cam1'), { transport: 'udp' })).client);
    const idle = track(await RtspClient.connect(server.url('cam1')));
    await idle.options();
    const closes = [tcp, udp].map((c) => new Promise<Error | undefined>((resolve) => c.once('close', resolve)));

    expect(server.dropSessions()).toBe(2);
    const errors = await Promise.all(closes);
    for (const e of errors) expect((e as RtspError).code).toBe('RTSP_CLOSED');
    expect(source.subscribers.size).toBe(0);
    expect(server.sessionCount).toBe(0);
    expect(idle.isClosed).toBe(false);
    await idle.options();
    // The server is not harmed: a new client plays.
    track((await openRtspVideo(server.url('cam1'))).client);
  });

  it('setMalformed(true) makes RtspClient reject with RTSP_BAD_RESPONSE; the server keeps serving and recovers when off', async () => {
    const { server } = await startServer({ auth: { mode: 'digest', users: USERS } });
    const playing = track((await openRtspVideo(server.url('cam1'), CREDS)).client);
    const received = countRtp(playing);

    server.setMalformed(true);
    expect(server.isMalformed).toBe(true);
    const client = track(await RtspClient.connect(server.url('cam1'), CREDS));
    const err = await rejection(client.describe());
    expect(err).toBeInstanceOf(RtspError);
    expect(err.code).toBe('RTSP_BAD_RESPONSE');
    await waitFor(() => client.isClosed, 2000, 'the client to drop the broken connection');
    const viaOpen = await rejection(openRtspVideo(server.url('cam1'), CREDS));
    expect(viaOpen.code).toBe('RTSP_BAD_RESPONSE');
    // Media of a session set up before the fault still flows.
    const before = received();
    await waitFor(() => received() > before + 5, 2000, 'RTP to the earlier client');

    server.setMalformed(false);
    track((await openRtspVideo(server.url('cam1'), CREDS)).client);
  });

  it('setRefusing(true) closes every connection and refuses connects; off serves the same URL again', async () => {
    const { server, source } = await startServer();
    const url = server.url('cam1');
    const playing = track((await openRtspVideo(url)).client);
    const closed = new Promise<Error | undefined>((resolve) => playing.once('close', resolve));

    await server.setRefusing(true);
    expect(server.isRefusing).toBe(true);
    expect(((await closed) as RtspError).code).toBe('RTSP_CLOSED');
    expect(source.subscribers.size).toBe(0);
    const refused = await rejection(RtspClient.connect(url));
    expect(refused.code).toBe('RTSP_CONNECT_FAILED');
    expect((refused.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    await server.setRefusing(false);
    expect(server.isRefusing).toBe(false);
    expect(server.url('cam1')).toBe(url);
    const again = track((await openRtspVideo(url)).client);
    const received = countRtp(again);
    await waitFor(() => received() > 3, 2000, 'RTP after the reboot');
  });

  it('close() while refusing resolves, and setRefusing after close() does nothing', async () => {
    const { server } = await startServer();
    await server.setRefusing(true);
    await server.close();
    await server.setRefusing(false);
    expect((await rejection(RtspClient.connect(server.url('cam1')))).code).toBe('RTSP_CONNECT_FAILED');
  });
});
