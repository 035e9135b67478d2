import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The distro python has python3-gi; a pyenv/venv python3 earlier on PATH usually does not.
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../interop/gst-rtsp-server.py', import.meta.url));

export interface GstServerOptions {
  auth?: { method: 'digest' | 'basic'; user: string; password: string };
  /** `WxH`, default 320x240 */
  size?: string;
  fps?: number;
  gopSeconds?: number;
  bitrateKbps?: number;
  bframes?: number;
  aac?: boolean;
  /** videotestsrc pattern; `snow` (noise) makes the encoder spend the whole bitrate. Default `ball`. */
  pattern?: string;
}

/** GStreamer's RTSP server (`tests/interop/gst-rtsp-server.py`), a third-party camera at `url`. */
export interface GstServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Fails loudly, naming the packages, when python3-gi or gst-rtsp-server's introspection data is missing. */
export function requireGstRtspServer(): void {
  const r = spawnSync(PYTHON, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `${PYTHON} with python3-gi and gir1.2-gst-rtsp-server-1.0 is required by this test (${r.error?.message ?? r.stderr.trim().split('\n').pop()}); install them with scripts/install-test-deps.sh`,
    );
  }
}

/** Starts the server and resolves once it printed its port; `stop()` ends it (SIGTERM, then SIGKILL). */
export async function startGstServer(opts: GstServerOptions = {}): Promise<GstServer> {
  requireGstRtspServer();
  const args = [SCRIPT];
  if (opts.auth) args.push('--auth', opts.auth.method, opts.auth.user, opts.auth.password);
  if (opts.size) args.push('--size', opts.size);
  if (opts.fps) args.push('--fps', String(opts.fps));
  if (opts.gopSeconds) args.push('--gop-seconds', String(opts.gopSeconds));
  if (opts.bitrateKbps) args.push('--bitrate', String(opts.bitrateKbps));
  if (opts.bframes) args.push('--bframes', String(opts.bframes));
  if (opts.aac) args.push('--aac');
  if (opts.pattern) args.push('--pattern', opts.pattern);
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`gst-rtsp-server.py printed no port within 10 s: ${stderr}`)), 10_000);
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /PORT (\d+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gst-rtsp-server.py exited with ${code}: ${stderr}`));
      });
    });
    return { url: `rtsp://127.0.0.1:${port}/cam`, port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
