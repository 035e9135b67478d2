import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** IFF_UP and IFF_MULTICAST from <linux/if.h>. */
const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;

/**
 * IPv4 addresses of the interfaces that are up and multicast-capable. Linux flags come from sysfs
 * (`ip netns exec` mounts the namespace's own); elsewhere every non-internal interface counts.
 */
export function multicastInterfaceAddresses(): string[] {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    let capable: boolean;
    try {
      const flags = Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
      capable = (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0;
    } catch {
      capable = !(addrs ?? []).some((a) => a.internal);
    }
    if (!capable) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4') out.push(a.address);
  }
  return out;
}

/** The interface holding a local IPv4 address, with its netmask; both undefined when no interface has it. */
export function lookupIpv4Interface(address: string): { ifaceName: string | undefined; netmask: string | undefined } {
  for (const [ifaceName, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && a.address === address) return { ifaceName, netmask: a.netmask };
  }
  return { ifaceName: undefined, netmask: undefined };
}

/** Dotted IPv4 to an unsigned 32-bit number (no validation: callers pass checked addresses). */
export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function sameSubnet(a: string, b: string, mask: string): boolean {
  const m = ipv4ToInt(mask);
  return ((ipv4ToInt(a) & m) >>> 0) === ((ipv4ToInt(b) & m) >>> 0);
}
