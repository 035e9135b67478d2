import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/**
 * A private test LAN made of Linux network namespaces (root only):
 *
 *   <tag>-lan   holds bridge `br0` (multicast snooping off, so it floods discovery like a hub)
 *   <tag>-h<i>  one per host (a school, a camera host, the gateway/client), `eth0` = veth to br0,
 *               addresses 10.213.<i>.10, .11, … /16 and a 224.0.0.0/4 route so multicast has a way out.
 *
 * Everything is created inside the namespaces (`ip -n`): the root namespace and the machine's real
 * interface are never touched, so test multicast cannot leak. Deleting the namespaces removes the
 * veths and the bridge with them.
 */

/** Every namespace name we create starts with this, then the owner PID: stale ones can be found. */
export const NETNS_PREFIX = 'scsim';
const NAME_RE = new RegExp(`^${NETNS_PREFIX}(\\d+)x\\d+-`);

export interface NetnsLanHostSpec {
  /** what callers call this host, e.g. a school id or `client` */
  name: string;
  /** addresses on the host's eth0 (one per camera for per-camera IPs); default 1, at most 240 */
  addresses?: number;
}

export interface NetnsLanOptions {
  hosts: NetnsLanHostSpec[];
  /** delete everything on exit, SIGINT and SIGTERM even if close() is never called; default true */
  cleanupOnExit?: boolean;
  logger?: { debug(fields: Record<string, unknown>, msg: string): void };
}

export interface NetnsLanHost {
  name: string;
  /** namespace name for `ip netns exec` */
  ns: string;
  iface: 'eth0';
  /** IPv4 addresses on eth0, first one primary */
  addresses: string[];
  /** prefix length of those addresses */
  prefixLength: 16;
}

export class NetnsError extends Error {
  constructor(
    readonly code: 'NOT_ROOT' | 'NO_IP' | 'NETNS_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'NetnsError';
  }
}

/** Throws {@link NetnsError} explaining what is missing when namespaces cannot be created here. */
export async function assertNetnsSupport(): Promise<void> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new NetnsError('NOT_ROOT', 'network namespace mode needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)');
  }
  try {
    await execFileP('ip', ['-V']);
  } catch {
    throw new NetnsError('NO_IP', 'network namespace mode needs iproute2 (`ip`) on PATH');
  }
}

