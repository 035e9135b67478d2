import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { MAX_SNAPSHOT_BYTES, checkLinkMessage, type LinkMessage, type LinkMessageOf, type RequestErrorCode } from '@schoolcam/protocol/link/link-messages';
import { AppError } from '../errors';

/** The requests the centre sends a gateway, each answered by exactly one reply (or `request.failed`). */
export type GatewayRequestType = 'discover' | 'check' | 'camera.register' | 'camera.unregister' | 'snapshot';
type AskOf<T> = T extends GatewayRequestType ? Omit<LinkMessageOf<T>, 'requestId'> : never;
/** A request as a caller gives it: the centre mints the `requestId`. */
export type GatewayAsk = AskOf<GatewayRequestType>;

/** What each request resolves with: the gateway's reply (a snapshot put together from its parts). */
export interface GatewayReplies {
  discover: LinkMessageOf<'discover.result'>;
  check: LinkMessageOf<'check.result'>;
  'camera.register': LinkMessageOf<'camera.registered'>;
  'camera.unregister': LinkMessageOf<'camera.unregistered'>;
  snapshot: Buffer;
}

/** The gateway-to-centre messages that answer a request. */
export type GatewayReply = LinkMessageOf<'discover.result' | 'check.result' | 'camera.registered' | 'camera.unregistered' | 'snapshot.result' | 'request.failed'>;

const REPLY_TYPE: Readonly<Record<GatewayRequestType, Exclude<GatewayReply['type'], 'request.failed'>>> = {
  discover: 'discover.result',
  check: 'check.result',
  'camera.register': 'camera.registered',
  'camera.unregister': 'camera.unregistered',
  snapshot: 'snapshot.result',
};

/**
 * How long the centre waits for each reply. A discovery collects answers for its own timeout and
 * then reads the profiles of every camera found; a check samples the stream until two key frames
 * have passed (up to 12 s) after connecting; the rest are quick.
 */
export const DEFAULT_REQUEST_TIMEOUTS_MS: Readonly<Record<GatewayRequestType, number>> = {
  discover: 60_000,
  check: 75_000,
  'camera.register': 15_000,
  'camera.unregister': 15_000,
  snapshot: 30_000,
};

/** What forwarding needs of the link. */
export interface RequestLinkPort {
  isOnline(gatewayId: string): boolean;
  send(gatewayId: string, msg: LinkMessage): boolean;
}

export interface GatewayRequestsOptions {
  timeoutsMs?: Partial<Record<GatewayRequestType, number>>;
  /** Requests waiting on one gateway at most; more are refused `GATEWAY_BUSY` at once. Default 16. */
  maxPendingPerGateway?: number;
  newId?: () => string;
}

interface Pending {
  gatewayId: string;
  type: GatewayRequestType;
  resolve(value: unknown): void;
  reject(err: AppError): void;
  timer: NodeJS.Timeout;
  /** Snapshot parts received so far. */
  parts: Buffer[];
}

/** The gateway's typed refusal of a request, as the centre's typed error (and HTTP status). */
export function refusalError(code: RequestErrorCode, message: string): AppError {
  switch (code) {
    case 'BAD_REQUEST':
      return new AppError('BAD_REQUEST', message, 400);
    case 'UNREACHABLE':
      return new AppError('CAMERA_UNREACHABLE', message, 502);
    case 'AUTH':
      return new AppError('CAMERA_AUTH', message, 422);
    case 'TIMEOUT':
      return new AppError('CAMERA_TIMEOUT', message, 504);
    case 'UNSUPPORTED':
      return new AppError('CAMERA_UNSUPPORTED', message, 422);
    case 'CONFLICT':
      return new AppError('CONFLICT', message, 409);
    case 'NOT_FOUND':
      return new AppError('NOT_FOUND', message, 404);
    case 'BUSY':
      return gatewayBusy(message);
    case 'INTERNAL':
      return new AppError('GATEWAY_FAILED', message, 502);
  }
}

const gatewayBusy = (message: string): AppError => new AppError('GATEWAY_BUSY', message, 503, 2);
export const gatewayOffline = (): AppError => new AppError('GATEWAY_OFFLINE', 'the school’s gateway is not connected to the control centre', 503);

/**
 * Forwards requests to gateways over their link and matches the replies: each request gets a
 * fresh `requestId`, a deadline, and settles exactly once — with the reply, the gateway's typed
 * refusal, `GATEWAY_TIMEOUT`, or `GATEWAY_OFFLINE` when the link drops first. A reply counts only
 * from the gateway that was asked. Nothing of a request is logged but its type (it may carry
 * camera passwords).
 */
