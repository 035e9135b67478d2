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
/** Schools that one test each starts and stops on its own host, so the others always see SCHOOLS whole. */
const LEAVING = { school: 'ZŠ Mariánské Lázně', cameras: [{ name: 'Šatna', hardware: 'SC-200' }, { name: 'Hřiště', hardware: 'SC-200' }] };
const UNPRIVILEGED_SCHOOL = { school: 'ZŠ Ostrov', cameras: [{ name: 'Vrátnice', hardware: 'SC-200' }] };

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

/**
 * How the gateway's systemd unit runs it, as far as sockets go: an ordinary user (nobody) with an
 * empty capability bounding set and no way to gain privileges (deploy/systemd).
 */
const UNPRIVILEGED = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];

/** The command line of a node program in a namespace, run as root or as {@link UNPRIVILEGED}. */
function nodeCommand(args: string[], unprivileged: boolean): [string, string[]] {
  const argv = unprivileged ? [...UNPRIVILEGED, process.execPath, ...args] : [process.execPath, ...args];
  return [argv[0], argv.slice(1)];
}

function runNode(lan: NetnsLan, host: string, program: string, env: Record<string, string> = {}, unprivileged = false): NsProgram {
  const [cmd, args] = nodeCommand(['--import', 'tsx', '--input-type=module', '-e', program], unprivileged);
  return new NsProgram(lan.spawn(host, cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
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
  const expected: Expected[] = [];
  const xaddrs = new Map<string, string>();
  const safeguard = (): void => lan?.closeSync();
  process.on('exit', safeguard);

  async function probe(unprivileged = false): Promise<{ err: string | null; errors: string[]; cams: { probeMatches: { probeMatch: Record<string, unknown> } }[]; reached: Record<string, string> }> {
    const { stdout } = await lan!.exec('client', ...nodeCommand(['--input-type=module', '-e', CLIENT], unprivileged), 20_000);
    return JSON.parse(stdout.trim().split('\n').pop()!) as Awaited<ReturnType<typeof probe>>;
  }
  const discoveredBy = async (unprivileged = false): Promise<string[]> =>
    (await probe(unprivileged)).cams.map((c) => String((c.probeMatches.probeMatch.endpointReference as { address: string }).address)).sort();

  /** Starts one school's cameras on its own LAN host; resolves once they serve. */
  async function startSchool(hostName: string, s: typeof LEAVING, unprivileged = false): Promise<{ program: NsProgram; cams: Expected[] }> {
    const host = lan!.host(hostName);
    const cams = s.cameras.map((c, k) => ({ ...c, school: s.school, uuid: stableDeviceUuid(`${s.school}/${c.name}`), address: host.addresses[k], schoolHost: host.name }));
    const program = runNode(lan!, host.name, SCHOOL, { CAMERAS: JSON.stringify(cams) }, unprivileged);
    await program.waitFor((l) => l.event === 'ready', `${s.school} cameras ready`);
    for (const l of program.lines) if (l.event === 'camera') xaddrs.set(`urn:uuid:${String(l.uuid)}`, String(l.xaddr));
    return { program, cams };
  }

  beforeAll(async () => {
    // Fails loudly (not a skip) when this machine cannot run the test.
    await assertNetnsSupport();
    await removeStaleNamespaces();
    lan = await NetnsLan.create({
      hosts: [
        { name: 'client' },
        ...SCHOOLS.map((s, i) => ({ name: `school${i}`, addresses: s.cameras.length })),
        { name: 'leaving', addresses: LEAVING.cameras.length },
        { name: 'unprivileged', addresses: UNPRIVILEGED_SCHOOL.cameras.length },
      ],
    });
    listener = runNode(lan, 'client', LISTENER, { IFACE_ADDR: lan.host('client').addresses[0] });
    await listener.waitFor((l) => l.event === 'ready', 'listener ready');
    for (const [i, s] of SCHOOLS.entries()) {
      const { cams } = await startSchool(`school${i}`, s);
      expected.push(...cams);
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

  it('stopping a school sends Bye for its cameras, and they are no longer discovered while the other schools still are', async () => {
    const { program, cams: gone } = await startSchool('leaving', LEAVING);
    const everyone = [...expected, ...gone].map((c) => `urn:uuid:${c.uuid}`).sort();
    expect(await discoveredBy()).toEqual(everyone);

    process.kill(program.child.pid!, 'SIGTERM');
    for (const cam of gone) {
      const bye = await listener.waitFor((l) => announcement(l)?.action === WSD_ACTION.bye && announcement(l)?.address === `urn:uuid:${cam.uuid}`, `Bye from ${cam.name}`, 5000);
      expect(announcement(bye)!.from).toBe(cam.address);
    }
    await new Promise<void>((r) => (program.child.exitCode !== null ? r() : program.child.once('exit', () => r())));
    expect(program.child.exitCode).toBe(0);
    expect(await discoveredBy()).toEqual(expected.map((c) => `urn:uuid:${c.uuid}`).sort());
  });

  it('needs no capability: a camera and a client running as nobody with every capability dropped join the group, announce, probe and answer', async () => {
    const identity = (await lan!.exec('unprivileged', UNPRIVILEGED[0], [...UNPRIVILEGED.slice(1), 'cat', '/proc/self/status'])).stdout;
    expect(Object.fromEntries(['Uid', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'].map((k) => [k, new RegExp(`^${k}:\\s+(\\S+)`, 'm').exec(identity)?.[1]]))).toEqual({
      Uid: '65534',
      CapEff: '0000000000000000',
      CapBnd: '0000000000000000',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
    });
    // The programs run from this checkout as nobody: it must be readable by other users.
    const readable = await lan!.exec('unprivileged', UNPRIVILEGED[0], [...UNPRIVILEGED.slice(1), 'test', '-r', `${ROOT}node_modules/tsx/package.json`]).then(
      () => true,
      () => false,
    );
    expect(readable, `${ROOT} is not readable by other users (a directory above it lacks o+rx): the unprivileged programs cannot load`).toBe(true);
    // Joins 239.255.255.250 on port 3702 (IP_ADD_MEMBERSHIP), as the gateway listening for Hello does.
    const listening = runNode(lan!, 'client', LISTENER, { IFACE_ADDR: lan!.host('client').addresses[0] }, true);
    let school: NsProgram | undefined;
    try {
      await listening.waitFor((l) => l.event === 'ready', 'the unprivileged listener joined the group');
      // Joins the group too, and sends Hello and ProbeMatches from its own address.
      school = (await startSchool('unprivileged', UNPRIVILEGED_SCHOOL, true)).program;
      const cam = UNPRIVILEGED_SCHOOL.cameras[0];
      const uuid = `urn:uuid:${stableDeviceUuid(`${UNPRIVILEGED_SCHOOL.school}/${cam.name}`)}`;
      const hello = await listening.waitFor((l) => announcement(l)?.action === WSD_ACTION.hello && announcement(l)?.address === uuid, `Hello from ${cam.name}`, 5000);
      expect(announcement(hello)!.from).toBe(lan!.host('unprivileged').addresses[0]);
      // Sends a multicast Probe and takes the unicast answers.
      expect(await discoveredBy(true)).toEqual([...expected.map((c) => `urn:uuid:${c.uuid}`), uuid].sort());
    } finally {
      const running = [school, listening].filter((p) => p !== undefined && p.child.exitCode === null).map((p) => p!.child);
      const exited = running.map((c) => new Promise((r) => c.once('exit', r)));
      for (const c of running) c.kill('SIGTERM');
      await Promise.all(exited);
    }
  });
});
