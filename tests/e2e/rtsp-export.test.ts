import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RtspExportServer } from '../../control-center/src/rtsp-export/rtsp-export-server';
import { makeTestCertificate } from '../support/test-certificate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentreClient } from '../../control-center/test/support/api-client';
import { MemoryRtspGrants } from '../../control-center/test/support/memory-rtsp-grants';
import { type InProcessStack, startInProcessStack } from '../support/in-process-stack';

/**
 * The centre's RTSP re-export to police video systems, against the real simulator, gateway
 * and centre, with ffprobe and ffmpeg as the police system (nobody here wrote them).
 */

interface ProbeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: 'ffprobe' | 'ffmpeg', args: string[], timeoutMs = 20_000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error(`${bin} not found on PATH: run \`npm run test:deps\``) : e));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** ffprobe's first video stream of an RTSP URL, over TCP interleaved (or UDP). */
function probe(url: string, transport: 'tcp' | 'udp' = 'tcp'): Promise<ProbeResult> {
  return run('ffprobe', ['-v', 'error', '-rtsp_transport', transport, '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'default=noprint_wrappers=1', url]);
}

function fields(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** An ffmpeg recording the stream (copy, no decode) as a police video system would; resolves once frames flow. */
async function record(url: string): Promise<{ child: ChildProcess; exited: Promise<number> }> {
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-c', 'copy', '-f', 'null', '-progress', 'pipe:1', '-stats_period', '0.1', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number>((resolve) => child.on('exit', () => resolve(performance.now())));
  let frames = 0;
  child.stdout.on('data', (d: Buffer) => {
    for (const m of d.toString().matchAll(/^frame=(\d+)/gm)) frames = Number(m[1]);
  });
  const deadline = Date.now() + 20_000;
  while (frames < 5) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`ffmpeg did not record frames (exit ${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited };
}

describe('RTSP re-export of granted cameras', () => {
  let stack: InProcessStack;
  const grants = new MemoryRtspGrants();
  const running: ChildProcess[] = [];
  let camA: string;
  let camB: string;
  let auditor: CentreClient;

  beforeAll(async () => {
    stack = await startInProcessStack({ cameras: 2, lingerMs: 200, centre: { rtspExport: { port: 0 } }, rtspGrants: grants });
    [camA, camB] = stack.fleet.info().cameras.map((c) => stack.centreId(c.id));
    auditor = await CentreClient.signIn(stack.centre.url, stack.accounts.auditor.username, stack.accounts.auditor.password);
  });

  afterAll(async () => {
    for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
    await stack?.close();
  });

  const urlOf = (creds: { username: string; password: string }, grantId: string, cameraId: string): string =>
    stack.centre.rtspExport!.url(grantId, cameraId).replace('rtsp://', `rtsp://${creds.username}:${encodeURIComponent(creds.password)}@`);

  it('serves a granted camera: ffprobe sees H.264 of the camera\'s size over TCP interleaved and over UDP, and each view is audited with the grant', async () => {
    const creds = grants.issue({ grantId: 'grant-probe', cameraIds: [camA] });
    const url = urlOf(creds, 'grant-probe', camA);
    expect(url).toMatch(new RegExp(`^rtsp://g[0-9a-f]+:[^@]+@127\\.0\\.0\\.1:${stack.centre.rtspExport!.port}/grant/grant-probe/`));
    const tcp = await probe(url);
    expect(tcp.stderr).toBe('');
    expect(fields(tcp.stdout)).toEqual({ codec_name: 'h264', width: '640', height: '360' });
    const udp = await probe(url, 'udp');
    expect(fields(udp.stdout)).toEqual({ codec_name: 'h264', width: '640', height: '360' });
    const starts = (await auditor.get<{ entries: { kind: string; actor: string; detail: Record<string, unknown> }[] }>(`/api/audit?kind=view.start&cameraId=${encodeURIComponent(camA)}`)).body.entries;
    expect(starts[0]).toMatchObject({ actor: creds.username, detail: { transport: 'rtsp', basis: { kind: 'grant', grantId: 'grant-probe' } } });
    // Both probes' views ended when ffprobe left, each audited with the grant.
    const stopsOfThisGrant = async (): Promise<unknown[]> =>
      (await auditor.get<{ entries: { actor: string; detail: Record<string, unknown> }[] }>(`/api/audit?kind=view.stop&cameraId=${encodeURIComponent(camA)}`)).body.entries.filter((e) => e.detail.grantId === 'grant-probe');
    await expect.poll(stopsOfThisGrant, { timeout: 5000 }).toHaveLength(2);
    expect((await stopsOfThisGrant())[0]).toMatchObject({ actor: creds.username, detail: { grantId: 'grant-probe', cause: 'viewer_left' } });
  });

  it('cuts a recording ffmpeg within 1 s of the grant\'s revocation, and audits the cut', async () => {
    const creds = grants.issue({ grantId: 'grant-cut', cameraIds: [camA, camB] });
    const rec = await record(urlOf(creds, 'grant-cut', camB));
    running.push(rec.child);
    expect(stack.centre.liveViews.list().filter((v) => v.transport === 'rtsp' && v.camera.id === camB)).toHaveLength(1);
    const at = performance.now();
    grants.end('grant-cut');
    stack.centre.revocations.revoke({ grant: 'grant-cut' }, { kind: 'access_revoked', grantId: 'grant-cut' });
    const exitedAt = await rec.exited;
    expect(exitedAt - at).toBeLessThan(1000);
    expect(stack.centre.liveViews.list().filter((v) => v.transport === 'rtsp')).toHaveLength(0);
    const stops = (await auditor.get<{ entries: { detail: Record<string, unknown> }[] }>(`/api/audit?kind=view.stop&cameraId=${encodeURIComponent(camB)}`)).body.entries;
    expect(stops[0].detail).toMatchObject({ cause: 'access_revoked', grantId: 'grant-cut' });
    // The same credentials no longer open anything.
    const after = await probe(urlOf(creds, 'grant-cut', camB));
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/401 Unauthorized/);
  });

  it('ends a session within 1 s when its grant stops looking up (expired) even without a revocation event', async () => {
    const creds = grants.issue({ grantId: 'grant-expire', cameraIds: [camA] });
    const rec = await record(urlOf(creds, 'grant-expire', camA));
    running.push(rec.child);
    const at = performance.now();
    grants.end('grant-expire');
    const exitedAt = await rec.exited;
    expect(exitedAt - at).toBeLessThan(1000);
  });

  it('refuses a wrong password, an unknown user, another grant\'s path and a camera outside the grant', async () => {
    const creds = grants.issue({ grantId: 'grant-a', cameraIds: [camA] });
    const other = grants.issue({ grantId: 'grant-b', cameraIds: [camB] });
    const wrongPassword = await probe(urlOf({ username: creds.username, password: 'not-the-password' }, 'grant-a', camA));
    expect(wrongPassword.stderr).toMatch(/401 Unauthorized/);
    const unknownUser = await probe(urlOf({ username: 'gdeadbeef', password: creds.password }, 'grant-a', camA));
    expect(unknownUser.stderr).toMatch(/401 Unauthorized/);
    const otherGrantsPath = await probe(urlOf(creds, 'grant-b', camB));
    expect(otherGrantsPath.stderr).toMatch(/404 Not Found/);
    const cameraNotGranted = await probe(urlOf(other, 'grant-b', camA));
    expect(cameraNotGranted.stderr).toMatch(/404 Not Found/);
    const forged = await probe(urlOf(creds, 'grant-forged', camA));
    expect(forged.stderr).toMatch(/404 Not Found/);
    for (const r of [wrongPassword, unknownUser, otherGrantsPath, cameraNotGranted, forged]) expect(r.code).not.toBe(0);
    const refused = (await auditor.get<{ entries: { target: string; detail: Record<string, unknown> }[] }>('/api/audit?kind=access.refused')).body.entries.filter((e) => e.target === 'rtsp.export');
    expect(refused.map((e) => e.detail.reason)).toEqual(expect.arrayContaining(['other_grant', 'camera_not_granted']));
  });

  it('serves the same over RTSPS (TLS) when configured with a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtsps-'));
    const pem = makeTestCertificate(dir);
    const sim = stack.fleet.info().cameras[0];
    const refused: unknown[] = [];
    const rtsps = await RtspExportServer.create(
      { host: '127.0.0.1', port: 0, udp: false, tls: { cert: readFileSync(pem.cert), key: readFileSync(pem.key) } },
      {
        grants,
        cameras: { get: (id) => (id === camA ? { id, localId: sim.id, gatewayId: stack.gatewayId, schoolId: sim.school, name: sim.name, state: 'idle', reason: null, width: 640, height: 360, updatedAt: 0 } : undefined) },
        liveViews: stack.centre.liveViews,
        audit: { append: (e) => refused.push(e), record: (e) => refused.push(e) > 0 },
        log: pino({ level: 'silent' }),
      },
    );
    try {
      const creds = grants.issue({ grantId: 'grant-tls', cameraIds: [camA] });
      const url = rtsps.url('grant-tls', camA).replace('rtsps://', `rtsps://${creds.username}:${encodeURIComponent(creds.password)}@`);
      expect(url.startsWith('rtsps://')).toBe(true);
      const r = await probe(url);
      expect(fields(r.stdout)).toEqual({ codec_name: 'h264', width: '640', height: '360' });
    } finally {
      await rtsps.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
