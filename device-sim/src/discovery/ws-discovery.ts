import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { type SimLogger, silentSimLogger } from '../sim-logger';
import {
  buildBye,
  buildHello,
  buildProbeMatches,
  buildResolveMatches,
  endpointAddress,
  parseDiscoveryRequest,
  probeMatchesDevice,
  WSD_MULTICAST_GROUP,
  WSD_PORT,
  type AppSequence,
  type DiscoverableDevice,
  type DiscoveryRequest,
} from '@schoolcam/protocol/discovery/ws-discovery-message';
import { lookupIpv4Interface, multicastInterfaceAddresses, sameSubnet } from '@schoolcam/protocol/discovery/ipv4-interfaces';

export type { DiscoverableDevice } from '@schoolcam/protocol/discovery/ws-discovery-message';
export { stableDeviceUuid } from '@schoolcam/protocol/discovery/ws-discovery-message';

export type DiscoveryLogger = SimLogger;

export interface WsDiscoveryResponderOptions {
  /**
   * IPv4 address of the interface to listen on (`--discovery-interface`). Default: every up,
   * multicast-capable IPv4 interface when `multicast`, else 127.0.0.1.
   */
  interfaceAddress?: string;
  /** UDP port for the multicast group and for directed probes; default 3702. 0 only makes sense without multicast. */
  port?: number;
  /** the cameras to answer for; read on every probe, so cameras may come and go */
  devices: () => DiscoverableDevice[];
  /** join 239.255.255.250 and announce with Hello/Bye; default true. false: directed probes only. */
  multicast?: boolean;
  /** send Hello for every camera once started; default true (only has an effect with `multicast`) */
  announce?: boolean;
  /**
   * Upper bound of the random wait before answering a multicast Probe (SOAP-over-UDP APP_MAX_DELAY,
   * WS-Discovery 2005/04 §2.4), so a room of cameras does not answer in the same millisecond.
   * Default 500 ms. Directed probes are answered at once.
   */
  maxReplyDelayMs?: number;
  /** datagrams above this are dropped unread; default 65536 */
  maxDatagramBytes?: number;
  logger?: DiscoveryLogger;
}

/** Counters for `GET {control}/state` and for tests. */
export interface DiscoveryStats {
  probes: number;
  resolves: number;
  /** datagrams sent in reply (duplicates counted) */
  matchesSent: number;
  /** datagrams that were not a well-formed Probe/Resolve, or too large */
  ignored: number;
}


interface InterfaceSocket {
  address: string;
  /** OS interface name (undefined if the address is not local, which bind would have refused) */
  ifaceName: string | undefined;
  /** netmask of `address`, to pick which interface answers a multicast probe */
  netmask: string | undefined;
  socket: Socket;
}

function bindSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** First address per interface: the group is joined, and Hello/Bye sent, once per link. */
function onePerInterface<T extends { address: string; ifaceName: string | undefined }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = i.ifaceName ?? i.address;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * WS-Discovery 2005/04 target service for a set of simulated cameras (ONVIF Core §7).
 *
 * Sockets: one bound to 239.255.255.250:`port` that joins the group on each chosen interface (so only
 * discovery multicast reaches it), and one per interface address bound to `address:port` for directed
 * probes. Replies and Hello/Bye leave from the interface's own socket, so their source is the
 * camera's address, which the `onvif` client compares with XAddrs. Each camera answers in its own
 * datagram.
 *
 * Emits `error` (socket failure after start; only if someone listens) and `close` once.
 */
export class WsDiscoveryResponder extends EventEmitter {
  readonly #opts: WsDiscoveryResponderOptions;
  readonly #log: DiscoveryLogger;
  readonly #group: Socket | undefined;
  readonly #ifaces: InterfaceSocket[];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #appSequence: AppSequence = { instanceId: Math.floor(Date.now() / 1000), messageNumber: 0 };
  #zeroXAddrs = false;
  #duplicates = false;
  #closing: Promise<void> | undefined;

  /** the bound UDP port (the multicast port when `multicast`) */
  readonly port: number;
  readonly multicast: boolean;
  readonly stats: DiscoveryStats = { probes: 0, resolves: 0, matchesSent: 0, ignored: 0 };

