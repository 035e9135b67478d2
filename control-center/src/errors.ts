/**
 * Stable error codes of the control centre. Clients (the dashboard, the gateway, tests) branch
 * on these, never on the message, which is for people.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'SESSION_EXPIRED'
  | 'TOTP_REQUIRED'
  | 'TOTP_NOT_SET_UP'
  | 'FORBIDDEN'
  | 'CSRF'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'LOCKED'
  | 'THROTTLED'
  | 'RATE_LIMITED'
  | 'AUDIT_UNAVAILABLE'
  | 'GATEWAY_OFFLINE'
  /** The school's gateway is answering other requests (or a discovery runs); try again shortly. */
  | 'GATEWAY_BUSY'
  /** The school's gateway did not answer in time. */
  | 'GATEWAY_TIMEOUT'
  /** The school's gateway failed to answer (its own error, or a reply that makes no sense). */
  | 'GATEWAY_FAILED'
  /** The gateway cannot reach the camera. */
  | 'CAMERA_UNREACHABLE'
  /** The camera refused the user name or password (or offers only Basic auth in the clear). */
  | 'CAMERA_AUTH'
  /** The camera did not answer the gateway in time. */
  | 'CAMERA_TIMEOUT'
  /** The camera answers, but offers nothing the gateway can use (no H.264, no snapshot…). */
  | 'CAMERA_UNSUPPORTED'
  | 'STREAM_ENDED'
  | 'TOO_MANY_TILES'
  | 'TOO_MANY_VIEWERS'
  | 'NO_OFFER'
  | 'ANSWER_TIMEOUT'
  /** The fan-out shard carrying the stream restarted (or is restarting): watch again. */
  | 'FANOUT_RESTARTED'
  | 'INTERNAL';

/** Typed errors of the control centre; mapped to HTTP statuses once, in the fastify error handler. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = 400,
    /** Seconds a throttled client should wait (`Retry-After`). */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): AppError => new AppError('BAD_REQUEST', message, 400);
export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`, 404);
export const unauthorized = (message = 'missing or invalid credentials'): AppError => new AppError('UNAUTHORIZED', message, 401);
export const forbidden = (message = 'not permitted for this account'): AppError => new AppError('FORBIDDEN', message, 403);
export const conflict = (message: string): AppError => new AppError('CONFLICT', message, 409);
