/**
 * Runs ffmpeg/ffprobe as reference peers in unit tests (no sockets: stdin/stdout only).
 * A missing binary is a loud failure, never a skip: the suite must not pass on a
 * machine that cannot check the codec against a real decoder.
 */
import { spawn } from 'node:child_process';

/** Exit status and captured output of a finished tool run. */
export interface ToolResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Spawns `bin` with `args`, writes `stdin` (if any) and collects all output.
 *
 * @throws Error naming `npm run test:deps` when the binary is not installed.
 */
export function runTool(bin: 'ffmpeg' | 'ffprobe', args: readonly string[], stdin?: Uint8Array): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new Error(`${bin} not found on PATH: the H.264 tests need it as the reference decoder. Run \`npm run test:deps\`.`)
          : e,
      );
    });
    // EPIPE if the tool exits before reading all input; its stderr explains why.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(stdin ? Buffer.from(stdin.buffer, stdin.byteOffset, stdin.byteLength) : undefined);
  });
}

/**
 * Decodes an Annex B H.264 stream to raw frames, one per decoded picture
 * (`-vsync passthrough`: no frame-rate conversion may duplicate or drop any).
 *
 * `yuv420p` gives the decoder's samples untouched. `gray` goes through swscale,
 * which expands limited-range luma to full range (16 → 0, 235 → 255), like a
 * browser canvas does.
 */
export function decodeRaw(annexB: Uint8Array, pixFmt: 'yuv420p' | 'gray'): Promise<ToolResult> {
  return runTool(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'h264', '-i', '-', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'],
    annexB,
  );
}

/** ffprobe's view of the first video stream of an Annex B H.264 stream. */
export async function probeH264(annexB: Uint8Array): Promise<Record<string, string>> {
  const r = await runTool(
    'ffprobe',
    ['-v', 'error', '-f', 'h264', '-i', '-', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,profile,width,height,level', '-of', 'default=noprint_wrappers=1'],
    annexB,
  );
  if (r.code !== 0) throw new Error(`ffprobe exited ${r.code}: ${r.stderr}`);
  const fields: Record<string, string> = {};
  for (const line of r.stdout.toString().split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return fields;
}
