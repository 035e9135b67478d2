/**
 * The gateway's camera adapters against the simulator, with the faults real cameras show: a clock
 * that jumps, chunked SOAP replies, a stream URI naming another host, Basic-only RTSP, and RTSP
 * servers that refuse UDP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { RtspCameraSource } from '../../gateway/src/camera/rtsp-camera-source';
import { CameraSourceError } from '../../gateway/src/camera/camera-source';
import { OnvifCamera, OnvifPullPoint } from '../../gateway/src/onvif/onvif-client';
import { SyntheticH264Encoder } from '../../protocol/src/h264/encoder/synthetic-encoder';
import { H264Packetizer } from '../../protocol/src/h264/packetizer';
import { RtpSequencer } from '../../protocol/src/rtp/rtp-sequencer';
import { RtspServer } from '../../protocol/src/rtsp/rtsp-server';
import { buildH264Sdp } from '../../protocol/src/sdp/sdp';
import { simControl } from '../support/gateway-kit';

const log = pino({ level: 'silent' });
let fleet: Fleet;
let cam: SimCameraInfo;
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  fleet = await Fleet.create({ spec: generatedFleet(1, 1, { gopSeconds: 1 }), discoveryInterface: 'none', logger: log });
  cam = fleet.info().cameras[0];
});
afterAll(async () => {
  await fleet?.close();
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await simControl(cam.control, 'faults', {}, 'DELETE');
});

/**
 * An HTTP proxy in front of the simulator's ONVIF server on another loopback address, re-sending
 * every reply with `Transfer-Encoding: chunked` (as some firmware and every Node server does by default).
 */
async function chunkingProxy(target: string, host = '127.0.0.2'): Promise<{ xaddr: string; chunked: () => number }> {
  const t = new URL(target);
  let chunked = 0;
  const server = http.createServer((req, res) => {
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
      const headers = { ...upRes.headers };
      delete headers['content-length'];
      res.writeHead(upRes.statusCode ?? 502, headers); // no length: Node chunks it
      upRes.on('data', (c: Buffer) => res.write(c));
      upRes.on('end', () => {
        if (res.getHeader('transfer-encoding') === 'chunked' || !res.hasHeader('content-length')) chunked++;
        res.end();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return { xaddr: `http://${host}:${(server.address() as AddressInfo).port}${t.pathname}`, chunked: () => chunked };
}

describe('ONVIF adapter hardening', () => {
  it('re-reads the camera clock when it jumps mid-session, so its UsernameTokens are accepted again', async () => {
    const camera = await OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password });
    closers.push(() => camera.close());
    expect(Math.abs(camera.clockOffsetMs)).toBeLessThan(2000);
    // The camera's clock resets (a reboot with a flat RTC battery): ten minutes is outside the ±5 min window.
    await simControl(cam.control, 'faults/clock-skew', { offsetMs: -600_000 });
    await camera.setSynchronizationPoint(camera.profiles[0].token);
    expect(camera.clockOffsetMs).toBeLessThan(-595_000);
  });

  it('works with a camera in digest-only mode (HTTP Digest instead of WS-UsernameToken)', async () => {
    await simControl(cam.control, 'faults/auth', { mode: 'digest-only' });
    const camera = await OnvifCamera.connect({ xaddr: cam.onvif, username: cam.username, password: cam.password });
    closers.push(() => camera.close());
    expect(camera.profiles.map((p) => p.token)).toEqual(['main', 'sub']);
    await camera.setSynchronizationPoint('main');
    const pp = await OnvifPullPoint.create({ xaddr: cam.onvif, username: cam.username, password: cam.password });
    closers.push(() => pp.close());
    expect(pp.expiresAt).toBeGreaterThan(Date.now() + 60_000);
  });

  it('accepts chunked SOAP replies, and pins stream URIs to the host it reached the camera at', async () => {
    const proxy = await chunkingProxy(cam.onvif);
    const camera = await OnvifCamera.connect({ xaddr: proxy.xaddr, username: cam.username, password: cam.password });
    closers.push(() => camera.close());
    expect(proxy.chunked()).toBeGreaterThan(3);
    // The camera names 127.0.0.1 in GetStreamUri; its credentials go only to the host we were given.
    const simUri = new URL(cam.rtsp);
    for (const p of camera.profiles) {
      const u = new URL(p.rtspUri);
      expect(u.hostname).toBe('127.0.0.2');
      expect(u.port).toBe(simUri.port);
      expect(u.username).toBe('');
    }
  });
});

describe('RTSP sources', () => {
  it('refuse a camera offering only RTSP Basic unless its config allows it', async () => {
    await simControl(cam.control, 'faults/auth', { mode: 'basic-only' });
    const rtsp = { url: cam.rtsp, username: cam.username, password: cam.password };
    const refused = await RtspCameraSource.open({ id: 'c', name: 'c', rtsp }, log).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CameraSourceError);
    expect((refused as CameraSourceError).kind).toBe('auth');
    expect((refused as CameraSourceError).message).toMatch(/only Basic/);
    const source = await RtspCameraSource.open({ id: 'c', name: 'c', rtsp, allowBasicAuth: true }, log);
    closers.push(() => source.close());
    await new Promise<void>((resolve) => source.once('frame', () => resolve()));
  });

  it('pull over UDP when asked, and fall back to TCP when the camera refuses UDP (461)', async () => {
    const rtsp = { url: cam.rtsp, username: cam.username, password: cam.password };
    const udp = await RtspCameraSource.open({ id: 'c', name: 'c', rtsp, transport: 'udp' }, log);
    closers.push(() => udp.close());
    expect(udp.transport).toBe('udp');
    await new Promise<void>((resolve) => udp.once('frame', () => resolve()));

    const enc = new SyntheticH264Encoder({ width: 320, height: 180, fps: 10, gopSeconds: 1, name: 'tcp only' });
    const server = await RtspServer.create({
      udp: false,
      resolve: () => ({
        describe: () => buildH264Sdp({ sps: enc.sps, pps: enc.pps }),
        subscribe: (_tracks, onRtp) => {
          const pack = new H264Packetizer();
          const seq = new RtpSequencer(96);
          let n = 0;
          const timer = setInterval(() => {
            const frame = enc.encode(Date.now());
            for (const p of seq.packets(pack.packetize(frame.nalus), n++ * 9000)) onRtp(0, p);
          }, 100);
          return () => clearInterval(timer);
        },
      }),
    });
    closers.push(() => server.close());
    const tcp = await RtspCameraSource.open({ id: 'd', name: 'd', rtsp: { url: server.url('cam') }, transport: 'udp' }, log);
    closers.push(() => tcp.close());
    expect(tcp.transport).toBe('tcp');
    await new Promise<void>((resolve) => tcp.once('frame', () => resolve()));
  });
});