  private constructor(opts: WsDiscoveryResponderOptions, group: Socket | undefined, ifaces: InterfaceSocket[], port: number) {
    super();
    this.#opts = opts;
    this.#log = opts.logger ?? silentSimLogger;
    this.#group = group;
    this.#ifaces = ifaces;
    this.port = port;
    this.multicast = group !== undefined;
    group?.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo, undefined));
    for (const i of ifaces) i.socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo, i));
    for (const s of [group, ...ifaces.map((i) => i.socket)]) {
      s?.on('error', (err) => {
        this.#log.warn({ err: String(err) }, 'discovery socket error');
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
    }
  }

  /**
   * Bind, join the group and (by default) send Hello for every camera. Rejects if an address is not
   * IPv4, no multicast interface exists, or a port cannot be bound; nothing is left open then.
   */
  static async create(opts: WsDiscoveryResponderOptions): Promise<WsDiscoveryResponder> {
    const multicast = opts.multicast ?? true;
    const port = opts.port ?? WSD_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid discovery port ${port}`);
    let addresses: string[];
    if (opts.interfaceAddress !== undefined) {
      if (!isIPv4(opts.interfaceAddress)) throw new TypeError(`--discovery-interface must be an IPv4 address, got ${JSON.stringify(opts.interfaceAddress)}`);
      addresses = [opts.interfaceAddress];
    } else {
      addresses = multicast ? multicastInterfaceAddresses() : ['127.0.0.1'];
      if (addresses.length === 0) throw new Error('no multicast-capable IPv4 interface is up; pass --discovery-interface <address>');
    }
    const opened: Socket[] = [];
    // Only the group socket shares its address (every responder on the host binds it); a second
    // responder on the same interface address must fail loudly rather than steal directed probes.
    const open = (reuseAddr: boolean): Socket => {
      const s = createSocket({ type: 'udp4', reuseAddr });
      opened.push(s);
      return s;
    };
    try {
      let group: Socket | undefined;
      let boundPort = port;
      if (multicast) {
        group = open(true);
        // Bound to the group address, not 0.0.0.0: Linux hands multicast for a port to every socket
        // bound to INADDR_ANY on it, whichever interface joined; this socket sees discovery traffic only.
        await bindSocket(group, port, WSD_MULTICAST_GROUP);
        boundPort = group.address().port;
        const links = onePerInterface(addresses.map((address) => ({ address, ...lookupIpv4Interface(address) })));
        // A second join on the same link fails with EADDRINUSE, hence one per interface.
        for (const l of links) group.addMembership(WSD_MULTICAST_GROUP, l.address);
      }
      const ifaces: InterfaceSocket[] = [];
      for (const address of addresses) {
        const socket = open(false);
        await bindSocket(socket, boundPort, address);
        boundPort = socket.address().port;
        if (multicast) {
          socket.setMulticastInterface(address);
          // TTL 1: announcements never leave the link (SOAP-over-UDP leaves the TTL to the deployment).
          socket.setMulticastTTL(1);
          socket.setMulticastLoopback(true);
        }
        ifaces.push({ address, ...lookupIpv4Interface(address), socket });
      }
      const responder = new WsDiscoveryResponder(opts, group, ifaces, boundPort);
      if (multicast && (opts.announce ?? true)) await responder.hello();
      return responder;
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
  }

  /** interface addresses the responder listens on */
  get addresses(): string[] {
    return this.#ifaces.map((i) => i.address);
  }

  /** Fault: announce and answer with `0.0.0.0` as the XAddrs host. */
  setZeroXAddrs(on: boolean): void {
    this.#zeroXAddrs = on;
  }

  /** Fault: send every ProbeMatches/ResolveMatches datagram twice. */
  setDuplicates(on: boolean): void {
    this.#duplicates = on;
  }

  get faults(): { zeroXAddrs: boolean; duplicates: boolean } {
    return { zeroXAddrs: this.#zeroXAddrs, duplicates: this.#duplicates };
  }

  /** Multicast Hello (§4.1) for the given cameras (default all) on every chosen interface. No-op without multicast. */
  async hello(uuids?: string[]): Promise<void> {
    await this.#announce('hello', uuids);
  }

  /** Multicast Bye (§4.2) for the given cameras (default all). No-op without multicast. */
  async bye(uuids?: string[]): Promise<void> {
    await this.#announce('bye', uuids);
  }

  /**
   * Send Bye for every camera (unless `bye: false`, as a crashed or rebooting camera would), then
   * close the sockets. Idempotent.
   */
  close(opts: { bye?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      if (this.multicast && (opts.bye ?? true)) await this.bye().catch(() => {});
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      await Promise.all([this.#group, ...this.#ifaces.map((i) => i.socket)].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve())));
      this.emit('close');
    })();
    return this.#closing;
  }

  async #announce(kind: 'hello' | 'bye', uuids: string[] | undefined): Promise<void> {
    if (!this.multicast || this.#closing) return;
    const devices = this.#devices().filter((d) => !uuids || uuids.includes(d.uuid) || uuids.includes(endpointAddress(d)));
    const sends: Promise<void>[] = [];
    for (const d of devices) {
      const xml = (kind === 'hello' ? buildHello : buildBye)(d, { appSequence: this.#nextSequence(), zeroXAddrs: this.#zeroXAddrs });
      for (const i of onePerInterface(this.#ifaces)) sends.push(this.#send(i.socket, xml, this.port, WSD_MULTICAST_GROUP));
    }
    await Promise.all(sends);
    this.#log.debug({ kind, cameras: devices.length, interfaces: this.addresses }, 'announced');
  }

  #devices(): DiscoverableDevice[] {
    try {
      return this.#opts.devices();
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'devices() threw; answering for none');
      return [];
    }
  }

  #nextSequence(): AppSequence {
    this.#appSequence.messageNumber++;
    return { ...this.#appSequence };
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo, via: InterfaceSocket | undefined): void {
    if (this.#closing) return;
    if (msg.byteLength > (this.#opts.maxDatagramBytes ?? 65536) || rinfo.port === 0) {
      this.stats.ignored++;
      return;
    }
    const parsed = parseDiscoveryRequest(msg, { maxBytes: this.#opts.maxDatagramBytes });
    if (!parsed.ok) {
      this.stats.ignored++;
      this.#log.debug({ from: rinfo.address, error: parsed.error }, 'ignored datagram');
      return;
    }
    const replies = this.#replies(parsed.request);
    if (replies.length === 0) return;
    // A multicast probe is answered from the interface on the sender's subnet (else the first).
    const out = via ?? this.#ifaces.find((i) => i.netmask && sameSubnet(i.address, rinfo.address, i.netmask)) ?? this.#ifaces[0];
    const delayMax = via ? 0 : (this.#opts.maxReplyDelayMs ?? 500);
    const send = (): void => {
      for (const { xml, device } of replies) {
        const copies = this.#duplicates || device.duplicates ? 2 : 1;
        for (let k = 0; k < copies; k++) void this.#send(out.socket, xml, rinfo.port, rinfo.address).then(() => this.stats.matchesSent++, () => {});
      }
    };
    if (delayMax <= 0) return send();
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#closing) send();
    }, Math.floor(Math.random() * delayMax));
    this.#timers.add(t);
  }

  #replies(req: DiscoveryRequest): { xml: string; device: DiscoverableDevice }[] {
    const build = { zeroXAddrs: this.#zeroXAddrs };
    switch (req.kind) {
      case 'probe':
        this.stats.probes++;
        return this.#devices()
          .filter((d) => probeMatchesDevice(req, d))
          .map((d) => ({ device: d, xml: buildProbeMatches(d, req.messageId, { ...build, appSequence: this.#nextSequence() }) }));
      case 'resolve':
        this.stats.resolves++;
        return this.#devices()
          .filter((d) => endpointAddress(d) === req.address || d.uuid === req.address)
          .map((d) => ({ device: d, xml: buildResolveMatches(d, req.messageId, { ...build, appSequence: this.#nextSequence() }) }));
      default: {
        const unreachable: never = req;
        throw new Error(`unhandled discovery request ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #send(socket: Socket, xml: string, port: number, address: string): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        socket.send(xml, port, address, (err) => {
          if (err) {
            this.#log.warn({ to: `${address}:${port}`, err: String(err) }, 'discovery send failed');
            reject(err);
          } else resolve();
        });
      } catch (err) {
        // socket already closed
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
}
