import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  encodeLinkMessage,
  parseGatewayAuth,
  parseLinkMessage,
  type GatewayEvent,
  type LinkMessage,
  type LinkMessageOf,
} from '../../protocol/src/link/link-messages';

export interface LinkPeerOptions {
  gatewayId: string;
  secret: string;
  /** Ack every `events` message by id, as a centre that stored them would. Default true. */
  ack?: boolean;
  heartbeatMs?: number;
}

/**
 * A stand-in for the centre's end of the gateway link, for tests only: it speaks the real schema
 * (every frame through `parseLinkMessage`), checks the gateway's credentials, answers `welcome`
 * and `pong`, stores events by id (idempotently, counting copies) and acks them. Not the centre:
 * no database, no fan-out, no dashboards.
 */
export class LinkPeer {
  readonly received: LinkMessage[] = [];
  /** Every event received, first copy of each id, in arrival order. */
  readonly events: GatewayEvent[] = [];
  /** How many copies of already-stored events arrived (resends). */
  duplicates = 0;
  connections = 0;
  ack: boolean;
  private socket: WebSocket | undefined;
  private readonly seen = new Set<string>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
    private readonly opts: LinkPeerOptions,
  ) {
    this.ack = opts.ack ?? true;
  }

  static async start(opts: LinkPeerOptions, port = 0): Promise<LinkPeer> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const peer = new LinkPeer(server, wss, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts);
    server.on('upgrade', (req, socket, head) => {
      const creds = parseGatewayAuth(req.headers.authorization);
      if (req.url !== '/link' || creds?.gatewayId !== opts.gatewayId || creds.secret !== opts.secret) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => peer.accept(ws));
    });
    return peer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connected(): boolean {
    return this.socket?.readyState === 1;
  }

  /** Messages of one type received so far. */
  of<T extends LinkMessage['type']>(type: T): LinkMessageOf<T>[] {
    return this.received.filter((m): m is LinkMessageOf<T> => m.type === type);
  }

  send(msg: LinkMessage): void {
    this.socket?.send(encodeLinkMessage(msg));
  }

  /** Resolves once `check` holds (checked on every message and every 50 ms), or fails after `timeoutMs`. */
  async waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`link peer: timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.received.map((m) => m.type).slice(-20))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Drops the gateway's connection (a link cut). */
  drop(): void {
    this.socket?.terminate();
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }

  private accept(ws: WebSocket): void {
    this.socket?.terminate();
    this.socket = ws;
    this.connections++;
    ws.on('message', (data: Buffer) => {
      const msg = parseLinkMessage(data);
      this.received.push(msg);
      if (msg.type === 'ping') ws.send(encodeLinkMessage({ type: 'pong', t: msg.t }));
      if (msg.type === 'events') {
        for (const e of msg.events) {
          if (this.seen.has(e.id)) this.duplicates++;
          else {
            this.seen.add(e.id);
            this.events.push(e);
          }
        }
        if (this.ack) ws.send(encodeLinkMessage({ type: 'events.ack', ids: msg.events.map((e) => e.id) }));
      }
      for (const w of [...this.waiters]) w();
      this.waiters.clear();
    });
    ws.send(encodeLinkMessage({ type: 'welcome', gatewayId: this.opts.gatewayId, heartbeatMs: this.opts.heartbeatMs ?? 5000 }));
  }
}
