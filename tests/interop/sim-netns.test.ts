import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';

/**
 * The simulator's namespace mode with the third-party `onvif` client: every camera on its own
 * address in network namespaces the simulator creates, found by multicast WS-Discovery from the
 * LAN's client host. Multicast never leaves those namespaces. Needs root and iproute2: without
 * them the test fails, it does not skip.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface SimJson {
  cameras: SimCameraInfo[];
  netns: { client: string; clientAddress: string; schools: Record<string, string> };
}

interface RunningSim {
  child: ChildProcess;
  info: SimJson;
  /** SIGTERM, resolved once the simulator has exited; idempotent. */
  stop(): Promise<void>;
}

let sim: RunningSim;
let info: SimJson;

function lines(child: ChildProcess, onLine: (l: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
}

/** `npm run sim -- --netns …` as a child process, resolved with its JSON line once it is ready. */
async function startSim(cameras: number, schools: number): Promise<RunningSim> {
  execFileSync('ip', ['-V']); // fails loudly without iproute2
  const args = ['--import', 'tsx', 'device-sim/src/cli.ts', '--netns', '--cameras', String(cameras), '--schools', String(schools), '--json', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = await new Promise<SimJson>((resolve, reject) => {
    lines(child, (l) => resolve(JSON.parse(l) as SimJson));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) before it was ready`)));
  });
  return {
    child,
    info: ready,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

beforeAll(async () => {
  sim = await startSim(3, 2);
  info = sim.info;
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

describe('simulator in network namespaces, with the onvif client on the same LAN', () => {
  it('gives each camera its own address and school namespace', () => {
    expect(info.cameras).toHaveLength(3);
    const hosts = info.cameras.map((c) => new URL(c.onvif).hostname);
    expect(new Set(hosts).size).toBe(3);
    for (const h of hosts) expect(h).toMatch(/^10\.213\.\d+\.\d+$/);
    expect(Object.keys(info.netns.schools).sort()).toEqual(['zs-karlovy-vary', 'zs-sokolov']);
  });

  it('the onvif client discovers every camera by multicast, connects, lists both profiles, fetches decodable snapshots, is refused a wrong password and receives motion raised through the control API', async () => {
    const creds = Object.fromEntries(info.cameras.map((c) => [c.onvif, { username: c.username, password: c.password }]));
    const client = spawn('ip', ['netns', 'exec', info.netns.client, process.execPath, '--import', 'tsx', 'tests/interop/fixtures/onvif-lan-client.ts'], {
      cwd: ROOT,
      env: { ...process.env, CAMERA_CREDS: JSON.stringify(creds) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const events: Record<string, unknown>[] = [];
    lines(client, (l) => {
      const ev = JSON.parse(l) as Record<string, unknown>;
      events.push(ev);
      if (ev.event === 'subscribed') {
        const cam = info.cameras.find((c) => c.onvif === ev.xaddr)!;
        void fetch(`${cam.control}/events/motion`, { method: 'POST', body: '{}' });
      }
    });
    const code = await new Promise<number | null>((r) => client.once('exit', r));
    expect(code).toBe(0);

    const discovered = events.find((e) => e.event === 'discovered') as { xaddrs: string[] };
    expect(discovered.xaddrs).toEqual(info.cameras.map((c) => c.onvif).sort());
    const cams = events.filter((e) => e.event === 'camera') as unknown as { xaddr: string; profiles: { token: string; size: string; stream: string; snapshotStatus: number; jpeg: string }[] }[];
    expect(cams).toHaveLength(3);
    for (const c of cams) {
      const sim = info.cameras.find((x) => x.onvif === c.xaddr)!;
      expect(c.profiles.map((p) => [p.token, p.size])).toEqual([
        ['main', '640x360'],
        ['sub', '320x180'],
      ]);
      expect(c.profiles[0].stream).toBe(sim.rtsp);
      for (const p of c.profiles) {
        expect(p.snapshotStatus).toBe(200);
        const probed = await new Promise<string>((resolve, reject) => {
          const ff = execFile('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-i', 'pipe:0'], (err, stdout) => (err ? reject(err as Error) : resolve(stdout.trim())));
          ff.stdin!.end(Buffer.from(p.jpeg, 'base64'));
        });
        expect(probed).toBe(`mjpeg,${p.size.replace('x', ',')}`);
      }
    }
    expect(events.filter((e) => e.event === 'wrong-password').map((e) => e.refused)).toEqual([true, true, true]);
    expect(events.find((e) => e.event === 'motion')).toMatchObject({ received: true });
  }, 60_000);

  it('a rebooting camera says Bye on the LAN, and Hello when it is back', async () => {
    const listener = spawn('ip', ['netns', 'exec', info.netns.client, process.execPath, '--import', 'tsx', 'tests/interop/fixtures/wsd-listener.ts'], {
      cwd: ROOT,
      env: { ...process.env, IFACE_ADDR: info.netns.clientAddress },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const seen: { action: string; from: string }[] = [];
      const ready = new Promise<void>((resolve) =>
        lines(listener, (l) => {
          const ev = JSON.parse(l) as { event: string; action: string; from: string };
          if (ev.event === 'ready') resolve();
          else seen.push(ev);
        }),
      );
      await ready;
      const cam = info.cameras[1];
      const address = new URL(cam.onvif).hostname;
      const res = await fetch(`${cam.control}/faults/reboot`, { method: 'POST', body: JSON.stringify({ downSeconds: 1 }) });
      expect(res.status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (!seen.some((e) => e.action === 'Hello') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(seen.filter((e) => e.from === address).map((e) => e.action)).toEqual(['Bye', 'Hello']);
    } finally {
      listener.kill('SIGTERM');
    }
  }, 30_000);

  it('removes every namespace it made when stopped', async () => {
    // Its own simulator: stopping the shared one would leave the other tests without cameras.
    const own = await startSim(1, 1);
    const mine = Object.values(own.info.netns.schools).concat(own.info.netns.client);
    expect(execFileSync('ip', ['netns', 'list']).toString()).toContain(own.info.netns.client);
    await own.stop();
    expect(own.child.exitCode).toBe(0);
    const left = execFileSync('ip', ['netns', 'list']).toString();
    for (const ns of mine) expect(left).not.toContain(ns);
  }, 60_000);
});
