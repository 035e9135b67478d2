/**
 * Our RtspServer against real RTSP clients nobody here wrote: FFmpeg's (ffprobe,
 * ffmpeg) and GStreamer's rtspsrc, over TCP interleaving and UDP unicast with Digest auth.
 * The media is a real x264 clip generated at test time, looped at 15 fps.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, splitAnnexB } from '@schoolcam/protocol/h264/nal';
import { H264Packetizer } from '@schoolcam/protocol/h264/packetizer';
import { serializeRtp } from '@schoolcam/protocol/rtp/rtp-packet';
import { RtspServer, type RtspMediaSource } from '@schoolcam/protocol/rtsp/rtsp-server';
import { buildH264Sdp } from '@schoolcam/protocol/sdp/sdp';
import { PYTHON, gstDecode } from '../support/gst-rtspsrc';
import { expectSessionsEndAfterEachTest } from '../support/sessions-ended';

const execFileP = promisify(execFile);
const FPS = 15;
const USER = 'officer';
const PASSWORD = 's3cret pw';

/** Fails (not skips) with an actionable message when a peer tool is missing. */
function requireTool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} is required by this interop test but could not run (${r.error?.message ?? r.stderr.slice(0, 200)}); run npm run test:deps`);
  }
}


/** Groups NAL units into access units: a new one starts at AUD/SPS/PPS/SEI after a slice, or at a slice with first_mb_in_slice = 0. */
function accessUnits(nalus: Buffer[]): Buffer[][] {
  const units: Buffer[][] = [];
  let current: Buffer[] = [];
  let hasSlice = false;
  for (const nal of nalus) {
    const t = nalType(nal);
    const isSlice = t >= 1 && t <= 5;
    // first_mb_in_slice is ue(v); a leading 1 bit means 0, i.e. the first slice of a picture.
    const startsPicture = isSlice && (nal[1] & 0x80) !== 0;
    const startsNew = hasSlice && (startsPicture || t === NalType.Aud || t === NalType.Sps || t === NalType.Pps || t === NalType.Sei);
    if (startsNew) {
      units.push(current);
      current = [];
      hasSlice = false;
    }
    current.push(nal);
    if (isSlice) hasSlice = true;
  }
  if (current.length > 0) units.push(current);
  return units;
}

/** Loops a clip at 15 fps for each subscriber, each starting from the first (IDR) frame. */
class LoopingClip implements RtspMediaSource {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly units: Buffer[][],
    private readonly sps: Buffer,
    private readonly pps: Buffer,
  ) {}

  describe(): string {
    return buildH264Sdp({ sps: this.sps, pps: this.pps, sessionName: 'interop' });
  }

  subscribe(_trackIds: number[], onRtp: (trackId: number, packet: Buffer) => void): () => void {
    const packetizer = new H264Packetizer();
    let frame = 0;
    let seq = Math.floor(Math.random() * 65536);
    const ssrc = Math.floor(Math.random() * 0xffffffff);
    const timer = setInterval(() => {
      const payloads = packetizer.packetize(this.units[frame % this.units.length]);
      const timestamp = (frame * (90000 / FPS)) >>> 0;
      payloads.forEach((payload, i) => {
        onRtp(0, serializeRtp({ marker: i === payloads.length - 1, payloadType: 96, sequenceNumber: seq++ & 0xffff, timestamp, ssrc, csrcs: [], payload }));
      });
      frame++;
    }, 1000 / FPS);
    this.timers.add(timer);
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  get activeSubscribers(): number {
    return this.timers.size;
  }
}

let server: RtspServer;
let clip: LoopingClip;

beforeAll(async () => {
  requireTool('ffmpeg', ['-version']);
  requireTool('ffprobe', ['-version']);
  requireTool(PYTHON, ['-c', "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); assert Gst.ElementFactory.find('rtspsrc') and Gst.ElementFactory.find('avdec_h264')"]);
  const { stdout } = await execFileP(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${FPS}`, '-t', '4', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-profile:v', 'baseline', '-g', '15', '-bf', '0', '-x264-params', 'repeat-headers=1', '-f', 'h264', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const nalus = splitAnnexB(stdout);
  const sps = nalus.find((n) => nalType(n) === NalType.Sps);
  const pps = nalus.find((n) => nalType(n) === NalType.Pps);
  if (!sps || !pps) throw new Error('ffmpeg output has no SPS/PPS');
  const units = accessUnits(nalus);
  expect(units.length).toBe(4 * FPS);
  clip = new LoopingClip(units, sps, pps);
  server = await RtspServer.create({ resolve: (p) => (p === 'school/cam1' ? clip : undefined), auth: { mode: 'digest', users: { [USER]: PASSWORD } } });
});

afterAll(async () => {
  await server?.close();
});

expectSessionsEndAfterEachTest('RTSP session and clip subscriber', () => server.sessionCount + clip.activeSubscribers);

function authedUrl(): string {
  return server.url('school/cam1').replace('rtsp://', `rtsp://${USER}:${encodeURIComponent(PASSWORD)}@`);
}

describe('our RtspServer with real clients', () => {
  it('ffprobe -rtsp_transport tcp sees one 320x240 H.264 stream', async () => {
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name,width,height,profile', '-of', 'json', authedUrl()], { timeout: 20_000 });
    const streams = (JSON.parse(stdout) as { streams: Array<Record<string, unknown>> }).streams;
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  });

  it('ffprobe with a wrong password is refused with 401', async () => {
    const bad = server.url('school/cam1').replace('rtsp://', `rtsp://${USER}:wrong@`);
    const r = await execFileP('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', bad], { timeout: 20_000 }).then(
      () => ({ failed: false, stderr: '' }),
      (err: { stderr: string }) => ({ failed: true, stderr: err.stderr }),
    );
    expect(r.failed).toBe(true);
    expect(r.stderr).toMatch(/401/);
  });

  it('ffmpeg decodes 30 frames without errors', async () => {
    const { stderr } = await execFileP('ffmpeg', ['-nostats', '-v', 'error', '-rtsp_transport', 'tcp', '-i', authedUrl(), '-frames:v', '30', '-f', 'null', '-'], { timeout: 30_000 });
    expect(stderr.trim()).toBe('');
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`GStreamer rtspsrc protocols=${transport} with Digest credentials decodes 60 frames, then PAUSE and TEARDOWN get answered`, async () => {
      const { code, output } = await gstDecode(server.url('school/cam1'), transport, USER, PASSWORD);
      expect(output).toContain('Got EOS');
      expect(output).toContain('complete request: Sent PAUSE request');
      expect(output).toContain('closed cleanly');
      expect(output).not.toMatch(/ERROR/);
      expect(code, output).toBe(0);
    });
  }

  it('ffprobe -rtsp_transport udp sees one 320x240 H.264 stream', async () => {
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-rtsp_transport', 'udp', '-show_entries', 'stream=codec_name,width,height,profile', '-of', 'json', authedUrl()], { timeout: 20_000 });
    const streams = (JSON.parse(stdout) as { streams: Array<Record<string, unknown>> }).streams;
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  });

  it('ffmpeg decodes 30 frames received over UDP without errors', async () => {
    const { stderr } = await execFileP('ffmpeg', ['-nostats', '-v', 'error', '-rtsp_transport', 'udp', '-i', authedUrl(), '-frames:v', '30', '-f', 'null', '-'], { timeout: 30_000 });
    expect(stderr.trim()).toBe('');
  });
});
