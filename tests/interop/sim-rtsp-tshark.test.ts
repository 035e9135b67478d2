/**
 * Wire check of the simulator camera's RTSP sessions with Wireshark's dissectors: a
 * capture on `lo` of ffmpeg playing over TCP interleaving and over UDP unicast must
 * dissect as RTSP (DESCRIBE/SETUP/PLAY/TEARDOWN), RTP (payload type 96) and H.264 NAL
 * units (IDR and non-IDR slices), with no malformed packet and no expert error.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCamera } from '../../device-sim/src/camera/sim-camera';

const execFileP = promisify(execFile);

function requireTool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} is required by this interop test but could not run (${r.error?.message ?? r.stderr.slice(0, 200)}); run npm run test:deps`);
  }
}

let camera: SimCamera;
let dir: string;

beforeAll(async () => {
  requireTool('tshark', ['-v']);
  requireTool('ffmpeg', ['-version']);
  dir = mkdtempSync(join(tmpdir(), 'schoolcam-tshark-'));
  camera = await SimCamera.create({ id: 'cam-wire', name: 'Hall', school: 'school-1', width: 320, height: 240, fps: 15, gopSeconds: 1, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await camera?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts tshark on `lo` and resolves once packets on `port` really reach the capture: tshark says
 * "Capturing on" before its capture process is live, and under load the first packets after that
 * line were missing from the file (an RTSP session without its OPTIONS and DESCRIBE). So empty TCP
 * connections to `port` are made until tshark prints one of them (-P prints each captured packet, here only its number).
 */
async function startCapture(filter: string, file: string, port: number): Promise<ChildProcess> {
  const child = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-P', '-l', '-T', 'fields', '-e', 'frame.number'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let printed = 0;
  child.stdout.on('data', () => printed++);
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`tshark exited early (${code}): ${stderr}`))));
  exited.catch(() => undefined);
  const live = (async () => {
    const deadline = Date.now() + 10_000;
    while (printed === 0) {
      if (Date.now() > deadline) throw new Error(`tshark captured nothing on port ${port}: ${stderr}`);
      await new Promise<void>((resolve) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) { this.end(); resolve(); }).on('error', () => resolve()));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    await Promise.race([live, exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

async function stopCapture(child: ChildProcess): Promise<void> {
  // Let the last packets reach the capture buffer, then stop cleanly so the file is complete.
  await new Promise((r) => setTimeout(r, 300));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  await exited;
}

/** Field values of every packet matching `display` in a capture, dissected with `decodeAs` rules. */
async function fields(file: string, decodeAs: string[], display: string, field: string): Promise<string[]> {
  const args = ['-r', file, ...decodeAs.flatMap((d) => ['-d', d]), '-d', 'rtp.pt==96,h264', '-Y', display, '-T', 'fields', '-e', field];
  const { stdout } = await execFileP('tshark', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').flatMap((l) => l.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}

describe('tshark dissects the simulator camera RTSP sessions', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`ffmpeg over ${transport}: RTSP, RTP/96 and H.264 NAL units, nothing malformed`, async () => {
      const port = camera.rtsp.port;
      const [rtpPort, rtcpPort] = camera.rtsp.udpPorts!;
      const file = join(dir, `${transport}.pcapng`);
      const filter = transport === 'tcp' ? `tcp port ${port}` : `tcp port ${port} or udp port ${rtpPort} or udp port ${rtcpPort}`;
      const capture = await startCapture(filter, file, port);
      try {
        const { username, password } = camera.info();
        const url = camera.rtsp.url('main').replace('rtsp://', `rtsp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@`);
        await execFileP('ffmpeg', ['-nostats', '-v', 'error', '-rtsp_transport', transport, '-i', url, '-frames:v', '30', '-f', 'null', '-'], { timeout: 30_000 });
      } finally {
        await stopCapture(capture);
      }
      // The RTSP dissector follows SETUP's Transport to find the RTP (interleaved channels or UDP ports).
      const decodeAs = [`tcp.port==${port},rtsp`, ...(transport === 'udp' ? [`udp.port==${rtpPort},rtp`] : [])];

      const methods = await fields(file, decodeAs, 'rtsp.request', 'rtsp.method');
      expect(methods).toEqual(expect.arrayContaining(['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN']));
      const statuses = await fields(file, decodeAs, 'rtsp.response', 'rtsp.status');
      expect(statuses).toContain('200');

      // Media the server sent (ffmpeg also sends RTP "punch" packets with PT 0 to our server_port).
      const fromServer = transport === 'udp' ? `rtp && udp.srcport == ${rtpPort}` : `rtp && tcp.srcport == ${port}`;
      const payloadTypes = await fields(file, decodeAs, fromServer, 'rtp.p_type');
      expect(payloadTypes.length).toBeGreaterThan(30);
      expect(new Set(payloadTypes)).toEqual(new Set(['96']));

      const nalTypes = new Set(await fields(file, decodeAs, 'h264', 'h264.nal_unit_type'));
      expect(nalTypes.has('5'), `NAL types seen: ${[...nalTypes].join(' ')}`).toBe(true); // IDR slice
      expect(nalTypes.has('1') || nalTypes.has('28'), `NAL types seen: ${[...nalTypes].join(' ')}`).toBe(true); // P slices (or FU-A fragments)

      const bad = await fields(file, decodeAs, '_ws.malformed || _ws.expert.severity == error', 'frame.number');
      expect(bad, `malformed or erroneous frames: ${bad.join(' ')}`).toEqual([]);
    });
  }
});
