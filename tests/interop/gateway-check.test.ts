/**
 * `check` against real encoders: GStreamer's RTSP server with x264 (B-frames on, as a camera's
 * "smart codec" mode leaves them; AAC sound) and the simulator's ONVIF cameras (digest-only mode,
 * a skewed clock). What school IT would be told, read from the result.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { checkCamera } from '../../gateway/src/check/camera-check';
import { GatewayError } from '../../gateway/src/errors';
import { simControl } from '../support/gateway-kit';
import { startGstServer, type GstServer } from '../support/gst-rtsp-server';

const servers: GstServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

describe('check against GStreamer (x264)', () => {
  it('finds B-frames and AAC sound, and grades the camera not supported, saying what to change', async () => {
    const gst = await startGstServer({ bframes: 2, aac: true, gopSeconds: 1 });
    servers.push(gst);
    const r = await checkCamera({ url: gst.url });
    expect(r).toMatchObject({ codec: 'H264', bframes: true, audioCodec: 'AAC', grade: 'not_supported', width: 320, height: 240 });
    expect(r.reasons.map((x) => x.code)).toEqual(['BFRAMES', 'AUDIO_AAC']);
    expect(r.reasons[0].en).toMatch(/Turn B-frames off/);
  });

  it('refuses a camera that offers only Basic auth unless allowed, and grades it when allowed', async () => {
    const gst = await startGstServer({ auth: { method: 'basic', user: 'u', password: 'p' } });
    servers.push(gst);
    const refused = await checkCamera({ url: gst.url, username: 'u', password: 'p' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).code).toBe('AUTH');
    expect((refused as GatewayError).message).toMatch(/only Basic/);
    const allowed = await checkCamera({ url: gst.url, username: 'u', password: 'p', allowBasic: true });
    expect(allowed.codec).toBe('H264');
  });
});

describe('check against simulated ONVIF cameras', () => {
  let fleet: Fleet;
  let cam: SimCameraInfo;
  beforeAll(async () => {
    fleet = await Fleet.create({ spec: generatedFleet(1, 1, { gopSeconds: 1 }), discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
    cam = fleet.info().cameras[0];
  });
  afterAll(async () => {
    await fleet?.close();
  });
  afterEach(async () => {
    await simControl(cam.control, 'faults', {}, 'DELETE');
  });

  it('grades a camera in digest-only mode whose clock is 10 minutes off', async () => {
    await simControl(cam.control, 'faults/auth', { mode: 'digest-only' });
    await simControl(cam.control, 'faults/clock-skew', { offsetMs: 600_000 });
    const r = await checkCamera({ url: cam.onvif, username: cam.username, password: cam.password });
    expect(r).toMatchObject({ codec: 'H264', width: 640, height: 360, keyframeOnDemand: true, grade: 'ready' });
  });

  it('says the login was refused, the camera unreachable, or the URL wrong, with typed errors', async () => {
    const codeOf = (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: unknown) => (e instanceof GatewayError ? e.code : String(e)));
    expect(await codeOf(checkCamera({ url: cam.onvif, username: cam.username, password: 'nope' }))).toBe('AUTH');
    expect(await codeOf(checkCamera({ url: 'http://127.0.0.1:1/onvif/device_service', username: 'a', password: 'b', timeoutMs: 2000 }))).toBe('UNREACHABLE');
    expect(await codeOf(checkCamera({ url: 'ftp://camera/' }))).toBe('BAD_REQUEST');
    expect(await codeOf(checkCamera({ url: cam.rtsp.replace('/main', '/nothing'), username: cam.username, password: cam.password }))).toBe('NOT_FOUND');
  });
});
