import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { intToIpv4, ipv4ToInt, lookupIpv4Interface, multicastInterfaceAddresses, sameSubnet } from '@schoolcam/protocol/discovery/ipv4-interfaces';
import {
  buildProbe,
  parseDiscoveryReply,
  scopeValue,
  WSD_MULTICAST_GROUP,
  WSD_PORT,
  type DiscoveredEndpoint,
} from '@schoolcam/protocol/discovery/ws-discovery-message';
import { linkReason, type DiscoveredDevice } from '@schoolcam/protocol/link/link-messages';
import { fromCameraError } from '../check/camera-check';
import { GatewayError } from '../errors';
import { OnvifCamera } from '../onvif/onvif-client';

export interface DiscoveryOptions {
  /**
   * IPv4 address of the interface to probe by multicast on (a school gateway often has one leg in
   * the camera VLAN). Default: every up, multicast-capable, non-loopback IPv4 interface.
   */
  interfaceAddress?: string;
  /** Send the multicast Probe; default true. */
  multicast?: boolean;
  /** Addresses to probe directly (unicast), e.g. from {@link parseAddressRange}; cameras in other subnets answer these. */
  targets?: readonly string[];
  /** UDP port of directed probes; default 3702. */
  port?: number;
  /** How long replies are collected, ms; default 3000. */
  timeoutMs?: number;
  /** Replies larger than this are dropped unread; default 32 KiB (a camera's ProbeMatches is 1–3 KiB). */
  maxReplyBytes?: number;
  /**
   * A gateway kept to loopback (the single-host demo, tests): no multicast leaves a real
   * interface and only 127.0.0.0/8 is probed; asking for more is a clear error.
   */
  loopbackOnly?: boolean;
  logger?: Logger;
}

/** A camera that answered, once per endpoint. */
export interface DiscoveredCamera {
  /** the ONVIF device service, resolved against the address the reply came from */
  xaddr: string;
  endpoint: string;
  /** the address the (first) reply came from */
  address: string;
  name?: string;
  hardware?: string;
  location?: string;
  scopes: string[];
}

/** Why a datagram was not taken, for logs and tests. */
export interface IgnoredReply {
  from: string;
  reason: string;
}

/** Refuses what a loopback-only gateway must not do: probe a real interface or a non-loopback address. */
function confineToLoopback(opts: DiscoveryOptions, targets: readonly string[]): void {
  const outside = targets.find((t) => !t.startsWith('127.'));
  if (outside !== undefined) throw new GatewayError('BAD_REQUEST', `this gateway is kept to loopback (loopbackOnly): it probes only 127.0.0.0/8, not ${outside}`);
  if (opts.interfaceAddress !== undefined && !opts.interfaceAddress.startsWith('127.')) {
    throw new GatewayError('BAD_REQUEST', `this gateway is kept to loopback (loopbackOnly): it sends no multicast on ${opts.interfaceAddress}`);
  }
  if (targets.length === 0) throw new GatewayError('BAD_REQUEST', 'this gateway is kept to loopback (loopbackOnly): it sends no multicast probe; give a range within 127.0.0.0/8');
}

/** Directed probes go out at most this fast, so a /20 scan does not flood the school's network. */
const DIRECTED_PER_MS = 1;
/** Most addresses one range may hold. */
export const MAX_RANGE_ADDRESSES = 4096;

/**
 * WS-Discovery client (ONVIF Core §7): a multicast Probe for `dn:NetworkVideoTransmitter` on the
 * chosen interface(s), sent twice (SOAP-over-UDP repeats once: UDP may drop it), plus directed
 * probes to `targets`. Only ProbeMatches whose `RelatesTo` is our probe's `MessageID` count —
 * anything else on the port (another client's replies, Hello/Bye, spoofed or stray datagrams) is
 * ignored and logged, as are oversized and malformed replies. A camera answering several times
 * (two interfaces, retransmissions, multicast and directed) is listed once, by endpoint address.
 */
