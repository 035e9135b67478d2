import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtspServer } from '../../protocol/src/rtsp/rtsp-server';
import { buildH264Sdp } from '../../protocol/src/sdp/sdp';
import { serializeRtp } from '../../protocol/src/rtp/rtp-packet';
import { SyntheticH264Encoder } from '../../protocol/src/h264/encoder/synthetic-encoder';
import { launchChromium, type Browser } from '../support/chromium';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { CentreClient } from '../../control-center/test/support/api-client';

/** An RTSP camera whose DESCRIBE is fine but whose RTP carries NAL type 30 (undefined in RFC 6184). */
async function malformedRtpCamera(): Promise<RtspServer> {
  const enc = new SyntheticH264Encoder({ width: 320, height: 180, fps: 10, gopSeconds: 1, name: 'bad' });
  return RtspServer.create({
    resolve: () => ({
      describe: () => buildH264Sdp({ sps: enc.sps, pps: enc.pps }),
      subscribe: (_tracks, onRtp) => {
        let seq = 0;
        const timer = setInterval(() => {
          onRtp(0, serializeRtp({ marker: true, payloadType: 96, sequenceNumber: seq++, timestamp: seq * 9000, ssrc: 7, csrcs: [], payload: Buffer.from([0x7e, 1, 2, 3]) }));
        }, 100);
        return () => clearInterval(timer);
      },
    }),
  });
}

/** A TCP server that answers every RTSP request with garbage. */
async function garbageRtspCamera(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', () => s.write('HELLO THIS IS NOT RTSP\r\n\r\n'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('a camera sending bad input', () => {
  let stack: InProcessStack;
  let browser: Browser;
  let badRtp: RtspServer;
  let garbage: { port: number; close(): Promise<void> };

  beforeAll(async () => {
    badRtp = await malformedRtpCamera();
    garbage = await garbageRtspCamera();
    stack = await startInProcessStack({
      cameras: 1,
      lingerMs: 200,
      extraCameras: [
        { id: 'bad-rtp', name: 'Bad RTP', rtsp: { url: badRtp.url('main') } },
        { id: 'bad-rtsp', name: 'Bad RTSP', rtsp: { url: `rtsp://127.0.0.1:${garbage.port}/main` } },
      ],
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await badRtp?.close();
    await garbage?.close();
  });

  it('is marked failing with its reason while the gateway keeps serving the other cameras', async () => {
    const page = await browser.context.newPage();
    await signInPage(page, `${stack.centre.url}/#/live`, stack.accounts.operator);
    const operator = await CentreClient.signIn(stack.centre.url, stack.accounts.operator.username, stack.accounts.operator.password);
    const good = stack.centreId(stack.fleet.info().cameras[0].id);
    const badRtp = stack.centreId('bad-rtp');
    const badRtsp = stack.centreId('bad-rtsp');
    await waitForTiles(page, (ts) => ts.some((t) => t.cameraId === good && t.frames >= 15), 30_000, 'the good camera playing');

    const deadline = Date.now() + 20_000;
    let cams: { id: string; state: string; reason: string | null }[] = [];
    while (Date.now() < deadline) {
      cams = (await operator.get<{ cameras: typeof cams }>('/api/cameras')).body.cameras;
      const bad = cams.filter((c) => c.id === badRtp || c.id === badRtsp);
      if (bad.length === 2 && bad.every((c) => c.state === 'failing')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const byId = new Map(cams.map((c) => [c.id, c]));
    expect(byId.get(badRtp)?.state).toBe('failing');
    expect(byId.get(badRtp)?.reason).toMatch(/malformed RTP/);
    expect(byId.get(badRtsp)?.state).toBe('failing');
    expect(byId.get(badRtsp)?.reason).toMatch(/RTSP|status line|response/i);

    // The good camera goes on playing.
    const before = (await tileStats(page)).find((t) => t.cameraId === good)!.frames;
    await page.waitForTimeout(1500);
    const after = (await tileStats(page)).find((t) => t.cameraId === good)!.frames;
    expect(after - before).toBeGreaterThanOrEqual(10);
    expect(byId.get(good)?.state).toBe('streaming');
    await page.close();
  });
});
