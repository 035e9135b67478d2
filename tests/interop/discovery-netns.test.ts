/**
 * WS-Discovery by real multicast, against the third-party `onvif` npm client, on a private LAN made
 * of network namespaces (device-sim/src/netns): a `client` host and one host per school whose
 * cameras each have their own address, all on one bridge. Every process that sends or receives
 * multicast runs inside a namespace (`ip netns exec`); this test process stays in the root namespace
 * and only reads their stdout, so no discovery traffic can reach the machine's real interface.
 *
 * Needs root and iproute2: without them the test fails, it does not skip.
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableDeviceUuid } from '../../device-sim/src/discovery/ws-discovery';
import { WSD_ACTION } from '../../protocol/src/discovery/ws-discovery-message';
import { assertNetnsSupport, NetnsLan, removeStaleNamespaces } from '../../device-sim/src/netns/netns-lan';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = `${ROOT}device-sim/src`;

const SCHOOLS = [
  { school: 'zs-sokolov', cameras: [{ name: 'Vchod', hardware: 'SC-200' }, { name: 'Jídelna', hardware: 'SC-200' }] },
  { school: 'Gymnázium Cheb', cameras: [{ name: 'Tělocvična', hardware: 'SC-PTZ' }] },
];

/** Prints every Hello/Bye/Probe seen on the group as a JSON line; an independent reader, not our parser. */
const LISTENER = `
import dgram from 'node:dgram';
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m, r) => console.log(JSON.stringify({ event: 'datagram', from: r.address, xml: m.toString() })));
s.bind(3702, '239.255.255.250', () => {
  s.addMembership('239.255.255.250', process.env.IFACE_ADDR);
  console.log(JSON.stringify({ event: 'ready' }));
});
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

/** One school: a real ONVIF server and a WS-Discovery responder per camera, each on the camera's own address. */
const SCHOOL = `
import { OnvifServer } from '${SRC}/onvif/onvif-server.ts';
import { WsDiscoveryResponder } from '${SRC}/discovery/ws-discovery.ts';
const cams = JSON.parse(process.env.CAMERAS);
const closers = [];
for (const c of cams) {
  const server = await OnvifServer.create({
    host: c.address,
    camera: {
      name: c.name, manufacturer: 'SchoolCam Sim', model: c.hardware, firmware: '1.0', serial: c.uuid.slice(0, 8),
      hardwareId: c.hardware, school: c.school, username: 'admin', password: 'pw', profiles: [], onSynchronizationPoint() {},
    },
  });
  const device = { uuid: c.uuid, name: c.name, hardware: c.hardware, school: c.school, xaddr: 'http://' + c.address + ':' + server.port + '/onvif/device_service' };
  const responder = await WsDiscoveryResponder.create({ interfaceAddress: c.address, devices: () => [device], maxReplyDelayMs: 200 });
  closers.unshift(() => server.close(), () => responder.close());
  console.log(JSON.stringify({ event: 'camera', ...device }));
}
console.log(JSON.stringify({ event: 'ready' }));
process.on('SIGTERM', async () => {
  for (const close of closers) await close();
  process.exit(0);
});
`;

/** The onvif npm client's multicast Probe, then an unauthenticated GetSystemDateAndTime to every XAddr. */
const CLIENT = `
import onvif from 'onvif';
const errors = [];
onvif.Discovery.on('error', (e) => errors.push(String(e)));
onvif.Discovery.probe({ timeout: 2500, resolve: false }, async (err, cams) => {
  const reached = {};
  for (const c of cams ?? []) {
    const url = String(c.probeMatches.probeMatch.XAddrs).split(' ')[0];
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/soap+xml' },
        body: '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>',
        signal: AbortSignal.timeout(3000),
      });
      reached[url] = res.status + ' ' + ((await res.text()).includes('GetSystemDateAndTimeResponse') ? 'ok' : 'bad body');
    } catch (e) { reached[url] = String(e); }
  }
  console.log(JSON.stringify({ err: err ? String(err) : null, errors, cams, reached }));
});
`;

interface JsonLine {
  event?: string;
  [k: string]: unknown;
}

/** A node program started inside a namespace, whose JSON stdout lines are collected. */
class NsProgram {
  readonly lines: JsonLine[] = [];
  stderr = '';
  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as JsonLine);
        } catch {
          this.stderr += `[stdout] ${line}\n`;
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  async waitFor(pred: (l: JsonLine) => boolean, what: string, timeoutMs = 15_000): Promise<JsonLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (this.child.exitCode !== null) throw new Error(`program exited (${this.child.exitCode}) before ${what}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function runNode(lan: NetnsLan, host: string, program: string, env: Record<string, string> = {}): NsProgram {
  return new NsProgram(
    lan.spawn(host, process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

const reader = new XMLParser({ removeNSPrefix: true, parseTagValue: false });
function announcement(l: JsonLine): { action: string; address: string; xaddrs?: string; scopes?: string; from: string } | undefined {
  if (l.event !== 'datagram') return undefined;
  interface Announced {
    EndpointReference: { Address: string };
    XAddrs?: string;
    Scopes?: string;
  }
  const parsed = reader.parse(String(l.xml)) as { Envelope?: { Header: { Action: string }; Body?: { Hello?: Announced; Bye?: Announced } } };
  const env = parsed.Envelope;
  const body = env?.Body?.Hello ?? env?.Body?.Bye;
  if (!env || !body) return undefined;
  return { action: env.Header.Action, address: body.EndpointReference.Address, xaddrs: body.XAddrs, scopes: body.Scopes, from: String(l.from) };
}

interface Expected {
  uuid: string;
  name: string;
  hardware: string;
  school: string;
  address: string;
  schoolHost: string;
}

describe('WS-Discovery inside a network-namespace LAN, seen by the onvif npm client', () => {
  let lan: NetnsLan | undefined;
  let listener: NsProgram;
  const schools = new Map<string, NsProgram>();
  const expected: Expected[] = [];
  const xaddrs = new Map<string, string>();
  const safeguard = (): void => lan?.closeSync();
  process.on('exit', safeguard);

  async function probe(): Promise<{ err: string | null; errors: string[]; cams: { probeMatches: { probeMatch: Record<string, unknown> } }[]; reached: Record<string, string> }> {
    const { stdout } = await lan!.exec('client', process.execPath, ['--input-type=module', '-e', CLIENT], 20_000);
    return JSON.parse(stdout.trim().split('\n').pop()!) as Awaited<ReturnType<typeof probe>>;
  }

  beforeAll(async () => {
    // Fails loudly (not a skip) when this machine cannot run the test.
    await assertNetnsSupport();
    await removeStaleNamespaces();
    lan = await NetnsLan.create({
      hosts: [{ name: 'client' }, ...SCHOOLS.map((s) => ({ name: `school${SCHOOLS.indexOf(s)}`, addresses: s.cameras.length }))],
    });
    listener = runNode(lan, 'client', LISTENER, { IFACE_ADDR: lan.host('client').addresses[0] });
    await listener.waitFor((l) => l.event === 'ready', 'listener ready');
    for (const [i, s] of SCHOOLS.entries()) {
      const host = lan.host(`school${i}`);
      const cams = s.cameras.map((c, k) => ({ ...c, school: s.school, uuid: stableDeviceUuid(`${s.school}/${c.name}`), address: host.addresses[k] }));
      expected.push(...cams.map((c) => ({ ...c, schoolHost: host.name })));
      const program = runNode(lan, host.name, SCHOOL, { CAMERAS: JSON.stringify(cams) });
      schools.set(host.name, program);
      await program.waitFor((l) => l.event === 'ready', `${s.school} cameras ready`);
      for (const l of program.lines) if (l.event === 'camera') xaddrs.set(`urn:uuid:${String(l.uuid)}`, String(l.xaddr));
    }
  });

  afterAll(async () => {
    const names = lan?.namespaces ?? [];
    await lan?.close();
    process.off('exit', safeguard);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of names) expect(left).not.toContain(ns);
  });

  it('a listener on the LAN receives Hello from every camera, sent from the camera address with its XAddrs', async () => {
    for (const cam of expected) {
      const hello = await listener.waitFor((l) => announcement(l)?.action === WSD_ACTION.hello && announcement(l)?.address === `urn:uuid:${cam.uuid}`, `Hello from ${cam.name}`, 5000);
      const a = announcement(hello)!;
      expect(a.from).toBe(cam.address);
      expect(a.xaddrs).toBe(xaddrs.get(`urn:uuid:${cam.uuid}`));
      expect(a.scopes).toContain(`onvif://www.onvif.org/location/${encodeURIComponent(cam.school)}`);
    }
  });

  it('onvif.Discovery.probe finds every camera by multicast, with the right XAddrs and scopes, and the XAddrs answer', async () => {
    const result = await probe();
    expect(result.err).toBeNull();
    expect(result.errors).toEqual([]);
    const found = new Map(result.cams.map((c) => [String((c.probeMatches.probeMatch.endpointReference as { address: string }).address), c.probeMatches.probeMatch]));
    expect([...found.keys()].sort()).toEqual(expected.map((c) => `urn:uuid:${c.uuid}`).sort());
    for (const cam of expected) {
      const m = found.get(`urn:uuid:${cam.uuid}`)!;
      const xaddr = xaddrs.get(`urn:uuid:${cam.uuid}`)!;
      expect(xaddr).toMatch(new RegExp(`^http://${cam.address.replace(/\./g, '\\.')}:\\d+/onvif/device_service$`));
      expect(m.XAddrs).toBe(xaddr);
      expect(String(m.types).split(' ')).toEqual(['dn:NetworkVideoTransmitter', 'tds:Device']);
      expect(String(m.scopes).split(' ')).toEqual(
        expect.arrayContaining([
          `onvif://www.onvif.org/name/${encodeURIComponent(cam.name)}`,
          `onvif://www.onvif.org/hardware/${cam.hardware}`,
          `onvif://www.onvif.org/location/${encodeURIComponent(cam.school)}`,
          'onvif://www.onvif.org/type/video_encoder',
          'onvif://www.onvif.org/Profile/Streaming',
        ]),
      );
      expect(result.reached[xaddr]).toBe('200 ok');
    }
  });

  it('stopping a school sends Bye for its cameras, and they are no longer discovered', async () => {
    const host = 'school1';
    const program = schools.get(host)!;
    const gone = expected.filter((c) => c.schoolHost === host);
    process.kill(program.child.pid!, 'SIGTERM');
    for (const cam of gone) {
      const bye = await listener.waitFor((l) => announcement(l)?.action === WSD_ACTION.bye && announcement(l)?.address === `urn:uuid:${cam.uuid}`, `Bye from ${cam.name}`, 5000);
      expect(announcement(bye)!.from).toBe(cam.address);
    }
    await new Promise<void>((r) => (program.child.exitCode !== null ? r() : program.child.once('exit', () => r())));
    expect(program.child.exitCode).toBe(0);
    const result = await probe();
    const found = result.cams.map((c) => String((c.probeMatches.probeMatch.endpointReference as { address: string }).address)).sort();
    expect(found).toEqual(expected.filter((c) => c.schoolHost !== host).map((c) => `urn:uuid:${c.uuid}`).sort());
  });
});
