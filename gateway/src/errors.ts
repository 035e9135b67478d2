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

/**
 * The base of every typed error of the gateway (its own, the ONVIF adapter's, a camera source's):
 * a stable `code` that decisions are made on, and a message that is only for people.
 */
export abstract class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class GatewayError extends CodedError<GatewayErrorCode> {
  override readonly name = 'GatewayError';
}
