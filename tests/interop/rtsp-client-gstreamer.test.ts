/**
 * Our RtspClient against GStreamer's RTSP server (gst-rtsp-server through python3-gi),
 * with Digest and Basic auth, over TCP interleaving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtp } from '@schoolcam/protocol/rtp/rtp-packet';
import { openRtspVideo, type RtspClient } from '@schoolcam/protocol/rtsp/rtsp-client';
import { RtspError } from '@schoolcam/protocol/rtsp/rtsp-error';
import { startGstServer as startServer, type GstServer } from '../support/gst-rtsp-server';

const USER = 'gateway';
const PASSWORD = 'pa ss';

const servers: GstServer[] = [];
const clients: RtspClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.stop();
});

/** Starts gst-rtsp-server.py and resolves with the port it printed. */
async function startGstServer(auth: 'digest' | 'basic'): Promise<number> {
  const server = await startServer({ auth: { method: auth, user: USER, password: PASSWORD } });
  servers.push(server);
  return server.port;
}

async function receiveH264(auth: 'digest' | 'basic'): Promise<void> {
  const port = await startGstServer(auth);
  const { client, video } = await openRtspVideo(`rtsp://127.0.0.1:${port}/cam`, { username: USER, password: PASSWORD, allowBasic: auth === 'basic' });
  clients.push(client);
  expect(video.payloadType).toBe(96);
  expect(video.clockRate).toBe(90000);
  expect(video.fmtp.packetizationMode).toBe(1);
  const nalTypes = new Set<number>();
  let packets = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${packets} RTP packets in 15 s`)), 15_000);
    client.on('close', (err) => reject(err ?? new Error('closed')));
    client.on('rtp', (channel, buf) => {
      expect(channel).toBe(video.channel);
      const p = parseRtp(buf);
      expect(p.payloadType).toBe(96);
      const t = p.payload[0] & 0x1f;
      // RFC 6184 §5.4: single NAL (1-23), STAP-A (24) or FU-A (28) in packetization-mode 1.
      expect(t === 24 || t === 28 || (t >= 1 && t <= 23)).toBe(true);
      nalTypes.add(t === 28 ? p.payload[1] & 0x1f : t);
      if (++packets >= 30) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  expect(packets).toBeGreaterThanOrEqual(30);
  // Coded slices, not just parameter sets.
  expect([...nalTypes].some((t) => t === 1 || t === 5)).toBe(true);
}

describe('our RtspClient with GStreamer RTSP server', () => {
  it('receives ≥ 30 H.264 RTP packets with Digest auth', async () => {
    await receiveH264('digest');
  });

  it('receives ≥ 30 H.264 RTP packets with Basic auth', async () => {
    await receiveH264('basic');
  });

  it('a wrong password is RTSP_UNAUTHORIZED', async () => {
    const port = await startGstServer('digest');
    const err = await openRtspVideo(`rtsp://127.0.0.1:${port}/cam`, { username: USER, password: 'nope' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RtspError);
    expect((err as RtspError).code).toBe('RTSP_UNAUTHORIZED');
  });
});
