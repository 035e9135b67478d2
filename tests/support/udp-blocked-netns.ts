import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A network namespace joined to the host by one veth pair, where only TCP gets through. */
export interface UdpBlockedNetns {
  /** The namespace's name (for `ip netns exec` / `launchChromium({ netns })`). */
  ns: string;
  /** The host's end of the link: what processes in the namespace reach the host at. */
  hostAddress: string;
  /** The namespace's own address. */
  nsAddress: string;
  /** Removes the namespace and the link. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a namespace from which no UDP gets out (a policy-routing rule sends IP protocol 17 to a
 * blackhole route) while TCP reaches the host — like a school or police network that lets only
 * HTTPS out. The namespace has no default route: its traffic goes only to the host's end of the
 * link, nothing leaves the machine. Needs root and iproute2: without them this throws, it does
 * not skip.
 */
export async function createUdpBlockedNetns(): Promise<UdpBlockedNetns> {
  const tag = `${process.pid % 10000}${randomInt(100, 999)}`;
  const ns = `scudp${tag}`;
  const hostDev = `vuh${tag}`;
  const nsDev = `vun${tag}`;
  const net = `10.${randomInt(200, 250)}.${randomInt(0, 250)}`;
  const hostAddress = `${net}.1`;
  const nsAddress = `${net}.2`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await run('ip', ['link', 'del', hostDev]).catch(() => undefined);
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', hostDev, 'type', 'veth', 'peer', 'name', nsDev, 'netns', ns]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostDev]);
    await run('ip', ['link', 'set', hostDev, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${nsAddress}/30`, 'dev', nsDev]);
    await run('ip', ['-n', ns, 'link', 'set', nsDev, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Every UDP datagram leaving the namespace is routed into a blackhole (policy routing by IP
    // protocol); the namespace's own loopback still works (the `local` table is looked up first).
    await run('ip', ['-n', ns, 'rule', 'add', 'ipproto', 'udp', 'lookup', '100', 'prio', '100']);
    await run('ip', ['-n', ns, 'route', 'add', 'blackhole', 'default', 'table', '100']);
  } catch (err) {
    await close();
    throw new Error(`could not set up the UDP-blocked namespace (root and iproute2 are needed): ${(err as Error).message}`);
  }
  return { ns, hostAddress, nsAddress, close };
}

/** A plain TCP relay (a reverse proxy's job): `listenHost`:port → `target`. */
export async function tcpRelay(listenHost: string, target: URL): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, listenHost, r));
  return {
    url: `http://${listenHost}:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
