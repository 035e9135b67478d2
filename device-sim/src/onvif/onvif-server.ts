import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ServerAuth } from '@schoolcam/protocol/rtsp/digest-auth';
import { DEVICE_UNAUTHENTICATED, handleDeviceOperation } from './device-service';
import { DEFAULT_EVENT_LIMITS, TOPICS, handleEventOperation, handleSubscriptionOperation, type EventServiceDeps, type EventServiceLimits } from './event-service';
import { VIDEO_SOURCE, VIDEO_SOURCE_CONFIG, handleMediaOperation } from './media-service';
import {
  DEVICE_PATH,
  EVENTS_PATH,
  MEDIA_PATH,
  PTZ_PATH,
  SUBSCRIPTION_PATH_PREFIX,
  type OnvifCameraModel,
  type ServiceContext,
} from './onvif-camera-model';
import { PtzHead, type PtzStatus } from './ptz-head';
import { handlePtzOperation } from './ptz-service';
import { PullPointManager, type OnvifEventMessage } from './pull-point-manager';
import { child, faults, parseSoapRequest, soapEnvelope, soapFaultXml, text, type SoapFault, type SoapRequest } from './soap-envelope';
import { UsernameTokenVerifier } from './ws-username-token';
import { listenCameraHttp, sendComplete } from '../camera-http-server';
import { type SimLogger, silentSimLogger } from '../sim-logger';

export type { OnvifAuthSchemes, OnvifCameraModel, OnvifProfileInfo } from './onvif-camera-model';
export type { OnvifEventMessage } from './pull-point-manager';
export type { PtzStatus, PtzVector, PtzPreset } from './ptz-head';
export { TOPICS as ONVIF_TOPICS } from './event-service';

export type OnvifServerLogger = SimLogger;

export interface OnvifServerOptions {
  /** interface to bind; default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
  camera: OnvifCameraModel;
  logger?: OnvifServerLogger;
  /** request bodies larger than this get 413; default 256 KiB */
  maxBodyBytes?: number;
  /** accepted distance between a UsernameToken's Created and the camera clock; default 5 min */
  authWindowMs?: number;
  /** live pull-point subscriptions at most; default 10 */
  maxSubscriptions?: number;
  /** notifications queued per subscription (oldest dropped first); default 100 */
  maxQueuedEvents?: number;
  /** events service limits; defaults in {@link DEFAULT_EVENT_LIMITS} (PullMessages waits ≤ 60 s) */
  eventLimits?: Partial<EventServiceLimits>;
}

/**
 * Authentication fault injection.
 * - `normal`: credentials are checked
 * - `always-wrong`: every authenticated operation is refused with ter:NotAuthorized, even with the
 *   right password (a camera whose password was changed behind our back). PRE_AUTH operations
 *   (GetSystemDateAndTime) still answer.
 */
export type OnvifAuthMode = 'normal' | 'always-wrong';

/** Fault-injection state, for the simulator's `GET {control}/state`. */
export interface OnvifFaultState {
  authMode: OnvifAuthMode;
  malformed: boolean;
  refusing: boolean;
  subscriptions: number;
}

/** An event to raise; `utcMs` defaults to the camera clock now. */
export type OnvifEventInput = Omit<OnvifEventMessage, 'utcMs'> & { utcMs?: number };

const ACCEPTED_CONTENT_TYPES = ['application/soap+xml', 'text/xml', 'application/xml'];
const SUBSCRIPTION_ID = /^[0-9a-f]{1,64}$/;

type Route =
  | { service: 'device' | 'media' | 'events' | 'ptz' }
  | { service: 'subscription'; id: string };

interface Reply {
  status: number;
  xml: string;
  headers?: Record<string, string | string[]>;
}

