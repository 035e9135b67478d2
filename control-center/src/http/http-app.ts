import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { MAX_LINK_MESSAGE_BYTES } from '@schoolcam/protocol/link/link-messages';
import type { RouteAccess } from '../access/route-access';
import { type RequestAuthDeps, SESSION_COOKIE, accessHook } from '../auth/request-auth';
import { AppError } from '../errors';
import { MAX_VIEWER_MESSAGE_BYTES } from '../viewer/viewer-messages';

/** A route as registered: what the authorization matrix and the bad-input test enumerate. */
export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess;
  websocket: boolean;
  /** The body schema's top-level properties, when the route takes a JSON body. */
  bodySchema: unknown;
  paramsSchema: unknown;
  querySchema: unknown;
}

export interface HttpAppOptions {
  logger: Logger;
  tls?: { cert: Buffer; key: Buffer };
  requestsPerMinute: number;
  auth: RequestAuthDeps;
  version: string;
}

/** Largest HTTP body accepted: every JSON body of the API is small (SDP travels on the viewer socket). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The centre's fastify instance with everything every area relies on: TypeBox validation
 * (unknown fields rejected, no type coercion of bodies), one error handler, strict security
 * headers and CSP, cookies, the rate limit, the OpenAPI document, WebSocket support, and the
 * route registry that refuses a route without an access rule.
 */
export async function createHttpApp(opts: HttpAppOptions): Promise<{ app: FastifyInstance; routes: RegisteredRoute[] }> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    exposeHeadRoutes: false,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.decorateRequest('principal', null);
  app.decorateRequest('sessionRecord', null);
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const { status, body, retryAfterS } = mapError(err);
    if (status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    if (retryAfterS) void reply.header('retry-after', String(retryAfterS));
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error: 'NOT_FOUND', message: 'no such route' }));

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        mediaSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        ...(opts.tls ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: opts.tls ? { maxAge: 31_536_000 } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: true,
    max: opts.requestsPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) => new AppError('RATE_LIMITED', `too many requests; try again in ${Math.ceil(ctx.ttl / 1000)} s`, 429, Math.ceil(ctx.ttl / 1000)),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'schoolcam control centre', version: opts.version, description: 'Every route needs a session cookie unless noted; state changes need the x-csrf-token header.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
    },
  });
  await app.register(websocket, { options: { maxPayload: Math.max(MAX_LINK_MESSAGE_BYTES, MAX_VIEWER_MESSAGE_BYTES) } });

  const routes: RegisteredRoute[] = [];
  // Registered after the rate limit's own onRoute hook, so the limit runs before any lookup.
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!access) throw new Error(`route ${methods.join(',')} ${route.url} declares no config.access: decide who may call it`);
    const hook = accessHook(access, opts.auth);
    route.onRequest = [...(Array.isArray(route.onRequest) ? route.onRequest : route.onRequest ? [route.onRequest] : []), hook];
    for (const method of methods) {
      routes.push({
        method,
        url: route.url,
        access,
        websocket: Boolean((route as { websocket?: boolean }).websocket),
        bodySchema: route.schema?.body,
        paramsSchema: route.schema?.params,
        querySchema: route.schema?.querystring,
      });
    }
  });
  return { app: app as unknown as FastifyInstance, routes };
}

/** The one mapping from errors to HTTP answers. 5xx bodies never carry internals. */
export function mapError(err: FastifyError | AppError): { status: number; body: { error: string; message: string }; retryAfterS?: number } {
  if (err instanceof AppError) return { status: err.status, body: { error: err.code, message: err.message }, retryAfterS: err.retryAfterS };
  const fe = err;
  if (fe.validation) {
    const where = fe.validationContext ?? 'request';
    const first = fe.validation[0];
    const path = first?.instancePath ? first.instancePath : '';
    return { status: 400, body: { error: 'BAD_REQUEST', message: `${where}${path} ${first?.message ?? 'is invalid'}`.trim() } };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: 'PAYLOAD_TOO_LARGE', message: `body larger than ${BODY_LIMIT_BYTES} bytes` } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: 'BAD_REQUEST', message: 'send JSON (content-type: application/json)' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: 'BAD_REQUEST', message: 'the JSON body is empty' } };
  }
  const status = fe.statusCode;
  if (status && status >= 400 && status < 500) {
    // JSON syntax errors and prototype-poisoning attempts (`__proto__`, `constructor`) land here.
    const message = err instanceof SyntaxError ? 'body is not valid JSON' : fe.message;
    return { status, body: { error: 'BAD_REQUEST', message } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: 'internal error' } };
}
