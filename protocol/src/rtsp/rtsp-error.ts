/**
 * Stable codes for everything that can go wrong on an RTSP connection. Callers
 * switch on `code`, never on the message text.
 */
export type RtspErrorCode =
  /** Request or status line longer than the limit (4 KiB). */
  | 'RTSP_LINE_TOO_LONG'
  /** One header line longer than the limit (8 KiB). */
  | 'RTSP_HEADER_TOO_LONG'
  /** More headers than the limit (64). */
  | 'RTSP_TOO_MANY_HEADERS'
  /** Content-Length above the limit (64 KiB). */
  | 'RTSP_BODY_TOO_LARGE'
  /** A request that does not follow RFC 2326 §6 grammar. */
  | 'RTSP_BAD_REQUEST'
  /** A response that does not follow RFC 2326 §7 grammar. */
  | 'RTSP_BAD_RESPONSE'
  /** A header line without `name: value` shape, or a bad Content-Length. */
  | 'RTSP_BAD_HEADER'
  /** A Transport, Session or similar header whose value cannot be parsed. */
  | 'RTSP_BAD_HEADER_VALUE'
  /** A URL that is not `rtsp://host[:port]/…`. */
  | 'RTSP_BAD_URL'
  /** TCP connect failed. */
  | 'RTSP_CONNECT_FAILED'
  /** No reply (or no connection) within the configured time. */
  | 'RTSP_TIMEOUT'
  /** The connection closed while a request was outstanding, or the client was closed. */
  | 'RTSP_CLOSED'
  /** The server answered 401 and the credentials we hold (if any) were refused. */
  | 'RTSP_UNAUTHORIZED'
  /** The server offers only Basic auth (password in the clear) and the client was not allowed to use it. */
  | 'RTSP_BASIC_REFUSED'
  /** The server answered with another non-2xx status; see `statusCode`. */
  | 'RTSP_STATUS'
  /** A described session has no track we can play. */
  | 'RTSP_NO_SUITABLE_TRACK'
  /** A call made in the wrong state, e.g. `play()` before `setup()`. */
  | 'RTSP_INVALID_STATE';

/** Typed error for the RTSP client, server and parser. */
export class RtspError extends Error {
  override readonly name = 'RtspError';
  readonly code: RtspErrorCode;
  /** RTSP status code from the peer, when the error comes from a response. */
  readonly statusCode: number | undefined;

  constructor(code: RtspErrorCode, message: string, opts: { statusCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.statusCode = opts.statusCode;
  }
}
