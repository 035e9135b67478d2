/**
 * Typed errors of the gateway. `code` is stable (callers switch on it, the link's
 * `request.failed` carries it); the message is for people and never holds a password.
 */
export type GatewayErrorCode =
  | 'BAD_REQUEST'
  | 'UNREACHABLE'
  | 'AUTH'
  | 'TIMEOUT'
  | 'UNSUPPORTED'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'BUSY'
  | 'INTERNAL'
  | 'KEY_FILE'
  | 'STORAGE';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