async function ip(args: string[]): Promise<void> {
  try {
    await execFileP('ip', args, { timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new NetnsError('NETNS_FAILED', `ip ${args.join(' ')}: ${stderr || String(err)}`);
  }
}

async function listNamespaces(): Promise<string[]> {
  const { stdout } = await execFileP('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n !== '');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete namespaces left by NetnsLan owners that died without cleaning up. Returns their names. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const m = NAME_RE.exec(ns);
    if (!m || pidAlive(Number(m[1]))) continue;
    await ip(['netns', 'del', ns]).then(() => removed.push(ns), () => {});
  }
  return removed;
}

let sequence = 0;
const live = new Set<NetnsLan>();
let hooksInstalled = false;

function cleanupAllSync(): void {
  for (const lan of live) lan.closeSync();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAllSync();
  // Only ours listening: restore the default action so the process still dies of the signal.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * The namespaces, veths and bridge of one test LAN, and the processes started in it.
 * `close()` is idempotent: it ends those processes by PID, then deletes the namespaces; emits `close`.
 */
export class NetnsLan extends EventEmitter {
  readonly #namespaces: string[];
  readonly #hosts: Map<string, NetnsLanHost>;
  readonly #children = new Set<ChildProcess>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** namespace holding the bridge */
  readonly lanNs: string;

  private constructor(lanNs: string, hosts: NetnsLanHost[]) {
    super();
    this.lanNs = lanNs;
    this.#hosts = new Map(hosts.map((h) => [h.name, h]));
    this.#namespaces = [...hosts.map((h) => h.ns), lanNs];
  }

  /** Build the LAN. Rejects with {@link NetnsError} (and removes what it made) if any step fails. */
  static async create(opts: NetnsLanOptions): Promise<NetnsLan> {
    await assertNetnsSupport();
    if (opts.hosts.length === 0 || opts.hosts.length > 250) throw new RangeError('a NetnsLan has 1..250 hosts');
    const names = new Set(opts.hosts.map((h) => h.name));
    if (names.size !== opts.hosts.length) throw new RangeError('host names must be unique');
    const tag = `${NETNS_PREFIX}${process.pid}x${++sequence}`;
    const lanNs = `${tag}-lan`;
    const hosts: NetnsLanHost[] = opts.hosts.map((h, i) => {
      const n = h.addresses ?? 1;
      if (!Number.isInteger(n) || n < 1 || n > 240) throw new RangeError(`host ${h.name}: addresses must be 1..240`);
      return {
        name: h.name,
        ns: `${tag}-h${i}`,
        iface: 'eth0',
        addresses: Array.from({ length: n }, (_, k) => `10.213.${i}.${10 + k}`),
        prefixLength: 16,
      };
    });
    const lan = new NetnsLan(lanNs, hosts);
    if (opts.cleanupOnExit ?? true) installHooks();
    live.add(lan);
    try {
      await ip(['netns', 'add', lanNs]);
      await ip(['-n', lanNs, 'link', 'set', 'lo', 'up']);
      // No IGMP querier on this LAN, and snooping would drop group traffic once entries age out.
      await ip(['-n', lanNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0', 'stp_state', '0']);
      await ip(['-n', lanNs, 'link', 'set', 'br0', 'up']);
      for (const [i, h] of hosts.entries()) {
        await ip(['netns', 'add', h.ns]);
        await ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
        // Created from inside the bridge namespace with the peer moved straight into the host
        // namespace: no interface ever exists in the root namespace.
        await ip(['-n', lanNs, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
        await ip(['-n', lanNs, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
        for (const a of h.addresses) await ip(['-n', h.ns, 'addr', 'add', `${a}/16`, 'dev', 'eth0']);
        await ip(['-n', h.ns, 'link', 'set', 'eth0', 'up']);
        // Without a default route, a multicast send with no IP_MULTICAST_IF (the `onvif` client's)
        // fails with ENETUNREACH.
        await ip(['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      }
      opts.logger?.debug({ lanNs, hosts: hosts.map((h) => ({ name: h.name, ns: h.ns, addresses: h.addresses })) }, 'netns LAN up');
      return lan;
    } catch (err) {
      lan.closeSync();
      throw err;
    }
  }

  get hosts(): NetnsLanHost[] {
    return [...this.#hosts.values()];
  }

  /** every namespace of this LAN (hosts first, bridge last) */
  get namespaces(): string[] {
    return [...this.#namespaces];
  }

  host(name: string): NetnsLanHost {
    const h = this.#hosts.get(name);
    if (!h) throw new RangeError(`no host ${name} in this LAN`);
    return h;
  }

  /**
   * Start `command` inside a host's namespace (`ip netns exec <ns> command …`). `ip netns exec`
   * execs in place, so the child's PID is the command's own. The LAN ends it on close.
   */
  spawn(hostName: string, command: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
    if (this.#closed) throw new Error('NetnsLan is closed');
    const child = spawn('ip', ['netns', 'exec', this.host(hostName).ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** Run a command to completion inside a host's namespace; rejects on non-zero exit or timeout. */
  async exec(hostName: string, command: string, args: string[] = [], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
    if (this.#closed) throw new Error('NetnsLan is closed');
    return execFileP('ip', ['netns', 'exec', this.host(hostName).ns, command, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  }

  /** End spawned processes (SIGTERM, SIGKILL after `graceMs`), then delete the namespaces. */
  close(graceMs = 3000): Promise<void> {
    if (this.#closed && !this.#closing) return Promise.resolve();
    this.#closing ??= (async () => {
      await Promise.all(
        [...this.#children].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return resolve();
              const t = setTimeout(() => killPid(c.pid, 'SIGKILL'), graceMs);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              killPid(c.pid, 'SIGTERM');
            }),
        ),
      );
      for (const ns of this.#namespaces) await ip(['netns', 'del', ns]).catch(() => {});
      this.#closed = true;
      live.delete(this);
      this.emit('close');
    })();
    return this.#closing;
  }

  /** Synchronous teardown for `exit` and signal handlers: SIGKILL children, delete namespaces. */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    live.delete(this);
    for (const c of this.#children) killPid(c.pid, 'SIGKILL');
    for (const ns of this.#namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // not created yet, or already gone
      }
    }
    this.emit('close');
  }
}

function killPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
