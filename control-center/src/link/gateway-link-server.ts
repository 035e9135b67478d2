import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  type LinkMessage,
  encodeLinkMessage,
  parseGatewayAuth,
  parseLinkMessage,
  unreachable,
} from '@schoolcam/protocol/link/link-messages';
import type { GatewayStore } from '../storage/gateway-store';
import type { CameraStore } from '../storage/camera-store';
import type { Fanout, GatewayLinkPort } from '../fanout/fanout';

export interface LinkServerEvents {
  /** Camera list or states changed (for pushing to dashboards). */
  cameras: [];
}

interface GatewaySession {
  ws: WebSocket;
  gatewayId: string;
  lastSeen: number;
}

export interface LinkServerOptions {
  /** A gateway that sends nothing for this long is offline. Default 15000. */
  heartbeatTimeoutMs?: number;
  /** Interval the gateway is told to ping at. Default 5000. */
  heartbeatMs?: number;
}

/**
 * The centre's end of the gateway link (`/link`). Authenticates gateways on the
 * upgrade, keeps one session per gateway (a reconnect replaces the old one), records
 * inventories, and routes stream signalling to the fan-out.
 */
export class GatewayLinkServer extends EventEmitter<LinkServerEvents> implements GatewayLinkPort {
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sweep: NodeJS.Timeout;
  private fanout: Fanout | undefined;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;

  constructor(
    private readonly gateways: GatewayStore,
    private readonly cameras: CameraStore,
    private readonly log: Logger,
    opts: LinkServerOptions = {},
  ) {
    super();
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 15_000;
    this.sweep = setInterval(() => this.expire(), Math.min(this.heartbeatMs, 1000));
    this.sweep.unref();
  }

  attachFanout(fanout: Fanout): void {
    this.fanout = fanout;
  }

  /** Checks the upgrade's credentials; returns the gateway id or undefined. */
  async authenticate(req: IncomingMessage): Promise<string | undefined> {
    const creds = parseGatewayAuth(req.headers.authorization);
    if (!creds) return undefined;
    return (await this.gateways.authenticate(creds.gatewayId, creds.secret))?.id;
  }

  isOnline(gatewayId: string): boolean {
    return this.sessions.has(gatewayId);
  }

  onlineCount(): number {
    return this.sessions.size;
  }

  send(gatewayId: string, msg: LinkMessage): boolean {
    const s = this.sessions.get(gatewayId);
    if (!s || s.ws.readyState !== s.ws.OPEN) return false;
    s.ws.send(encodeLinkMessage(msg));
    return true;
  }

  accept(ws: WebSocket, gatewayId: string): void {
    const previous = this.sessions.get(gatewayId);
    if (previous) {
      this.log.info({ gateway: gatewayId }, 'gateway reconnected; dropping the previous link');
      this.drop(previous, 'replaced by a new connection');
    }
    const session: GatewaySession = { ws, gatewayId, lastSeen: Date.now() };
    this.sessions.set(gatewayId, session);
    this.gateways.touch(gatewayId);
    this.log.info({ gateway: gatewayId }, 'gateway connected');
    ws.send(encodeLinkMessage({ type: 'welcome', gatewayId, heartbeatMs: this.heartbeatMs }));
    ws.on('message', (data: Buffer) => {
      session.lastSeen = Date.now();
      let msg: LinkMessage;
      try {
        msg = parseLinkMessage(data);
      } catch (err) {
        this.log.warn({ gateway: gatewayId, err: (err as Error).message }, 'bad link message');
        ws.send(encodeLinkMessage({ type: 'error', code: 'LINK_BAD_MESSAGE', message: (err as Error).message }));
        return;
      }
      this.handle(session, msg);
    });
    ws.on('close', () => this.gone(session));
    ws.on('error', (err) => this.log.warn({ gateway: gatewayId, err: err.message }, 'link socket error'));
  }

  close(): void {
    clearInterval(this.sweep);
    for (const s of [...this.sessions.values()]) this.drop(s, 'centre shutting down');
  }

  private handle(s: GatewaySession, msg: LinkMessage): void {
    switch (msg.type) {
      case 'hello': {
        const record = this.gateways.get(s.gatewayId);
        if (msg.gatewayId !== s.gatewayId || record?.schoolId !== msg.schoolId) {
          this.log.warn({ gateway: s.gatewayId, claimed: msg.gatewayId, school: msg.schoolId }, 'hello does not match the credentials');
          this.drop(s, 'hello does not match the credentials');
          return;
        }
        const refused = this.cameras.replaceInventory(s.gatewayId, msg.cameras);
        if (refused.length > 0) this.log.warn({ gateway: s.gatewayId, cameras: refused }, 'camera ids already belong to another gateway; ignored');
        this.emit('cameras');
        return;
      }
      case 'camera.state':
        if (this.cameras.upsert(s.gatewayId, msg.camera)) this.emit('cameras');
        else this.log.warn({ gateway: s.gatewayId, camera: msg.camera.id }, 'camera id belongs to another gateway; state ignored');
        return;
      case 'stream.offer':
        void this.fanout?.onOffer(s.gatewayId, msg.streamId, msg.sdp);
        return;
      case 'stream.ended':
        this.fanout?.onStreamEnded(s.gatewayId, msg.streamId, msg.reason);
        return;
      case 'ping':
        s.ws.send(encodeLinkMessage({ type: 'pong', t: msg.t }));
        return;
      case 'pong':
        return;
      case 'error':
        this.log.warn({ gateway: s.gatewayId, code: msg.code, message: msg.message }, 'gateway reported an error');
        if (msg.streamId) this.fanout?.onStreamEnded(s.gatewayId, msg.streamId, msg.message);
        return;
      case 'events':
      case 'health':
      case 'discover.result':
      case 'check.result':
      case 'camera.registered':
      case 'camera.unregistered':
      case 'request.failed':
        this.log.debug({ gateway: s.gatewayId, type: msg.type }, 'link message not handled by this centre yet; ignored');
        return;
      case 'welcome':
      case 'stream.start':
      case 'stream.answer':
      case 'stream.stop':
      case 'events.ack':
      case 'discover':
      case 'check':
      case 'camera.register':
      case 'camera.unregister':
        this.log.warn({ gateway: s.gatewayId, type: msg.type }, 'gateway sent a centre-only message');
        return;
      default:
        unreachable(msg);
    }
  }

  private expire(): void {
    const now = Date.now();
    for (const s of [...this.sessions.values()]) {
      if (now - s.lastSeen > this.heartbeatTimeoutMs) {
        this.log.warn({ gateway: s.gatewayId }, 'gateway missed its heartbeat');
        this.drop(s, 'missed heartbeat');
      }
    }
  }

  private drop(s: GatewaySession, reason: string): void {
    s.ws.close(4000, reason.slice(0, 120));
    s.ws.terminate();
    this.gone(s);
  }

  private gone(s: GatewaySession): void {
    if (this.sessions.get(s.gatewayId) !== s) return;
    this.sessions.delete(s.gatewayId);
    this.gateways.touch(s.gatewayId);
    this.cameras.markGatewayOffline(s.gatewayId);
    this.fanout?.onGatewayGone(s.gatewayId);
    this.log.info({ gateway: s.gatewayId }, 'gateway disconnected');
    this.emit('cameras');
  }
}
