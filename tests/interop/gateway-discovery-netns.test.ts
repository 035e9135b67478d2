/**
 * `npm run gateway -- discover` inside the simulator's namespace LAN (`npm run sim -- --netns`):
 * 20 cameras, each on its own address, found by a real multicast Probe from the LAN's client host.
 * On the same LAN a bogus responder answers every probe with what a broken or hostile device might
 * send; the gateway lists the 20 cameras and nothing else, and logs what it ignored. Multicast never
 * leaves the namespaces. Needs root and iproute2: without them the test fails, it does not skip.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import type { DiscoveredDevice } from '../../protocol/src/link/link-messages';
import { simControl } from '../support/gateway-kit';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CAMERAS = 20;

interface SimJson {
  cameras: SimCameraInfo[];
  netns: { client: string; clientAddress: string; schools: Record<string, string> };
}

/** Answers every Probe it hears with a wrong RelatesTo, broken XML, a 40 KiB envelope and a Hello. */
const BOGUS = `
import dgram from 'node:dgram';
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
const env = (h, b) => '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Header>' + h + '</s:Header><s:Body>' + b + '</s:Body></s:Envelope>';
const match = (uuid) => '<d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:' + uuid + '</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/Bogus</d:Scopes><d:XAddrs>http://10.99.99.99/onvif/device_service</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>';
let answered = 0;
s.on('message', (m, r) => {
  const id = /MessageID>([^<]+)</.exec(m.toString())?.[1];
  if (!id || !m.toString().includes('Probe<') && !m.toString().includes(':Probe>')) return;
  const replies = [
    env('<a:MessageID>urn:uuid:b1</a:MessageID><a:RelatesTo>urn:uuid:someone-else</a:RelatesTo>', match('bogus-wrong-relates')),
    '<s:Envelope><s:Body><d:ProbeMatches>',
    env('<a:MessageID>urn:uuid:b2</a:MessageID><a:RelatesTo>' + id + '</a:RelatesTo>', match('bogus-oversized') + '<!--' + 'x'.repeat(40000) + '-->'),
    env('<a:MessageID>urn:uuid:b3</a:MessageID>', '<d:Hello><a:EndpointReference><a:Address>urn:uuid:bogus-hello</a:Address></a:EndpointReference><d:XAddrs>http://10.99.99.98/</d:XAddrs></d:Hello>'),
  ];
  for (const x of replies) s.send(x, r.port, r.address);
  console.log(JSON.stringify({ event: 'answered', n: ++answered }));
});
s.bind(3702, () => {
  s.addMembership('239.255.255.250', process.env.IFACE_ADDR);
  console.log(JSON.stringify({ event: 'ready' }));
});
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

let sim: ChildProcess;
let bogus: ChildProcess | undefined;
let info: SimJson;
let bogusLines: string[] = [];

function firstLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} printed nothing within ${timeoutMs} ms`)), timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  await promisify(execFile)('ip', ['-V']); // fails loudly without iproute2
  sim = spawn(process.execPath, ['--import', 'tsx', 'device-sim/src/cli.ts', '--netns', '--cameras', String(CAMERAS), '--json', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  info = JSON.parse(await firstLine(sim, 'the namespace simulator', 90_000)) as SimJson;
  bogus = spawn('ip', ['netns', 'exec', info.netns.client, process.execPath, '--input-type=module', '-e', BOGUS], { env: { ...process.env, IFACE_ADDR: info.netns.clientAddress }, stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: bogus.stdout! }).on('line', (l) => bogusLines.push(l));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (bogusLines.some((l) => l.includes('ready'))) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    bogus!.once('exit', (c) => reject(new Error(`bogus responder exited (${c})`)));
  });
}, 120_000);

afterAll(async () => {
  await stop(bogus);
  await stop(sim);
});

/** `npm run gateway -- discover …` run on the LAN's client host. */
async function discover(...args: string[]): Promise<{ devices: DiscoveredDevice[]; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)('ip', ['netns', 'exec', info.netns.client, process.execPath, '--import', 'tsx', 'gateway/src/cli.ts', 'discover', ...args], { cwd: ROOT, timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return { ...(JSON.parse(lines[0]) as { devices: DiscoveredDevice[] }), stderr };
}

describe('gateway discovery on a 20-camera namespace LAN', () => {
  it('lists every simulated camera once, with its name, hardware and XAddrs, and ignores (and logs) the bogus replies', async () => {
    bogusLines = bogusLines.filter((l) => l.includes('ready'));
    const { devices, stderr } = await discover('--interface', info.netns.clientAddress, '--json');
    expect(bogusLines.some((l) => l.includes('answered'))).toBe(true);
    expect(devices.map((d) => d.xaddr).sort()).toEqual(info.cameras.map((c) => c.onvif).sort());
    for (const c of info.cameras) {
      const d = devices.find((x) => x.xaddr === c.onvif)!;
      expect(d).toMatchObject({ name: c.name, hardware: 'simcam-1', location: c.school, address: new URL(c.onvif).hostname, profiles: [] });
      expect(d.endpoint).toMatch(/^urn:uuid:/);
    }
    expect(devices.some((d) => d.endpoint.includes('bogus'))).toBe(false);
    expect(stderr).toMatch(/answers another probe \(RelatesTo\)/);
    expect(stderr).toMatch(/malformed/);
    expect(stderr).toMatch(/oversized/);
  });

  it('resolves a 0.0.0.0 XAddr against the sender, merges a camera answering twice, and lists profiles when given credentials', async () => {
    const [zero, dup] = info.cameras;
    await simControl(zero.control, 'faults/discovery', { zeroXAddrs: true });
    await simControl(dup.control, 'faults/discovery', { duplicates: true });
    try {
      const { devices } = await discover('--json', '--user', zero.username, `--password=${zero.password}`);
      expect(devices).toHaveLength(CAMERAS);
      expect(devices.filter((d) => d.xaddr === dup.onvif)).toHaveLength(1);
      const z = devices.find((d) => d.address === new URL(zero.onvif).hostname)!;
      expect(z.xaddr).toBe(zero.onvif);
      expect(z.profiles.map((p) => `${p.token} ${p.encoding} ${p.width}x${p.height}`)).toEqual(['main H264 640x360', 'sub H264 320x180']);
      expect(z.profiles[0].rtspUri).toBe(zero.rtsp);
      // Every camera has its own random password: the others refuse these credentials, and say so.
      expect(devices.filter((d) => d.error?.includes('refused'))).toHaveLength(CAMERAS - 1);
    } finally {
      await simControl(zero.control, 'faults', {}, 'DELETE');
      await simControl(dup.control, 'faults', {}, 'DELETE');
    }
  });
});
