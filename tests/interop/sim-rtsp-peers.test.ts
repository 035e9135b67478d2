/**
 * The simulator camera's RTSP server against real clients nobody here wrote:
 * ffprobe and GStreamer's rtspsrc, each over TCP interleaving and over UDP unicast,
 * on both profiles; plus the fault hooks a simulated camera exposes, observed by
 * ffprobe and by our own RtspClient.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRtspVideo, RtspClient } from '@schoolcam/protocol/rtsp/rtsp-client';
import { RtspError } from '@schoolcam/protocol/rtsp/rtsp-error';
import { SimCamera } from '../../device-sim/src/camera/sim-camera';
import { PYTHON, gstDecode } from '../support/gst-rtspsrc';
import { expectSessionsEndAfterEachTest } from '../support/sessions-ended';

const execFileP = promisify(execFile);
const WIDTH = 640;
const HEIGHT = 360;

/** Fails (not skips) with an actionable message when a peer tool is missing. */
function requireTool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} is required by this interop test but could not run (${r.error?.message ?? r.stderr.slice(0, 200)}); run \`npm run test:deps\``);
  }
}

let camera: SimCamera;

beforeAll(async () => {
  requireTool('ffprobe', ['-version']);
  requireTool('gst-launch-1.0', ['--version']);
  requireTool(PYTHON, ['-c', "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); assert Gst.ElementFactory.find('rtspsrc') and Gst.ElementFactory.find('avdec_h264')"]);
  camera = await SimCamera.create({ id: 'cam-rtsp', name: 'Gym', school: 'school-1', width: WIDTH, height: HEIGHT, fps: 15, gopSeconds: 1, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await camera?.close();
});

expectSessionsEndAfterEachTest('RTSP session and stream client of the camera', () => camera.rtsp.sessionCount + camera.main.clients + camera.sub.clients);

function urlOf(profile: 'main' | 'sub', password = camera.info().password): string {
  const { username } = camera.info();
  return camera.rtsp.url(profile).replace('rtsp://', `rtsp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@`);
}

async function ffprobe(url: string, transport: 'tcp' | 'udp'): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return execFileP('ffprobe', ['-v', 'error', '-rtsp_transport', transport, '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url], { timeout: 20_000 }).then(
    ({ stdout, stderr }) => ({ ok: true, stdout, stderr }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
}


describe('simulator camera RTSP with ffprobe and GStreamer', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`ffprobe -rtsp_transport ${transport} sees H.264 at the main profile's size, and a smaller sub profile`, async () => {
      const main = await ffprobe(urlOf('main'), transport);
      expect(main.ok, main.stderr).toBe(true);
      const mainStreams = (JSON.parse(main.stdout) as { streams: Array<Record<string, unknown>> }).streams;
      expect(mainStreams).toEqual([{ codec_name: 'h264', width: WIDTH, height: HEIGHT }]);
      const sub = await ffprobe(urlOf('sub'), transport);
      expect(sub.ok, sub.stderr).toBe(true);
      const [subStream] = (JSON.parse(sub.stdout) as { streams: Array<{ codec_name: string; width: number; height: number }> }).streams;
      expect(subStream?.codec_name).toBe('h264');
      expect(subStream.width).toBeLessThan(WIDTH);
    });

    it(`GStreamer rtspsrc protocols=${transport} decodes 60 frames of each profile, then PAUSE and TEARDOWN get answered`, async () => {
      const { username, password } = camera.info();
      for (const profile of ['main', 'sub'] as const) {
        const { code, output } = await gstDecode(camera.rtsp.url(profile), transport, username, password);
        expect(output).toContain('Got EOS');
        expect(output).toContain('complete request: Sent PAUSE request');
        expect(output).toContain('closed cleanly');
        expect(output).not.toMatch(/ERROR/);
        expect(code, output).toBe(0);
      }
    });
  }

  it('ffprobe with a wrong password is refused with 401', async () => {
    const r = await ffprobe(urlOf('main', 'not-the-password'), 'tcp');
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/401/);
  });

});

describe('simulator camera RTSP faults seen by clients', () => {
  it("auth mode always-wrong: ffprobe and RtspClient get 401 with the right password; 'digest' restores access", async () => {
    camera.rtsp.setAuthMode('always-wrong');
    try {
      const r = await ffprobe(urlOf('main'), 'tcp');
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/401/);
      const { username, password } = camera.info();
      const err = await openRtspVideo(camera.rtsp.url('main'), { username, password }).then(
        () => undefined,
        (e: unknown) => e as RtspError,
      );
      expect(err?.code).toBe('RTSP_UNAUTHORIZED');
      expect(err?.statusCode).toBe(401);
    } finally {
      camera.rtsp.setAuthMode('digest');
    }
    expect((await ffprobe(urlOf('main'), 'tcp')).ok).toBe(true);
  });

  it('dropSessions: the TCP connections of a playing TCP client and a playing UDP client close', async () => {
    const { username, password } = camera.info();
    const clients = await Promise.all(
      (['tcp', 'udp'] as const).map(async (transport) => (await openRtspVideo(camera.rtsp.url('main'), { username, password, transport })).client),
    );
    try {
      const closes = clients.map((c) => new Promise<Error | undefined>((resolve) => c.once('close', resolve)));
      let packets = 0;
      for (const c of clients) c.on('rtp', () => packets++);
      while (packets < 10) await new Promise((r) => setTimeout(r, 20));
      expect(camera.rtsp.dropSessions()).toBe(2);
      for (const err of await Promise.all(closes)) expect((err as RtspError).code).toBe('RTSP_CLOSED');
      expect(camera.main.clients).toBe(0);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('malformed replies: RtspClient rejects with RTSP_BAD_RESPONSE, ffprobe fails; both play again once off', async () => {
    const { username, password } = camera.info();
    camera.rtsp.setMalformed(true);
    try {
      const client = await RtspClient.connect(camera.rtsp.url('main'), { username, password });
      const err = await client.describe().then(
        () => undefined,
        (e: unknown) => e as RtspError,
      );
      await client.close();
      expect(err).toBeInstanceOf(RtspError);
      expect(err?.code).toBe('RTSP_BAD_RESPONSE');
      expect((await ffprobe(urlOf('main'), 'tcp')).ok).toBe(false);
    } finally {
      camera.rtsp.setMalformed(false);
    }
    const { client } = await openRtspVideo(camera.rtsp.url('main'), { username, password });
    await client.close();
    expect((await ffprobe(urlOf('main'), 'udp')).ok).toBe(true);
  });

  it('refusing (reboot): connects get ECONNREFUSED, then the same URL plays again for ffprobe', async () => {
    const url = camera.rtsp.url('main');
    await camera.rtsp.setRefusing(true);
    try {
      const refused = await RtspClient.connect(url).then(
        () => undefined,
        (e: unknown) => e as RtspError,
      );
      expect(refused?.code).toBe('RTSP_CONNECT_FAILED');
      expect((refused?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
      const r = await ffprobe(urlOf('main'), 'tcp');
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/refused/i);
    } finally {
      await camera.rtsp.setRefusing(false);
    }
    expect(camera.rtsp.url('main')).toBe(url);
    const again = await ffprobe(urlOf('main'), 'tcp');
    expect(again.ok, again.stderr).toBe(true);
  });
});
