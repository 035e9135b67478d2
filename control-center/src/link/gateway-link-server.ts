import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  type CameraHealth,
  type GatewayEvent,
  type LinkMessage,
  encodeLinkMessage,
  parseGatewayAuth,
  parseLinkMessage,
  unreachable,
} from '@schoolcam/protocol/link/link-messages';
import { dummyHash, verifySecret } from '../auth/secret-hash';
import { localCameraId } from '../cameras/camera-id';
import type { GatewayStore } from '../storage/gateway-store';
import type { CameraStore } from '../storage/camera-store';
import type { GatewayLinkPort } from '../fanout/fanout';
import type { GatewayReply } from './gateway-requests';

/**
 * Why a gateway's link went away: its socket closed, it missed its heartbeat, it was cut for
 * flooding or not reading, its hello named another gateway, a new connection of the same gateway
 * replaced it, it was revoked, or the centre is shutting down.
 */
export type LinkDownCause = 'closed' | 'missed_heartbeat' | 'flooding' | 'not_reading' | 'bad_hello' | 'replaced' | 'revoked' | 'shutdown';

export interface LinkServerEvents {
  /** Camera list or states changed (for pushing to dashboards). */
  cameras: [];
  /** A gateway offered the upstream of a stream the centre asked for. */
  offer: [gatewayId: string, streamId: string, sdp: string];
  /** A gateway ended a stream (camera failed, stopped). */
  streamEnded: [gatewayId: string, streamId: string, reason: string];
  /** A gateway's link went away, and why. */
  gatewayGone: [gatewayId: string, cause: LinkDownCause];
  /** A gateway said hello with the identity its credentials prove. */
  gatewayUp: [gatewayId: string];
  /** A gateway answered one of the centre's requests. */
  reply: [gatewayId: string, msg: GatewayReply];
}

/** Where the link puts what gateways report. */
export interface LinkSinks {
  /** Stores a gateway's events; returns the ids to ack. Throws when they could not be stored (nothing is acked then). */
  events(gatewayId: string, events: readonly GatewayEvent[]): string[];
  /** Records a gateway's health report; returns whether something worth a camera-list push changed. */
  health(gatewayId: string, cameras: readonly CameraHealth[]): boolean;
}

interface GatewaySession {
  ws: WebSocket;
  gatewayId: string;
  lastSeen: number;
  /** Token bucket of incoming messages. */
  tokens: number;
  tokensAt: number;
  dropped: number;
  /** Its first valid hello came. */
  greeted: boolean;
}

export interface LinkServerOptions {
  /** A gateway that sends nothing for this long is offline. Default 15000. */
  heartbeatTimeoutMs?: number;
  /** Interval the gateway is told to ping at. Default 5000. */
  heartbeatMs?: number;
  /** Messages per second a gateway may send; bursts of four seconds' worth pass. Default 200. */
  messagesPerSecond?: number;
  /** Called for every message dropped by the rate limit (metrics). */
  onDropped?: () => void;
  /** Events and health; without them both are ignored (and events never acked). */
  sinks?: LinkSinks;
}

/** A gateway not reading what the centre sends is dropped past this many queued bytes. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * The centre's end of the gateway link (`/link`). Authenticates gateways on the upgrade
 * (revoked ones never get in), keeps one session per gateway (a reconnect replaces the old
 * one), records inventories under gateway-scoped camera ids, rate-limits what each gateway
 * sends, and turns stream signalling into events for the fan-out.
 */
export class GatewayLinkServer extends EventEmitter<LinkServerEvents> implements GatewayLinkPort {
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sweep: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly rate: number;

  constructor(
    private readonly gateways: GatewayStore,
    private readonly cameras: CameraStore,
    private readonly log: Logger,
    private readonly opts: LinkServerOptions = {},
  ) {
    super();
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 15_000;
    this.rate = opts.messagesPerSecond ?? 200;
    this.sweep = setInterval(() => this.expire(), Math.min(this.heartbeatMs, 1000));
    this.sweep.unref();
  }