export class GatewayRequests {
  private readonly pending = new Map<string, Pending>();
  private readonly maxPending: number;
  private readonly newId: () => string;

  constructor(
    private readonly link: RequestLinkPort,
    private readonly log: Logger,
    private readonly opts: GatewayRequestsOptions = {},
  ) {
    this.maxPending = opts.maxPendingPerGateway ?? 16;
    this.newId = opts.newId ?? randomUUID;
  }

  ask<R extends GatewayAsk>(gatewayId: string, request: R): Promise<GatewayReplies[R['type']]> {
    type T = R['type'];
    const type: T = request.type;
    if (!this.link.isOnline(gatewayId)) return Promise.reject(gatewayOffline());
    let waiting = 0;
    for (const p of this.pending.values()) if (p.gatewayId === gatewayId) waiting++;
    if (waiting >= this.maxPending) return Promise.reject(gatewayBusy('the school’s gateway has too many requests waiting; try again shortly'));
    const requestId = this.newId();
    const msg = { ...request, requestId } as LinkMessage;
    try {
      // The gateway validates with the same schema and would drop a request it refuses: say why now.
      checkLinkMessage(msg);
    } catch (err) {
      return Promise.reject(new AppError('BAD_REQUEST', (err as Error).message.replace(/^outgoing [a-z.]+: /, ''), 400));
    }
    return new Promise<GatewayReplies[T]>((resolve, reject) => {
      const timeoutMs = this.opts.timeoutsMs?.[type] ?? DEFAULT_REQUEST_TIMEOUTS_MS[type];
      const timer = setTimeout(() => this.settle(requestId, new AppError('GATEWAY_TIMEOUT', `the school’s gateway did not answer within ${Math.round(timeoutMs / 1000)} s`, 504)), timeoutMs);
      this.pending.set(requestId, { gatewayId, type, resolve: resolve as (v: unknown) => void, reject, timer, parts: [] });
      if (!this.link.send(gatewayId, msg)) this.settle(requestId, gatewayOffline());
    });
  }

  /** A reply arrived on a gateway's link. */
  onReply(gatewayId: string, msg: GatewayReply): void {
    const p = this.pending.get(msg.requestId);
    if (!p || p.gatewayId !== gatewayId) {
      this.log.warn({ gateway: gatewayId, type: msg.type }, 'reply to no request of this gateway (late, or not its own); ignored');
      return;
    }
    if (msg.type === 'request.failed') return this.settle(msg.requestId, refusalError(msg.code, msg.message));
    if (msg.type !== REPLY_TYPE[p.type]) {
      this.log.warn({ gateway: gatewayId, type: msg.type, expected: REPLY_TYPE[p.type] }, 'gateway answered a request with the wrong reply');
      return this.settle(msg.requestId, new AppError('GATEWAY_FAILED', 'the school’s gateway gave an answer that does not fit the request', 502));
    }
    if (msg.type !== 'snapshot.result') return this.settle(msg.requestId, undefined, msg);
    // Parts come in order over one socket; anything else is a broken gateway.
    if (msg.part !== p.parts.length) return this.settle(msg.requestId, new AppError('GATEWAY_FAILED', 'the snapshot arrived out of order', 502));
    p.parts.push(Buffer.from(msg.data, 'base64'));
    const bytes = p.parts.reduce((n, b) => n + b.length, 0);
    if (bytes > MAX_SNAPSHOT_BYTES) return this.settle(msg.requestId, new AppError('GATEWAY_FAILED', 'the snapshot is larger than the link allows', 502));
    if (p.parts.length === msg.parts) this.settle(msg.requestId, undefined, Buffer.concat(p.parts));
  }

  /** A gateway's link went away: its requests can no longer be answered. */
  gatewayGone(gatewayId: string): void {
    for (const [id, p] of [...this.pending]) if (p.gatewayId === gatewayId) this.settle(id, gatewayOffline());
  }

  /** Requests waiting (tests, metrics). */
  get size(): number {
    return this.pending.size;
  }

  /** Idempotent: every waiting request fails. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new AppError('GATEWAY_OFFLINE', 'the control centre is shutting down', 503));
  }

  private settle(requestId: string, err: AppError | undefined, value?: unknown): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(value);
  }
}
