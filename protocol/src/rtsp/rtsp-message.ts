/**
 * RTSP 1.0 framing (RFC 2326 §4, §6, §7, §10.12): an incremental parser for one TCP
 * byte stream that carries requests, responses and `$`-interleaved binary frames,
 * plus the matching serializers.
 *
 * The parser never throws: framing errors come back as a typed {@link RtspError} in
 * the result, after which the stream is unusable (the byte boundaries are lost), so
 * a server answers 400 and closes, and a client drops the connection.
 */
import { RtspError } from './rtsp-error';

/** Longest request or status line accepted, including CRLF. */
export const MAX_START_LINE = 4 * 1024;
/** Longest header line accepted (after folding continuation lines), including CRLF. */
export const MAX_HEADER_LINE = 8 * 1024;
/** Most header lines accepted in one message. */
export const MAX_HEADERS = 64;
/** Largest body accepted (Content-Length). Large 4K-camera SDPs are a few KiB. */
export const MAX_BODY = 64 * 1024;
/** Largest interleaved frame: the 16-bit length field of RFC 2326 §10.12 cannot say more. */
export const MAX_INTERLEAVED = 65_535;

/** One header line, name as received. Order and duplicates are kept (e.g. two WWW-Authenticate). */
export type RtspHeader = readonly [name: string, value: string];

export interface RtspRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: RtspHeader[];
  body: Buffer;
}

export interface RtspResponse {
  kind: 'response';
  statusCode: number;
  reason: string;
  headers: RtspHeader[];
  body: Buffer;
}

/** A `$`-framed binary packet (RFC 2326 §10.12), usually RTP on an even channel and RTCP on the next. */
export interface InterleavedFrame {
  kind: 'interleaved';
  channel: number;
  payload: Buffer;
}

export type RtspFrame = RtspRequest | RtspResponse | InterleavedFrame;

/** What one {@link RtspStreamParser.push} produced. */
export interface RtspParseResult {
  frames: RtspFrame[];
  /** Set once framing has failed; the parser then ignores further input. */
  error?: RtspError;
}