/**
 * ONVIF SOAP server of one simulated camera over plain HTTP: Device (ONVIF Core §8), Media
 * (ver10), Events (pull points, Core §9) and, for PTZ cameras, PTZ (ver20). Authentication by
 * WS-Security UsernameToken and/or HTTP Digest (see {@link OnvifCameraModel.authSchemes}).
 *
 * Hooks for the simulator: {@link triggerMotion}, {@link triggerTamper}, {@link emitEvent},
 * {@link dropSubscriptions}, {@link setAuthMode}, {@link setMalformed}, {@link setRefusing},
 * {@link ptzState}, {@link faultState}.
 *
 * Emits `close` once after {@link OnvifServer.close}.
 */
export class OnvifServer extends EventEmitter {
  readonly #server: Server;
  readonly #camera: OnvifCameraModel;
  readonly #log: OnvifServerLogger;
  readonly #host: string;
  readonly #maxBodyBytes: number;
  readonly #auth: UsernameTokenVerifier;
  readonly #digestUsers: Record<string, string> = Object.create(null) as Record<string, string>;
  readonly #digest: ServerAuth;
  readonly #pullPoints: PullPointManager;
  readonly #eventDeps: EventServiceDeps;
  readonly #ptz = new PtzHead();
  readonly #sockets = new Set<Socket>();
  #state = { motion: false, tamper: false };
  #authMode: OnvifAuthMode = 'normal';
  #malformed = false;
  #refusing = false;
  #closing: Promise<void> | undefined;

  /** the bound TCP port */
  readonly port: number;

