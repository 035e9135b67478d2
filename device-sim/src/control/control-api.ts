import http from 'node:http';
import type { Logger } from 'pino';
import type { SimCameraInfo } from '../camera/sim-camera';
import { sendComplete } from '../camera-http-server';
import { EventParams, FaultParams, checkParams, isEventName, isFaultName } from './fault-params';
import type { EventName, EventParamsOf, FaultName, FaultParamsOf } from './fault-params';

/** What the control API drives: a camera in this process, or one in a namespace child. */
export interface ControlTarget {
  readonly id: string;
  /** What `npm run sim -- --json` prints for this camera. */
  info(): SimCameraInfo;
  state(): unknown;
  applyFault<F extends FaultName>(name: F, params: FaultParamsOf<F>): void | Promise<void>;
  triggerEvent<E extends EventName>(name: E, params: EventParamsOf<E>): void | Promise<void>;
  clearFaults(): void | Promise<void>;
}

/** Largest control request body. */
const MAX_BODY = 16 * 1024;

/**
 * The simulator's control API (HTTP JSON), one base URL per camera:
 * `GET {control}/state`, `POST {control}/events/{motion|tamper}`, `POST {control}/faults/{name}`,
 * `DELETE {control}/faults`. `GET /` lists the cameras as `npm run sim -- --json` prints them
 * (each with its `control` URL, plus `extra()`, e.g. the namespaces); `GET /cameras` lists every
 * camera's state. Every reply carries Content-Length.
 */
export class ControlApi {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async create(cameras: () => ReadonlyMap<string, ControlTarget>, host: string, log: Logger, extra: () => Record<string, unknown> = () => ({})): Promise<ControlApi> {
    const server = http.createServer((req, res) => {
      handle(cameras(), extra, req, res, log).catch((err: Error) => {
        log.error({ err: err.message }, 'control request failed');
        if (!res.headersSent) send(res, 500, { error: 'INTERNAL', message: 'internal error' });
      });
    });
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as { port: number };
    return new ControlApi(server, `http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  sendComplete(res, status, { 'content-type': 'application/json', 'cache-control': 'no-store' }, `${JSON.stringify(body)}\n`);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'BODY_TOO_LARGE', `body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'body is not JSON');
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function handle(
  cameras: ReadonlyMap<string, ControlTarget>,
  extra: () => Record<string, unknown>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: Logger,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  try {
    if (path === '/' && req.method === 'GET') return send(res, 200, { cameras: [...cameras.values()].map((c) => c.info()), ...extra() });
    if (path === '/cameras' && req.method === 'GET') return send(res, 200, { cameras: await Promise.all([...cameras.values()].map((c) => c.state())) });
    const m = /^\/cameras\/([^/]+)(\/[^?]*)?$/.exec(path);
    if (!m) throw new HttpError(404, 'NOT_FOUND', 'no such control endpoint');
    const cam = cameras.get(decodeURIComponent(m[1]));
    if (!cam) throw new HttpError(404, 'NOT_FOUND', 'no such camera');
    const rest = (m[2] ?? '/').replace(/\/$/, '') || '/';
    if (req.method === 'GET' && (rest === '/state' || rest === '/')) return send(res, 200, await cam.state());
    if (req.method === 'DELETE' && rest === '/faults') {
      await cam.clearFaults();
      log.info({ camera: cam.id }, 'faults cleared');
      return send(res, 200, await cam.state());
    }
    const action = /^\/(faults|events)\/([a-z-]+)$/.exec(rest);
    if (req.method === 'POST' && action) {
      const [, kind, name] = action as unknown as [string, 'faults' | 'events', string];
      const body = await readJson(req);
      if (kind === 'faults') {
        if (!isFaultName(name)) throw new HttpError(404, 'UNKNOWN_FAULT', `unknown fault ${name}; known: ${Object.keys(FaultParams).join(', ')}`);
        const problem = checkParams(FaultParams[name], body);
        if (problem) throw new HttpError(400, 'BAD_PARAMS', problem);
        await cam.applyFault(name, body as never);
      } else {
        if (!isEventName(name)) throw new HttpError(404, 'UNKNOWN_EVENT', `unknown event ${name}; known: ${Object.keys(EventParams).join(', ')}`);
        const problem = checkParams(EventParams[name], body);
        if (problem) throw new HttpError(400, 'BAD_PARAMS', problem);
        await cam.triggerEvent(name, body as never);
      }
      log.info({ camera: cam.id, kind, name, params: body }, 'control action');
      return send(res, 200, await cam.state());
    }
    if (action || rest === '/state' || rest === '/faults') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} not allowed here`);
    throw new HttpError(404, 'NOT_FOUND', `unknown control endpoint ${rest}`);
  } catch (err) {
    if (err instanceof HttpError) return send(res, err.status, { error: err.code, message: err.message });
    if (err instanceof RangeError) return send(res, 400, { error: 'BAD_PARAMS', message: err.message });
    throw err;
  }
}
