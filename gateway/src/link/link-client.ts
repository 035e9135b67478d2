import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import {
  GATEWAY_AUTH_HEADER,
  MAX_LINK_MESSAGE_BYTES,
  type LinkMessage,
  checkLinkMessage,
  encodeLinkMessage,
  gatewayAuthValue,
  parseLinkMessage,
} from '@schoolcam/protocol/link/link-messages';

export interface LinkClientEvents {
  open: [];
  message: [msg: LinkMessage];
  down: [reason: string];
}

/** The part of a `ws` WebSocket the link uses: the seam unit tests replace with a plain fake. */
export interface LinkSocket {
  readonly readyState: number;
  send(data: string): void;
  terminate(): void;
  on(event: 'open', cb: () => void): this;
  on(event: 'unexpected-response', cb: (req: unknown, res: { statusCode?: number }) => void): this;
  on(event: 'message', cb: (data: Buffer) => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  on(event: 'close', cb: (code: number, reason: Buffer) => void): this;
}

/** `WebSocket.OPEN`. */
const OPEN = 1;

export interface LinkClientOptions {
  /** http(s):// or ws(s)://; plain http/ws only to a loopback centre (see {@link centreUrlProblem}). */
  centerUrl: string;
  gatewayId: string;
  secret: string;
  /** PEM of the CA (or self-signed certificate) to trust for the centre, besides the system's. */
  ca?: string;
  /** Opens the socket; default a `ws` WebSocket with the size cap, the CA and a 10 s handshake deadline. */
  openSocket?: (url: string, headers: Record<string, string>) => LinkSocket;
  /** First reconnect delay; doubles up to `maxBackoffMs`, with ±50 % jitter. Default 500. */
  minBackoffMs?: number;
  /**
   * Longest wait between attempts, before jitter. Default 3000: a gateway is back within about
   * 5 s of the centre returning (a restart), and a closed centre port costs nothing to try.
   */
  maxBackoffMs?: number;
}

/**
 * Why a centre URL may not be used, or undefined when it may. The gateway sends its secret
 * and the centre sends camera signalling: over a network they must travel in TLS. Plain
 * http/ws is accepted only when the centre is on this machine (loopback).
 */
export function centreUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol === 'https:' || u.protocol === 'wss:') return undefined;
  if (u.protocol !== 'http:' && u.protocol !== 'ws:') return 'must start with https:// or wss://';
  return isLoopbackHost(u.hostname) ? undefined : 'must use TLS (https:// or wss://): plain http is allowed only to a centre on this machine';
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The gateway's outbound WebSocket to the centre (schools have no inbound ports).
 * Reconnects forever with jittered exponential backoff; pings at the interval the centre
 * asks for in `welcome` and drops a link that stops answering.
 */
export class LinkClient extends EventEmitter<LinkClientEvents> {
  private ws: LinkSocket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private lastHeard = 0;
  private closed = false;

  constructor(
    private readonly opts: LinkClientOptions,
    private readonly log: Logger,
  ) {
    super();
    const problem = centreUrlProblem(opts.centerUrl);
    if (problem) throw new Error(`centerUrl ${opts.centerUrl} ${problem}`);
    this.backoff = opts.minBackoffMs ?? 500;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === OPEN;
  }

  start(): void {
    this.connect();
  }

  /**
   * Sends one message if the link is up. Every message is checked first with the schema the
   * centre validates with: one the centre would refuse (a camera-reported size out of range, an
   * oversized list) is logged and not sent, instead of costing the link. Returns whether it was sent.
   */
  send(msg: LinkMessage): boolean {
    if (!this.isOpen) return false;
    try {
      checkLinkMessage(msg);
    } catch (err) {
      this.log.error({ type: msg.type, err: (err as Error).message }, 'refusing to send a link message the centre would reject');
      return false;
    }
    const frame = encodeLinkMessage(msg);
    if (Buffer.byteLength(frame) > MAX_LINK_MESSAGE_BYTES) {
      this.log.error({ type: msg.type, bytes: Buffer.byteLength(frame) }, 'refusing to send a link message over the size limit');
      return false;
    }
    this.ws!.send(frame);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.ws?.terminate();
    this.ws = undefined;
  }

  private connect(): void {
    if (this.closed) return;
    const url = `${this.opts.centerUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/link`;
    const headers = { [GATEWAY_AUTH_HEADER]: gatewayAuthValue(this.opts.gatewayId, this.opts.secret) };
    const ws: LinkSocket = this.opts.openSocket
      ? this.opts.openSocket(url, headers)
      : new WebSocket(url, { headers, maxPayload: MAX_LINK_MESSAGE_BYTES, handshakeTimeout: 10_000, ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.backoff = this.opts.minBackoffMs ?? 500;
      this.lastHeard = Date.now();
      this.log.info({ url }, 'link up');
      this.emit('open');
    });
    ws.on('unexpected-response', (_req: unknown, res: { statusCode?: number }) => {
      this.log.error({ status: res.statusCode }, res.statusCode === 401 ? 'centre refused the gateway credentials (unknown, revoked or wrong secret)' : 'centre refused the link');
      ws.terminate();
    });
    ws.on('message', (data: Buffer) => {
      this.lastHeard = Date.now();
      let msg: LinkMessage;
      try {
        msg = parseLinkMessage(data);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'bad message from centre');
        return;
      }
      if (msg.type === 'welcome') this.startPing(msg.heartbeatMs);
      this.emit('message', msg);
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'link socket error'));
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.pingTimer);
      if (opened) {
        this.log.warn({ code, reason: reason.toString() }, 'link down');
        this.emit('down', reason.toString() || `closed (${code})`);
      }
      this.scheduleReconnect();
    });
  }

  private startPing(intervalMs: number): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > intervalMs * 3) {
        this.log.warn('centre stopped answering; reconnecting');
        this.ws?.terminate();
        return;
      }
      this.send({ type: 'ping', t: Date.now() });
    }, intervalMs);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const wait = this.backoff * (0.5 + Math.random());
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 3000);
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }
}