  private constructor(server: Server, opts: OnvifServerOptions, host: string, port: number) {
    super();
    this.#server = server;
    this.#camera = opts.camera;
    this.#log = opts.logger ?? silentSimLogger;
    this.#host = host;
    this.port = port;
    this.#maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024;
    this.#auth = new UsernameTokenVerifier({ windowMs: opts.authWindowMs });
    this.#digest = new ServerAuth({ mode: 'digest', realm: opts.camera.digestRealm ?? `SimCam-${opts.camera.serial}`, users: this.#digestUsers });
    this.#pullPoints = new PullPointManager({ maxSubscriptions: opts.maxSubscriptions, maxQueue: opts.maxQueuedEvents });
    this.#eventDeps = {
      pullPoints: this.#pullPoints,
      limits: { ...DEFAULT_EVENT_LIMITS, ...opts.eventLimits },
      initialMessages: (nowMs) => this.#propertyMessages(nowMs, 'Initialized'),
      hostNowMs: Date.now,
    };
    server.on('connection', (socket: Socket) => {
      if (this.#refusing) {
        socket.resetAndDestroy();
        return;
      }
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
  }

  /** Start listening. Rejects if the port cannot be bound. */
  static async create(opts: OnvifServerOptions): Promise<OnvifServer> {
    const host = opts.host ?? '127.0.0.1';
    const { server, port } = await listenCameraHttp(host, opts.port ?? 0);
    const self = new OnvifServer(server, opts, host, port);
    server.on('error', (err) => self.#log.warn({ err: err.message }, 'onvif server error'));
    return self;
  }

  /** Device service address, e.g. `http://127.0.0.1:34567/onvif/device_service`. */
  get xaddr(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.port}${DEVICE_PATH}`;
  }

  // ---- events -------------------------------------------------------------------------------

  /**
   * Motion starts (`true`) or ends (`false`): raises `tns1:VideoSource/MotionAlarm` (State) and
   * `tns1:RuleEngine/CellMotionDetector/Motion` (IsMotion), both PropertyOperation="Changed", as
   * cameras with a cell motion detector do. Every call raises them, even without a change.
   */
  triggerMotion(state: boolean): void {
    this.#state.motion = state;
    this.#pullPoints.publish(this.#propertyMessages(this.#cameraNow(), 'Changed').filter((m) => m.topic !== TOPICS.tamper));
    this.#log.debug({ state }, 'onvif motion event');
  }

  /** Tamper (scene change) starts or ends: raises `tns1:VideoSource/GlobalSceneChange/ImagingService` (State). */
  triggerTamper(state: boolean): void {
    this.#state.tamper = state;
    this.#pullPoints.publish(this.#propertyMessages(this.#cameraNow(), 'Changed').filter((m) => m.topic === TOPICS.tamper));
    this.#log.debug({ state }, 'onvif tamper event');
  }

  /** Raise any notification. It is not added to the topic set GetEventProperties reports. */
  emitEvent(event: OnvifEventInput): void {
    this.#pullPoints.publish({ ...event, utcMs: event.utcMs ?? this.#cameraNow() });
  }

  /**
   * Fault "lose event subscriptions": every pull point vanishes; pending and later PullMessages,
   * Renew and Unsubscribe on them get wsrf-rw:ResourceUnknownFault. Returns how many were dropped.
   */
  dropSubscriptions(): number {
    const n = this.#pullPoints.dropAll();
    this.#log.debug({ dropped: n }, 'onvif subscriptions dropped');
    return n;
  }

  // ---- PTZ ----------------------------------------------------------------------------------

  /** Position, movement and presets of the PTZ head; undefined when the camera is not PTZ. */
  ptzState(): PtzStatus | undefined {
    return this.#camera.ptz === true ? this.#ptz.status() : undefined;
  }

  // ---- fault injection ----------------------------------------------------------------------

  /** See {@link OnvifAuthMode}. */
  setAuthMode(mode: OnvifAuthMode): void {
    this.#authMode = mode;
  }

  /** While on, every SOAP reply is a truncated envelope (broken XML) with HTTP 200. */
  setMalformed(on: boolean): void {
    this.#malformed = on;
  }

  /**
   * While on (a rebooting camera), every connection is reset (TCP RST) as soon as it is accepted,
   * and open ones are reset now; long-polls end with them. The listener stays bound, so the port
   * is the same when it is turned off. Subscriptions are kept: call {@link dropSubscriptions} too
   * for a reboot that loses them.
   */
  setRefusing(on: boolean): void {
    this.#refusing = on;
    if (!on) return;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  faultState(): OnvifFaultState {
    return { authMode: this.#authMode, malformed: this.#malformed, refusing: this.#refusing, subscriptions: this.#pullPoints.size };
  }

  /** Stop listening and drop open connections; pending long-polls end. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#pullPoints.close();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    }).then(() => {
      this.emit('close');
    });
    return this.#closing;
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#refusing) {
      req.socket.resetAndDestroy();
      return;
    }
    const route = routeOf((req.url ?? '').split('?', 1)[0] ?? '');
    if (route === undefined) return plain(res, 404, 'Not Found');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return plain(res, 405, 'Method Not Allowed');
    }
    const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
    if (contentType !== '' && !ACCEPTED_CONTENT_TYPES.includes(contentType)) return plain(res, 415, 'Unsupported Media Type');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.#maxBodyBytes) return tooLarge(req, res);

    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.length;
      if (size > this.#maxBodyBytes) {
        aborted = true;
        chunks.length = 0;
        tooLarge(req, res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      aborted = true;
    });
    req.on('end', () => {
      if (aborted) return;
      // A long-poll must stop waiting when its client (or the whole server) goes away.
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      this.#handle(route, Buffer.concat(chunks).toString('utf8'), req, gone.signal)
        .catch((err: unknown) => {
          this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'onvif request failed');
          return this.#fault(faults.receiver('Internal error'), { route: route.service });
        })
        .then((reply) => this.#send(res, reply))
        .catch((err: unknown) => {
          this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'onvif reply could not be sent');
          res.destroy();
        });
    });
  }

  #send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.writableEnded) return;
    if (this.#malformed) {
      // A firmware bug seen in the field: the reply stops mid-envelope but the status says OK.
      sendComplete(res, 200, { 'Content-Type': 'application/soap+xml; charset=utf-8' }, reply.xml.slice(0, Math.max(1, Math.floor(reply.xml.length / 2))));
      return;
    }
    sendComplete(res, reply.status, { 'Content-Type': 'application/soap+xml; charset=utf-8', ...reply.headers }, reply.xml);
  }

  async #handle(route: Route, body: string, req: IncomingMessage, signal: AbortSignal): Promise<Reply> {
    const fields = { service: route.service };
    const parsed = parseSoapRequest(body);
    if (!parsed.ok) return this.#fault(parsed.fault, fields);
    const request = parsed.request;
    const op = request.operation;
    const ctx: ServiceContext = {
      camera: this.#camera,
      nowMs: this.#cameraNow(),
      host: this.#replyHost(req),
      port: this.port,
      maxPullPoints: this.#pullPoints.maxSubscriptions,
    };

    // ONVIF Core §5.12: GetSystemDateAndTime is PRE_AUTH, so a client can learn the camera's
    // clock before it builds its first UsernameToken.
    const open = route.service === 'device' && DEVICE_UNAUTHENTICATED.has(op);
    if (!open) {
      const refusal = this.#authenticate(request, req, ctx.nowMs);
      if (refusal !== undefined) {
        const reply = this.#fault(faults.notAuthorized(), { ...fields, op, reason: refusal.reason });
        // Core §5.9.1: HTTP Digest refusals are 401 with a challenge; the SOAP fault stays the body.
        return refusal.challenge === undefined ? reply : { ...reply, status: 401, headers: { 'WWW-Authenticate': refusal.challenge } };
      }
    }

    let result: string | SoapFault | undefined;
    try {
      result = await this.#dispatch(route, request, ctx, signal);
    } catch (err) {
      // A throwing camera hook must not take the server down; the reply does not say why.
      this.#log.warn({ ...fields, op, err: err instanceof Error ? err.message : String(err) }, 'onvif operation failed');
      return this.#fault(faults.receiver('Internal error'), { ...fields, op });
    }
    if (result === undefined) return this.#fault(faults.actionNotSupported(), { ...fields, op });
    if (typeof result !== 'string') return this.#fault(result, { ...fields, op });
    this.#log.debug({ ...fields, op }, 'onvif request');
    return { status: 200, xml: soapEnvelope(result) };
  }

  /** undefined when authenticated; else why not and, for HTTP Digest, the challenge to send. */
  #authenticate(request: SoapRequest, req: IncomingMessage, nowMs: number): { reason: string; challenge?: string[] } | undefined {
    const schemes = this.#camera.authSchemes ?? 'any';
    const authorization = req.headers.authorization;
    const triedDigest = schemes !== 'ws-security' && authorization !== undefined && /^\s*digest\s/i.test(authorization);
    const challenge = (stale = false): string[] | undefined => (schemes === 'http-digest' || triedDigest ? this.#digest.challenge(stale) : undefined);
    if (this.#authMode === 'always-wrong') return { reason: 'always-wrong', challenge: challenge() };

    let stale = false;
    if (triedDigest) {
      // ServerAuth reads its users on every verify: keep them in step with the (live) model.
      for (const name of Object.keys(this.#digestUsers)) delete this.#digestUsers[name];
      this.#digestUsers[this.#camera.username] = this.#camera.password;
      const digest = this.#digest.verify('POST', authorization);
      if (digest.ok) return undefined;
      stale = digest.stale;
    }
    if (schemes !== 'http-digest') {
      const token = this.#auth.verify(request.header, this.#camera, nowMs);
      if (token.ok) return undefined;
      if (!triedDigest) return { reason: token.reason, challenge: challenge() };
    }
    return { reason: !triedDigest ? 'missing' : stale ? 'digest-stale' : 'digest-credentials', challenge: challenge(stale) };
  }

  #dispatch(route: Route, request: SoapRequest, ctx: ServiceContext, signal: AbortSignal): string | SoapFault | undefined | Promise<string | SoapFault> {
    switch (route.service) {
      case 'device':
        return handleDeviceOperation(request, ctx);
      case 'media':
        return handleMediaOperation(request, ctx);
      case 'events': {
        const result = handleEventOperation(request, ctx, this.#eventDeps);
        if (result !== undefined) return result;
        // Some clients send PullMessages/Renew/Unsubscribe to the events service and name the
        // subscription only in the WS-Addressing To header.
        const id = subscriptionIdOf(text(child(request.header, 'To')));
        return id === undefined ? undefined : handleSubscriptionOperation(request, ctx, this.#eventDeps, id, signal);
      }
      case 'subscription':
        return handleSubscriptionOperation(request, ctx, this.#eventDeps, route.id, signal);
      case 'ptz':
        return this.#camera.ptz === true ? handlePtzOperation(request, ctx, this.#ptz) : faults.actionNotSupported('PTZ is not supported');
      default:
        throw new Error(`unreachable service ${JSON.stringify(route satisfies never)}`);
    }
  }

  #fault(fault: SoapFault, fields: Record<string, unknown>): Reply {
    this.#log.debug({ ...fields, fault: fault.subcodes.at(-1) ?? fault.code }, 'onvif fault');
    return { status: fault.status, xml: soapFaultXml(fault) };
  }

  #cameraNow(): number {
    return Date.now() + (this.#camera.clockOffsetMs ?? 0);
  }

  /** Current motion and tamper states as property messages (tokens as in the media service). */
  #propertyMessages(utcMs: number, propertyOperation: 'Initialized' | 'Changed'): OnvifEventMessage[] {
    const { motion, tamper } = this.#state;
    return [
      { topic: TOPICS.motionAlarm, utcMs, propertyOperation, source: [['Source', VIDEO_SOURCE]], data: [['State', String(motion)]] },
      {
        topic: TOPICS.cellMotion,
        utcMs,
        propertyOperation,
        source: [['VideoSourceConfigurationToken', VIDEO_SOURCE_CONFIG], ['VideoAnalyticsConfigurationToken', 'vac0'], ['Rule', 'MotionDetectorRule']],
        data: [['IsMotion', String(motion)]],
      },
      { topic: TOPICS.tamper, utcMs, propertyOperation, source: [['Source', VIDEO_SOURCE]], data: [['State', String(tamper)]] },
    ];
  }

  /** The address to put in XAddrs: ours, or, when bound to a wildcard, the one the client used. */
  #replyHost(req: IncomingMessage): string {
    if (this.#host !== '0.0.0.0' && this.#host !== '::') return this.#host;
    const local = req.socket.localAddress ?? '127.0.0.1';
    return local.startsWith('::ffff:') ? local.slice(7) : local;
  }
}

function routeOf(pathname: string): Route | undefined {
  switch (pathname) {
    case DEVICE_PATH:
      return { service: 'device' };
    case MEDIA_PATH:
      return { service: 'media' };
    case EVENTS_PATH:
      return { service: 'events' };
    case PTZ_PATH:
      return { service: 'ptz' };
    default: {
      if (!pathname.startsWith(SUBSCRIPTION_PATH_PREFIX)) return undefined;
      const id = pathname.slice(SUBSCRIPTION_PATH_PREFIX.length);
      return SUBSCRIPTION_ID.test(id) ? { service: 'subscription', id } : undefined;
    }
  }
}

/** The subscription id in a WS-Addressing `To` URL, if it names one of ours. */
function subscriptionIdOf(to: string): string | undefined {
  const at = to.indexOf(SUBSCRIPTION_PATH_PREFIX);
  if (at < 0) return undefined;
  const id = to.slice(at + SUBSCRIPTION_PATH_PREFIX.length).split(/[?#]/, 1)[0] ?? '';
  return SUBSCRIPTION_ID.test(id) ? id : undefined;
}

function plain(res: ServerResponse, status: number, message: string): void {
  sendComplete(res, status, { 'Content-Type': 'text/plain; charset=utf-8' }, message);
}

/** What a client may still send after its upload was refused before the connection is dropped. */
const MAX_DISCARDED_BYTES = 4 * 1024 * 1024;

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // Read and discard the rest of the upload (up to a bound), then answer. Answering first and
  // closing with the upload unread would reset the connection, and the client, still sending,
  // would see ECONNRESET instead of the 413. Beyond the bound the connection is dropped.
  let discarded = 0;
  req.on('error', () => undefined);
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARDED_BYTES) req.destroy();
  });
  req.once('end', () => sendComplete(res, 413, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Payload Too Large'));
}