export async function discoverCameras(opts: DiscoveryOptions = {}): Promise<{ cameras: DiscoveredCamera[]; ignored: IgnoredReply[] }> {
  const targets = opts.targets ?? [];
  if (opts.loopbackOnly) confineToLoopback(opts, targets);
  const multicast = !opts.loopbackOnly && (opts.multicast ?? true);
  const port = opts.port ?? WSD_PORT;
  const log = opts.logger;
  let addresses: string[];
  if (opts.interfaceAddress !== undefined) {
    if (!isIPv4(opts.interfaceAddress)) throw new GatewayError('BAD_REQUEST', `--interface must be an IPv4 address, got ${JSON.stringify(opts.interfaceAddress)}`);
    if (lookupIpv4Interface(opts.interfaceAddress).ifaceName === undefined) throw new GatewayError('BAD_REQUEST', `no local interface has the address ${opts.interfaceAddress}`);
    addresses = [opts.interfaceAddress];
  } else {
    addresses = multicast ? multicastInterfaceAddresses().filter((a) => !a.startsWith('127.')) : [];
    if (multicast && addresses.length === 0 && targets.length === 0) throw new GatewayError('UNREACHABLE', 'no multicast-capable IPv4 interface is up; give --interface <address> or a --range to probe');
  }

  const messageId = `urn:uuid:${randomUUID()}`;
  const probe = Buffer.from(buildProbe({ messageId, types: 'dn:NetworkVideoTransmitter' }), 'utf8');
  const found = new Map<string, DiscoveredCamera>();
  const ignored: IgnoredReply[] = [];
  const maxBytes = opts.maxReplyBytes ?? 32 * 1024;
  const ignore = (from: string, reason: string, quiet = false): void => {
    ignored.push({ from, reason });
    // A camera's Hello or Bye on our port is ordinary; anything else is a broken or hostile sender.
    if (quiet) log?.debug({ from, reason }, 'discovery datagram ignored');
    else log?.warn({ from, reason }, 'discovery reply ignored');
  };
  const onMessage = (via: string | undefined) => (msg: Buffer, rinfo: RemoteInfo) => {
    const from = rinfo.address;
    if (msg.length > maxBytes) return ignore(from, `oversized (${msg.length} bytes)`);
    const parsed = parseDiscoveryReply(msg, { maxBytes });
    if (!parsed.ok) return ignore(from, `malformed (${parsed.error})`);
    const reply = parsed.reply;
    if (reply.kind !== 'probe-matches') return ignore(from, `not a ProbeMatches (${reply.kind})`, reply.kind === 'hello' || reply.kind === 'bye');
    if (reply.relatesTo !== messageId) return ignore(from, 'answers another probe (RelatesTo)');
    for (const m of reply.matches) {
      const xaddr = resolveXaddr(m.xaddrs, from, via);
      if (xaddr === undefined) {
        ignore(from, 'no usable http(s) XAddr');
        continue;
      }
      merge(found, m, xaddr, from);
    }
  };

  const sockets: Socket[] = [];
  const open = async (bind: string | undefined): Promise<Socket> => {
    const s = createSocket({ type: 'udp4' });
    sockets.push(s);
    s.on('error', (err) => log?.warn({ err: err.message }, 'discovery socket error'));
    s.on('message', onMessage(bind));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: bind, port: 0 }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    return s;
  };
  try {
    const perInterface: Socket[] = [];
    for (const address of addresses) {
      const s = await open(address);
      if (multicast) {
        s.setMulticastInterface(address);
        // TTL 1: a probe never leaves the camera LAN (SOAP-over-UDP leaves the TTL to the deployment).
        s.setMulticastTTL(1);
      }
      perInterface.push(s);
    }
    const directed = targets.length === 0 ? undefined : (perInterface[0] ?? (await open(undefined)));
    const sendTo = (s: Socket, address: string): Promise<void> =>
      new Promise((resolve) => {
        s.send(probe, port, address, (err) => {
          if (err) log?.debug({ to: address, err: err.message }, 'probe not sent');
          resolve();
        });
      });
    if (multicast) {
      for (const s of perInterface) await sendTo(s, WSD_MULTICAST_GROUP);
      setTimeout(() => {
        for (const s of perInterface) void sendTo(s, WSD_MULTICAST_GROUP).catch(() => undefined);
      }, 250).unref();
    }
    if (directed) {
      for (let i = 0; i < targets.length; i++) {
        await sendTo(directed, targets[i]);
        if (i % 32 === 31) await new Promise((r) => setTimeout(r, 32 * DIRECTED_PER_MS));
      }
    }
    await new Promise((r) => setTimeout(r, opts.timeoutMs ?? 3000));
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  return { cameras: [...found.values()].sort((a, b) => ipv4ToInt(a.address) - ipv4ToInt(b.address) || a.xaddr.localeCompare(b.xaddr)), ignored };
}

function merge(found: Map<string, DiscoveredCamera>, m: DiscoveredEndpoint, xaddr: string, from: string): void {
  const known = found.get(m.endpoint);
  if (known) {
    for (const s of m.scopes) if (!known.scopes.includes(s)) known.scopes.push(s);
    return;
  }
  const cam: DiscoveredCamera = { xaddr, endpoint: m.endpoint, address: from, scopes: [...m.scopes] };
  const name = scopeValue(m.scopes, 'name');
  const hardware = scopeValue(m.scopes, 'hardware');
  const location = scopeValue(m.scopes, 'location');
  if (name !== undefined) cam.name = name.slice(0, 200);
  if (hardware !== undefined) cam.hardware = hardware.slice(0, 200);
  if (location !== undefined) cam.location = location.slice(0, 200);
  found.set(m.endpoint, cam);
}