  /**
   * Checks the upgrade's credentials; returns the gateway id or undefined. The hash runs off
   * the event loop, and an unknown or revoked id costs the same as a wrong secret, so neither
   * a flood of upgrades nor response times reveal which gateway ids exist.
   */
  async authenticate(req: IncomingMessage): Promise<string | undefined> {
    const creds = parseGatewayAuth(req.headers.authorization);
    if (!creds) return undefined;
    const stored = this.gateways.secretHashFor(creds.gatewayId);
    const ok = await verifySecret(creds.secret, stored ?? (await dummyHash()));
    // Revoked while the hash ran: still out.
    return ok && stored && this.gateways.secretHashFor(creds.gatewayId) ? creds.gatewayId : undefined;
  }

  isOnline(gatewayId: string): boolean {
    return this.sessions.has(gatewayId);
  }

  onlineCount(): number {
    return this.sessions.size;
  }

  /**
   * Sends to a gateway. Camera ids in `stream.start` are public ids (the fan-out's); the
   * gateway gets its own local id, and a public id of another gateway is never sent.
   */
  send(gatewayId: string, msg: LinkMessage): boolean {
    const s = this.sessions.get(gatewayId);
    if (!s || s.ws.readyState !== s.ws.OPEN) return false;
    let out = msg;
    if (msg.type === 'stream.start') {
      const local = localCameraId(gatewayId, msg.cameraId);
      if (local === undefined) {
        this.log.error({ gateway: gatewayId, camera: msg.cameraId }, 'refusing to ask a gateway for a camera that is not its own');
        return false;
      }
      out = { ...msg, cameraId: local };
    }
    if (s.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn({ gateway: gatewayId }, 'gateway is not reading its link; dropping it');
      this.drop(s, 'not reading', 'not_reading');
      return false;
    }
    s.ws.send(encodeLinkMessage(out));
    return true;
  }

  /** Drops a gateway's link now (revoked). */
  disconnect(gatewayId: string, reason: string): void {
    const s = this.sessions.get(gatewayId);
    if (s) this.drop(s, reason, 'revoked');
  }

  accept(ws: WebSocket, gatewayId: string): void {
    const previous = this.sessions.get(gatewayId);
    if (previous) {
      this.log.info({ gateway: gatewayId }, 'gateway reconnected; dropping the previous link');
      this.drop(previous, 'replaced by a new connection', 'replaced');
    }
    const now = Date.now();
    const session: GatewaySession = { ws, gatewayId, lastSeen: now, tokens: this.rate * 4, tokensAt: now, dropped: 0, greeted: false };
    this.sessions.set(gatewayId, session);
    this.gateways.touch(gatewayId);
    this.log.info({ gateway: gatewayId }, 'gateway connected');
    ws.send(encodeLinkMessage({ type: 'welcome', gatewayId, heartbeatMs: this.heartbeatMs }));
    ws.on('message', (data: Buffer) => this.onMessage(session, data));
    ws.on('close', () => this.gone(session, 'closed'));
    ws.on('error', (err) => this.log.warn({ gateway: gatewayId, err: err.message }, 'link socket error'));
  }

  close(): void {
    clearInterval(this.sweep);
    for (const s of [...this.sessions.values()]) this.drop(s, 'centre shutting down', 'shutdown');
  }

  private onMessage(s: GatewaySession, data: Buffer): void {
    if (this.sessions.get(s.gatewayId) !== s) return;
    s.lastSeen = Date.now();
    if (!this.takeToken(s)) return;
    let msg: LinkMessage;
    try {
      msg = parseLinkMessage(data);
    } catch (err) {
      this.log.warn({ gateway: s.gatewayId, err: (err as Error).message }, 'bad link message');
      s.ws.send(encodeLinkMessage({ type: 'error', code: 'LINK_BAD_MESSAGE', message: (err as Error).message }));
      return;
    }
    this.handle(s, msg);
  }

  /** Token bucket: a gateway over its rate has messages dropped; one that keeps flooding is cut. */
  private takeToken(s: GatewaySession): boolean {
    const now = Date.now();
    const capacity = this.rate * 4;
    s.tokens = Math.min(capacity, s.tokens + ((now - s.tokensAt) / 1000) * this.rate);
    s.tokensAt = now;
    if (s.tokens >= 1) {
      s.tokens -= 1;
      s.dropped = 0;
      return true;
    }
    s.dropped++;
    this.opts.onDropped?.();
    if (s.dropped === 1) this.log.warn({ gateway: s.gatewayId }, 'gateway exceeds its link message rate; dropping messages');
    if (s.dropped > capacity) this.drop(s, 'message flood', 'flooding');
    return false;
  }

