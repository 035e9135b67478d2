import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEVICE_UNAUTHENTICATED, handleDeviceOperation } from './device-service';
import { handleMediaOperation } from './media-service';
import { DEVICE_PATH, MEDIA_PATH, type OnvifCameraModel, type ServiceContext } from './onvif-camera-model';
import { faults, parseSoapRequest, soapEnvelope, soapFaultXml, type SoapFault, type SoapRequest } from './soap-envelope';
import { UsernameTokenVerifier } from './ws-username-token';

export type { OnvifCameraModel, OnvifProfileInfo } from './onvif-camera-model';

/** Structured logger (pino-compatible subset). Never given credentials. */
export interface OnvifServerLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

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
}

const noopLogger: OnvifServerLogger = { debug: () => {}, warn: () => {} };
const ACCEPTED_CONTENT_TYPES = ['application/soap+xml', 'text/xml', 'application/xml'];

type Service = 'device' | 'media';

/**
 * ONVIF SOAP server of one simulated camera: the device service (ONVIF Core §8) and the Media
 * service (ver10) over plain HTTP, with WS-Security UsernameToken authentication.
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
  #closing: Promise<void> | undefined;

  /** the bound TCP port */
  readonly port: number;

  private constructor(server: Server, opts: OnvifServerOptions, host: string, port: number) {
    super();
    this.#server = server;
    this.#camera = opts.camera;
    this.#log = opts.logger ?? noopLogger;
    this.#host = host;
    this.port = port;
    this.#maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024;
    this.#auth = new UsernameTokenVerifier({ windowMs: opts.authWindowMs });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
  }

  /** Start listening. Rejects if the port cannot be bound. */
  static async create(opts: OnvifServerOptions): Promise<OnvifServer> {
    const host = opts.host ?? '127.0.0.1';
    const server = createServer();
    // Slow or stalled clients must not pin sockets (a camera has few of them).
    server.requestTimeout = 15_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const self = new OnvifServer(server, opts, host, port);
    server.on('error', (err) => self.#log.warn({ err: err.message }, 'onvif server error'));
    return self;
  }

  /** Device service address, e.g. `http://127.0.0.1:34567/onvif/device_service`. */
  get xaddr(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.port}${DEVICE_PATH}`;
  }

  /** Stop listening and drop open connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    }).then(() => {
      this.emit('close');
    });
    return this.#closing;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const pathname = (req.url ?? '').split('?', 1)[0];
    const service: Service | undefined = pathname === DEVICE_PATH ? 'device' : pathname === MEDIA_PATH ? 'media' : undefined;
    if (service === undefined) return plain(res, 404, 'Not Found');
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
      const { status, xml } = this.#handle(service, Buffer.concat(chunks).toString('utf8'), req);
      res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(xml);
    });
  }

  #handle(service: Service, body: string, req: IncomingMessage): { status: number; xml: string } {
    const parsed = parseSoapRequest(body);
    if (!parsed.ok) return this.#fault(parsed.fault, { service });
    const request = parsed.request;
    const op = request.operation;
    const ctx: ServiceContext = {
      camera: this.#camera,
      nowMs: Date.now() + (this.#camera.clockOffsetMs ?? 0),
      host: this.#replyHost(req),
      port: this.port,
    };

    // ONVIF Core §5.12: GetSystemDateAndTime is PRE_AUTH, so a client can learn the camera's
    // clock before it builds its first UsernameToken.
    const open = service === 'device' && DEVICE_UNAUTHENTICATED.has(op);
    if (!open) {
      const auth = this.#auth.verify(request.header, this.#camera, ctx.nowMs);
      if (!auth.ok) return this.#fault(faults.notAuthorized(), { service, op, reason: auth.reason });
    }

    let result: string | SoapFault | undefined;
    try {
      result = this.#dispatch(service, request, ctx);
    } catch (err) {
      // A throwing camera hook must not take the server down; the reply does not say why.
      this.#log.warn({ service, op, err: err instanceof Error ? err.message : String(err) }, 'onvif operation failed');
      return this.#fault(faults.receiver('Internal error'), { service, op });
    }
    if (result === undefined) return this.#fault(faults.actionNotSupported(), { service, op });
    if (typeof result !== 'string') return this.#fault(result, { service, op });
    this.#log.debug({ service, op }, 'onvif request');
    return { status: 200, xml: soapEnvelope(result) };
  }

  #dispatch(service: Service, request: SoapRequest, ctx: ServiceContext): string | SoapFault | undefined {
    switch (service) {
      case 'device':
        return handleDeviceOperation(request, ctx);
      case 'media':
        return handleMediaOperation(request, ctx);
      default:
        throw new Error(`unreachable service ${service satisfies never}`);
    }
  }

  #fault(fault: SoapFault, fields: Record<string, unknown>): { status: number; xml: string } {
    this.#log.debug({ ...fields, fault: fault.subcodes.at(-1) ?? fault.code }, 'onvif fault');
    return { status: fault.status, xml: soapFaultXml(fault) };
  }

  /** The address to put in XAddrs: ours, or, when bound to a wildcard, the one the client used. */
  #replyHost(req: IncomingMessage): string {
    if (this.#host !== '0.0.0.0' && this.#host !== '::') return this.#host;
    const local = req.socket.localAddress ?? '127.0.0.1';
    return local.startsWith('::ffff:') ? local.slice(7) : local;
  }
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(message);
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // Stop reading the rest of the upload: answer, then drop the connection.
  res.once('finish', () => req.destroy());
  res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end('Payload Too Large');
}