/**
 * The XAddr to use: an http(s) one on the address the reply came from if there is one; else the
 * first http(s) one, with its host replaced by the sender's when that host cannot be right —
 * unspecified (`0.0.0.0`, as cameras announce before DHCP completes), loopback, link-local, or
 * outside the subnet the reply arrived on while the sender is inside it (an address of another
 * interface of the camera, or of a NAT).
 */
export function resolveXaddr(xaddrs: readonly string[], from: string, via: string | undefined): string | undefined {
  const usable: URL[] = [];
  for (const x of xaddrs) {
    try {
      const u = new URL(x);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && u.username === '' && u.password === '') usable.push(u);
    } catch {
      // not a URL: skipped
    }
  }
  const same = usable.find((u) => u.hostname === from);
  if (same) return same.toString();
  const first = usable[0];
  if (!first) return undefined;
  const host = first.hostname.replace(/^\[(.*)\]$/, '$1');
  // A host name (or an IPv6 address other than `::`) may well be right: keep it.
  if (!isIPv4(host) && host !== '::') return first.toString();
  const netmask = via ? lookupIpv4Interface(via).netmask : undefined;
  const unreachable =
    host === '0.0.0.0' ||
    host === '::' ||
    host.startsWith('127.') ||
    host.startsWith('169.254.') ||
    (via !== undefined && netmask !== undefined && isIPv4(from) && sameSubnet(from, via, netmask) && !sameSubnet(host, via, netmask));
  if (unreachable && isIPv4(from)) first.hostname = from;
  return first.toString();
}

/**
 * `10.0.0.1-10.0.0.254`, `10.0.0.0/24` (network and broadcast addresses left out) or one address
 * → the addresses, at most {@link MAX_RANGE_ADDRESSES}. Throws GatewayError BAD_REQUEST.
 */
export function parseAddressRange(range: string): string[] {
  const text = range.trim();
  let lo: number;
  let hi: number;
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  const dash = /^(\d{1,3}(?:\.\d{1,3}){3})\s*-\s*(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (cidr && isIPv4(cidr[1]) && Number(cidr[2]) <= 32) {
    const bits = Number(cidr[2]);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const net = (ipv4ToInt(cidr[1]) & mask) >>> 0;
    const size = 2 ** (32 - bits);
    [lo, hi] = size <= 2 ? [net, net + size - 1] : [net + 1, net + size - 2];
  } else if (dash && isIPv4(dash[1]) && isIPv4(dash[2])) {
    [lo, hi] = [ipv4ToInt(dash[1]), ipv4ToInt(dash[2])];
  } else if (isIPv4(text)) {
    lo = hi = ipv4ToInt(text);
  } else {
    throw new GatewayError('BAD_REQUEST', `not an address range: ${JSON.stringify(range.slice(0, 64))} (use 10.0.0.1-10.0.0.254 or 10.0.0.0/24)`);
  }
  if (hi < lo) throw new GatewayError('BAD_REQUEST', `the range ${range} ends before it starts`);
  if (hi - lo + 1 > MAX_RANGE_ADDRESSES) throw new GatewayError('BAD_REQUEST', `the range ${range} holds ${hi - lo + 1} addresses; at most ${MAX_RANGE_ADDRESSES}`);
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) out.push(intToIpv4(n));
  return out;
}

/**
 * Discovery as school IT and the centre see it: every camera found, and, when credentials are
 * given, its video profiles (read over ONVIF, at most 8 cameras at a time; a camera that refuses
 * gets `error` instead). The shape of the link's `discover.result`.
 */
export async function discoverDevices(opts: DiscoveryOptions & { username?: string; password?: string; connectTimeoutMs?: number }): Promise<DiscoveredDevice[]> {
  const { cameras } = await discoverCameras(opts);
  const devices: DiscoveredDevice[] = cameras.map((c) => ({
    xaddr: c.xaddr,
    endpoint: c.endpoint.slice(0, 2048),
    address: c.address,
    ...(c.name === undefined ? {} : { name: c.name }),
    ...(c.hardware === undefined ? {} : { hardware: c.hardware }),
    ...(c.location === undefined ? {} : { location: c.location }),
    profiles: [],
  }));
  if (opts.username === undefined) return devices;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const d = devices[next++];
      try {
        const cam = await OnvifCamera.connect({ xaddr: d.xaddr, username: opts.username ?? '', password: opts.password ?? '', timeoutMs: opts.connectTimeoutMs ?? 5000, anyCodec: true });
        cam.close();
        d.profiles = cam.allProfiles.slice(0, 64).map((p) => ({
          token: p.token,
          name: p.name,
          width: p.width,
          height: p.height,
          ...(p.fps === undefined ? {} : { fps: Math.min(p.fps, 1000) }),
          encoding: p.encoding,
          ...(p.rtspUri === undefined ? {} : { rtspUri: p.rtspUri }),
        }));
      } catch (err) {
        d.error = linkReason(fromCameraError(err).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, devices.length) }, worker));
  return devices;
}