  private handle(s: GatewaySession, msg: LinkMessage): void {
    switch (msg.type) {
      case 'hello': {
        const record = this.gateways.get(s.gatewayId);
        if (msg.gatewayId !== s.gatewayId || record?.schoolId !== msg.schoolId) {
          this.log.warn({ gateway: s.gatewayId, claimed: msg.gatewayId, school: msg.schoolId }, 'hello does not match the credentials');
          this.drop(s, 'hello does not match the credentials', 'bad_hello');
          return;
        }
        const refused = this.cameras.replaceInventory(s.gatewayId, msg.cameras);
        if (refused.length > 0) this.log.warn({ gateway: s.gatewayId, cameras: refused }, 'camera ids collide with another gateway\'s public ids; ignored');
        if (!s.greeted) {
          s.greeted = true;
          this.emit('gatewayUp', s.gatewayId);
        }
        this.emit('cameras');
        return;
      }
      case 'camera.state':
        if (this.cameras.upsert(s.gatewayId, msg.camera)) this.emit('cameras');
        return;
      case 'stream.offer':
        this.emit('offer', s.gatewayId, msg.streamId, msg.sdp);
        return;
      case 'stream.ended':
        this.emit('streamEnded', s.gatewayId, msg.streamId, msg.reason);
        return;
      case 'ping':
        s.ws.send(encodeLinkMessage({ type: 'pong', t: msg.t }));
        return;
      case 'pong':
        return;
      case 'error':
        this.log.warn({ gateway: s.gatewayId, code: msg.code, message: msg.message }, 'gateway reported an error');
        if (msg.streamId) this.emit('streamEnded', s.gatewayId, msg.streamId, msg.message);
        return;
      case 'events':
        this.storeEvents(s, msg.events);
        return;
      case 'health': {
        // Health carries every camera's state too: it keeps the list right even if a camera.state was lost.
        let changed = false;
        for (const h of msg.cameras) if (this.cameras.setState(s.gatewayId, h.cameraId, h.state, h.reason ?? null)) changed = true;
        if (this.opts.sinks?.health(s.gatewayId, msg.cameras)) changed = true;
        if (changed) this.emit('cameras');
        return;
      }
      case 'discover.result':
      case 'check.result':
      case 'camera.registered':
      case 'camera.unregistered':
      case 'snapshot.result':
      case 'request.failed':
        this.emit('reply', s.gatewayId, msg);
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
      case 'snapshot':
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
        this.drop(s, 'missed heartbeat', 'missed_heartbeat');
      }
    }
  }

  /**
   * Stores the events and acks them by id (copies already stored included). If they cannot be
   * stored, nothing is acked and the link is dropped: the gateway sends everything unacked again,
   * oldest first, when it reconnects — so no later event is stored before an earlier one.
   */
  private storeEvents(s: GatewaySession, events: readonly GatewayEvent[]): void {
    const sink = this.opts.sinks;
    if (!sink) return;
    let ids: string[];
    try {
      ids = sink.events(s.gatewayId, events);
    } catch (err) {
      this.log.error({ gateway: s.gatewayId, err: (err as Error).message, first: events[0]?.seq }, 'events could not be stored; dropping the link so the gateway sends them again');
      this.drop(s, 'events could not be stored', 'closed');
      return;
    }
    if (ids.length > 0) this.send(s.gatewayId, { type: 'events.ack', ids });
  }

  private drop(s: GatewaySession, reason: string, cause: LinkDownCause): void {
    s.ws.close(4000, reason.slice(0, 120));
    s.ws.terminate();
    this.gone(s, cause);
  }

  private gone(s: GatewaySession, cause: LinkDownCause): void {
    if (this.sessions.get(s.gatewayId) !== s) return;
    this.sessions.delete(s.gatewayId);
    this.gateways.touch(s.gatewayId);
    this.cameras.markGatewayOffline(s.gatewayId, 'gateway offline');
    this.emit('gatewayGone', s.gatewayId, cause);
    this.log.info({ gateway: s.gatewayId }, 'gateway disconnected');
    this.emit('cameras');
  }
}