/** First header value with that name (case-insensitive), or undefined. */
export function getHeader(headers: readonly RtspHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Every value of a header (case-insensitive), in order. */
export function getHeaders(headers: readonly RtspHeader[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

const CR = 0x0d;
const LF = 0x0a;
const DOLLAR = 0x24;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION = /^RTSP\/1\.\d$/;

type State =
  | { at: 'idle' }
  | { at: 'headers'; start: RtspRequest | RtspResponse }
  | { at: 'body'; message: RtspRequest | RtspResponse; length: number }
  | { at: 'failed'; error: RtspError };

/**
 * Incremental RTSP stream parser. Feed it socket chunks of any size; it returns the
 * complete frames they finish. Lines may end in CRLF or a bare LF (RFC 2326 §4 asks
 * receivers to accept both).
 */
export class RtspStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  private state: State = { at: 'idle' };
  /** Where to resume looking for LF in `buf`, so a slow drip is not rescanned byte by byte. */
  private scanFrom = 0;
  private headerCount = 0;

  /** True once a framing error has been returned. */
  get failed(): boolean {
    return this.state.at === 'failed';
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): RtspParseResult {
    if (this.state.at === 'failed') return { frames: [], error: this.state.error };
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: RtspFrame[] = [];
    try {
      for (;;) {
        const progressed = this.step(frames);
        // step() may have moved the state to 'failed'; TS cannot see that through the call.
        const state = this.state as State;
        if (state.at === 'failed') return { frames, error: state.error };
        if (!progressed) break;
      }
    } catch (err) {
      // A bug here must still not escape into a socket handler.
      const error = new RtspError('RTSP_BAD_REQUEST', `parser failure: ${(err as Error).message}`, { cause: err });
      this.fail(error);
      return { frames, error };
    }
    return { frames };
  }

  /** Consumes at most one unit (frame, line or body); returns false when more input is needed. */
  private step(frames: RtspFrame[]): boolean {
    const state = this.state;
    switch (state.at) {
      case 'idle':
        return this.stepIdle(frames);
      case 'headers':
        return this.stepHeader(state.start, frames);
      case 'body': {
        if (this.buf.length < state.length) return false;
        state.message.body = Buffer.from(this.buf.subarray(0, state.length));
        this.consume(state.length);
        frames.push(state.message);
        this.state = { at: 'idle' };
        return true;
      }
      case 'failed':
        return false;
    }
  }

  private stepIdle(frames: RtspFrame[]): boolean {
    if (this.buf.length === 0) return false;
    const first = this.buf[0];
    if (first === DOLLAR) {
      if (this.buf.length < 4) return false;
      const length = this.buf.readUInt16BE(2);
      if (this.buf.length < 4 + length) return false;
      frames.push({ kind: 'interleaved', channel: this.buf[1], payload: Buffer.from(this.buf.subarray(4, 4 + length)) });
      this.consume(4 + length);
      return true;
    }
    // Stray CRLFs between messages are tolerated, as HTTP/1.1 §4.1 allows and RFC 2326 inherits.
    if (first === CR || first === LF) {
      this.consume(1);
      return true;
    }
    const line = this.takeLine(MAX_START_LINE, 'RTSP_LINE_TOO_LONG', 'request or status line');
    if (line === undefined) return false;
    const start = parseStartLine(line);
    if (start instanceof RtspError) {
      this.fail(start);
      return false;
    }
    this.headerCount = 0;
    this.state = { at: 'headers', start };
    return true;
  }

  private stepHeader(message: RtspRequest | RtspResponse, frames: RtspFrame[]): boolean {
    const line = this.takeLine(MAX_HEADER_LINE, 'RTSP_HEADER_TOO_LONG', 'header line');
    if (line === undefined) return false;
    const bad = message.kind === 'request' ? 'RTSP_BAD_REQUEST' : 'RTSP_BAD_RESPONSE';
    if (line.length === 0) {
      const length = contentLength(message.headers);
      if (length instanceof RtspError) {
        this.fail(length);
        return false;
      }
      if (length === 0) {
        frames.push(message);
        this.state = { at: 'idle' };
      } else {
        this.state = { at: 'body', message, length };
      }
      return true;
    }
    // Folded continuation line (RFC 2326 §4 via RFC 2616 §2.2 LWS).
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = message.headers.pop();
      if (!last) {
        this.fail(new RtspError(bad, 'continuation line before any header'));
        return false;
      }
      const value = `${last[1]} ${line.trim()}`;
      if (last[0].length + value.length + 4 > MAX_HEADER_LINE) {
        this.fail(new RtspError('RTSP_HEADER_TOO_LONG', `folded header ${last[0]} is longer than ${MAX_HEADER_LINE} bytes`));
        return false;
      }
      message.headers.push([last[0], value]);
      return true;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!TOKEN.test(name)) {
      this.fail(new RtspError('RTSP_BAD_HEADER', `malformed header line ${JSON.stringify(line.slice(0, 64))}`));
      return false;
    }
    if (++this.headerCount > MAX_HEADERS) {
      this.fail(new RtspError('RTSP_TOO_MANY_HEADERS', `more than ${MAX_HEADERS} headers`));
      return false;
    }
    message.headers.push([name, line.slice(colon + 1).trim()]);
    return true;
  }

  /**
   * Returns the next line without its terminator, or undefined if none is complete yet.
   * Fails the parser when `limit` bytes arrive without a line end.
   */
  private takeLine(limit: number, code: 'RTSP_LINE_TOO_LONG' | 'RTSP_HEADER_TOO_LONG', what: string): string | undefined {
    const searchEnd = Math.min(this.buf.length, limit);
    const lf = this.buf.subarray(0, searchEnd).indexOf(LF, this.scanFrom);
    if (lf < 0) {
      if (this.buf.length >= limit) this.fail(new RtspError(code, `${what} longer than ${limit} bytes`));
      else this.scanFrom = this.buf.length;
      return undefined;
    }
    const end = lf > 0 && this.buf[lf - 1] === CR ? lf - 1 : lf;
    // latin1 keeps one char per byte, so lengths above match bytes and nothing can fail to decode.
    const line = this.buf.toString('latin1', 0, end);
    this.consume(lf + 1);
    return line;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
    this.scanFrom = 0;
  }

  private fail(error: RtspError): void {
    this.state = { at: 'failed', error };
    this.buf = Buffer.alloc(0);
  }
}

function parseStartLine(line: string): RtspRequest | RtspResponse | RtspError {
  // Cameras send repeated spaces in status lines; split on runs of spaces (IPCamKit PR #7).
  if (line.startsWith('RTSP/')) {
    const m = /^(RTSP\/\d\.\d) +(\d{3})(?: +(.*))?$/.exec(line);
    if (!m) return new RtspError('RTSP_BAD_RESPONSE', `malformed status line ${JSON.stringify(line.slice(0, 64))}`);
    const statusCode = Number(m[2]);
    if (statusCode < 100 || statusCode > 599) return new RtspError('RTSP_BAD_RESPONSE', `status code ${statusCode} out of range`);
    return { kind: 'response', statusCode, reason: (m[3] ?? '').trim(), headers: [], body: Buffer.alloc(0) };
  }
  const parts = line.split(' ').filter((p) => p.length > 0);
  if (parts.length !== 3) return new RtspError('RTSP_BAD_REQUEST', `malformed request line ${JSON.stringify(line.slice(0, 64))}`);
  const [method, uri, version] = parts as [string, string, string];
  if (!TOKEN.test(method) || method.length > 64) return new RtspError('RTSP_BAD_REQUEST', 'malformed method');
  // A request-URI is printable (RFC 2326 §3.2, RFC 3986): a bare CR or other control byte
  // would survive into headers we echo back (Content-Base).
  if (/[\x00-\x20\x7f]/.test(uri)) return new RtspError('RTSP_BAD_REQUEST', 'control characters in the request-URI');
  if (!VERSION.test(version)) return new RtspError('RTSP_BAD_REQUEST', `unsupported protocol version ${JSON.stringify(version.slice(0, 16))}`);
  return { kind: 'request', method, uri, headers: [], body: Buffer.alloc(0) };
}

function contentLength(headers: readonly RtspHeader[]): number | RtspError {
  const values = getHeaders(headers, 'content-length');
  if (values.length === 0) return 0; // RFC 2326 §4.3: no Content-Length means no body.
  const distinct = new Set(values.map((v) => v.trim()));
  if (distinct.size > 1) return new RtspError('RTSP_BAD_HEADER', 'conflicting Content-Length headers');
  const value = values[0].trim();
  // Digits only: "-1", "+5", "1e3" and "" all rejected (gortsplib crash 5859c9cb).
  if (!/^\d{1,10}$/.test(value)) return new RtspError('RTSP_BAD_HEADER', `bad Content-Length ${JSON.stringify(value.slice(0, 16))}`);
  const n = Number(value);
  if (n > MAX_BODY) return new RtspError('RTSP_BODY_TOO_LARGE', `body of ${n} bytes exceeds ${MAX_BODY}`);
  return n;
}

/** What a serializer needs; `Content-Length` is added from `body`. */
export interface RtspRequestInit {
  method: string;
  uri: string;
  headers?: readonly RtspHeader[];
  body?: Buffer | string;
}

export interface RtspResponseInit {
  statusCode: number;
  reason?: string;
  headers?: readonly RtspHeader[];
  body?: Buffer | string;
}

/** Serializes a request (RFC 2326 §6). Throws `RangeError` on CR/LF in any field (header injection). */
export function serializeRequest(req: RtspRequestInit): Buffer {
  if (!TOKEN.test(req.method)) throw new RangeError(`invalid RTSP method ${JSON.stringify(req.method)}`);
  if (/[\s]/.test(req.uri) || req.uri.length === 0) throw new RangeError('RTSP request URI must be non-empty without whitespace');
  return serializeMessage(`${req.method} ${req.uri} RTSP/1.0`, req.headers ?? [], req.body);
}

/** Serializes a response (RFC 2326 §7). */
export function serializeResponse(res: RtspResponseInit): Buffer {
  if (!Number.isInteger(res.statusCode) || res.statusCode < 100 || res.statusCode > 599) {
    throw new RangeError(`invalid RTSP status ${res.statusCode}`);
  }
  const reason = res.reason ?? STATUS_TEXT[res.statusCode] ?? 'Unknown';
  checkNoNewline(reason);
  return serializeMessage(`RTSP/1.0 ${res.statusCode} ${reason}`, res.headers ?? [], res.body);
}

/** Frames one binary packet for interleaving on the RTSP connection (RFC 2326 §10.12). */
export function serializeInterleaved(channel: number, payload: Buffer): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`invalid interleaved channel ${channel}`);
  if (payload.length > MAX_INTERLEAVED) throw new RangeError(`interleaved payload of ${payload.length} bytes exceeds ${MAX_INTERLEAVED}`);
  const header = Buffer.allocUnsafe(4);
  header[0] = DOLLAR;
  header[1] = channel;
  header.writeUInt16BE(payload.length, 2);
  return Buffer.concat([header, payload]);
}

function serializeMessage(startLine: string, headers: readonly RtspHeader[], body: Buffer | string | undefined): Buffer {
  const bodyBuf = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `${startLine}\r\n`;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new RangeError(`invalid header name ${JSON.stringify(name)}`);
    if (name.toLowerCase() === 'content-length') continue;
    checkNoNewline(value);
    head += `${name}: ${value}\r\n`;
  }
  if (bodyBuf.length > 0) head += `Content-Length: ${bodyBuf.length}\r\n`;
  head += '\r\n';
  return bodyBuf.length > 0 ? Buffer.concat([Buffer.from(head, 'utf8'), bodyBuf]) : Buffer.from(head, 'utf8');
}

function checkNoNewline(value: string): void {
  if (/[\r\n]/.test(value)) throw new RangeError('CR or LF inside an RTSP header value');
}

/** Reason phrases of RFC 2326 §7.1.1. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Time-out',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  457: 'Invalid Range',
  459: 'Aggregate operation not allowed',
  460: 'Only aggregate operation allowed',
  461: 'Unsupported transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version not supported',
};
