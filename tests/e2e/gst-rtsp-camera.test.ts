/**
 * A camera nobody here wrote: GStreamer's RTSP server (gst-rtsp-server, x264, Digest auth), which
 * like any plain RTSP camera cannot make a key frame on request. The gateway pulls it, the centre
 * relays it to Chromium, and `npm run gateway -- check` grades it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../protocol/src/link/link-messages';
import { launchChromium, type Browser } from '../support/chromium';
import { startGstServer, type GstServer } from '../support/gst-rtsp-server';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack';
import { signInPage, waitForTiles } from '../support/page-stats';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USER = 'viewer';
const PASSWORD = 'gst heslo';

describe('a third-party RTSP camera (GStreamer gst-rtsp-server, x264, Digest)', () => {
  let gst: GstServer;
  let stack: InProcessStack;
  let browser: Browser;

  beforeAll(async () => {
    gst = await startGstServer({ auth: { method: 'digest', user: USER, password: PASSWORD }, size: '480x272', fps: 15, gopSeconds: 2 });
    stack = await startInProcessStack({ cameras: 1, extraCameras: [{ id: 'gst-cam', name: 'GStreamer', rtsp: { url: gst.url, username: USER, password: PASSWORD } }] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await gst?.stop();
  });

  it('is relayed by the gateway to Chromium at its real size', async () => {
    const page = await browser.context.newPage();
    await signInPage(page, `${stack.centre.url}/#/live`, stack.accounts.operator);
    const tiles = await waitForTiles(page, (ts) => ts.some((t) => t.cameraId === stack.centreId('gst-cam') && t.frames >= 30), 60_000, 'the GStreamer camera playing');
    const tile = tiles.find((t) => t.cameraId === stack.centreId('gst-cam'))!;
    expect(`${tile.width}x${tile.height}`).toBe('480x272');
    expect(tile.state).toBe('playing');
    const health = stack.gateway.camera('gst-cam')!.health();
    expect(health).toMatchObject({ state: 'streaming', events: 'none', transport: 'tcp', width: 480, height: 272 });
    await page.close();
  });

  it('is graded by `npm run gateway -- check`: H.264 480×272 at 15 fps, a 2 s GOP, no B-frames, no key frames on demand', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'gateway/src/cli.ts', 'check', gst.url, '--user', USER, '--password', PASSWORD, '--lang', 'en'], { cwd: ROOT, timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines.at(-1)!) as CheckResult;
    expect(result).toMatchObject({ codec: 'H264', width: 480, height: 272, bframes: false, keyframeOnDemand: false, audioCodec: null });
    expect(result.fps).toBeGreaterThan(13);
    expect(result.fps).toBeLessThan(17);
    expect(result.gopSeconds).toBeCloseTo(2, 0);
    expect(result.bitrateKbps).toBeGreaterThan(0);
    expect(result.grade).toBe('ready');
    expect(lines[1]).toBe('Grade: ready for live view');
  });

  it('`check` refuses a wrong password with one ERR line and exit code 1', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'gateway/src/cli.ts', 'check', gst.url, '--user', USER, '--password', 'wrong'], { cwd: ROOT, timeout: 60_000 });
    const err = (await run.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: number; stdout: string; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stdout).toBe('');
    expect(err.stderr.trim().split('\n')).toEqual(['ERR: the camera refused the user name or password']);
  });
});
