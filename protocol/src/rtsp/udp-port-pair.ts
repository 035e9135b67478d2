/**
 * An RTP/RTCP pair of UDP sockets on consecutive ports, the even one for RTP
 * (RFC 3550 §11: "RTP SHOULD use an even destination port number and the
 * corresponding RTCP stream SHOULD use the next higher (odd) port number").
 * Used by the server (`server_port=`) and the client (`client_port=`) for RTP over
 * UDP unicast (RFC 2326 §12.39).
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** How many random port pairs to try before giving up. */
const BIND_ATTEMPTS = 32;

/** A datagram received on either socket of the pair. */
export type UdpPairListener = (kind: 'rtp' | 'rtcp', packet: Buffer, from: { address: string; port: number }) => void;

export class UdpPortPair {
  private closed = false;

  private constructor(
    private readonly rtp: dgram.Socket,
    private readonly rtcp: dgram.Socket,
    /** The RTP port (even); RTCP is `rtpPort + 1`. */
    readonly rtpPort: number,
    onPacket: UdpPairListener,
  ) {
    rtp.on('message', (msg, rinfo) => onPacket('rtp', msg, rinfo));
    rtcp.on('message', (msg, rinfo) => onPacket('rtcp', msg, rinfo));
    // Sends to a client that went away can fail with ICMP errors (ECONNREFUSED): never fatal.
    rtp.on('error', () => {});
    rtcp.on('error', () => {});
  }

  /** The RTCP port. */
  get rtcpPort(): number {
    return this.rtpPort + 1;
  }

  /**
   * Binds two sockets on `host` at an even port and the next one, letting the OS
   * pick (port 0) and retrying when it picks an odd port or the neighbour is taken.
   */
  static async bind(host: string, onPacket: UdpPairListener): Promise<UdpPortPair> {
    const type = net.isIPv6(host) ? 'udp6' : 'udp4';
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      const rtp = dgram.createSocket({ type });
      const rtpPort = await bindSocket(rtp, host, 0).catch(() => undefined);
      if (rtpPort === undefined || rtpPort % 2 !== 0 || rtpPort >= 65_535) {
        closeQuietly(rtp);
        continue;
      }
      const rtcp = dgram.createSocket({ type });
      const rtcpPort = await bindSocket(rtcp, host, rtpPort + 1).catch(() => undefined);
      if (rtcpPort === undefined) {
        closeQuietly(rtp);
        closeQuietly(rtcp);
        continue;
      }
      return new UdpPortPair(rtp, rtcp, rtpPort, onPacket);
    }
    throw new Error(`could not bind an even/odd UDP port pair on ${host} after ${BIND_ATTEMPTS} attempts`);
  }

  /** Sends one RTP packet. Errors (unreachable client) are ignored: UDP media is best effort. */
  sendRtp(packet: Buffer, port: number, address: string): void {
    if (!this.closed) this.rtp.send(packet, port, address, () => {});
  }

  /** Sends one RTCP packet. */
  sendRtcp(packet: Buffer, port: number, address: string): void {
    if (!this.closed) this.rtcp.send(packet, port, address, () => {});
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rtp.close();
    this.rtcp.close();
  }
}

function bindSocket(socket: dgram.Socket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve(socket.address().port);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address: host, port, exclusive: true });
  });
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // Already closed after a failed bind.
  }
}
