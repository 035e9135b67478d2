import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RtspError } from '../../src/rtsp/rtsp-error';
import { formatTransport, parseSession, parseTransport } from '../../src/rtsp/rtsp-headers';
import {
  getHeader,
  getHeaders,
  MAX_BODY,
  MAX_HEADERS,
  MAX_HEADER_LINE,
  MAX_START_LINE,
  RtspStreamParser,
  serializeInterleaved,
  serializeRequest,
  serializeResponse,
  type RtspFrame,
  type RtspParseResult,
} from '../../src/rtsp/rtsp-message';

const corpusDir = fileURLToPath(new URL('./fixtures/rtsp-message-corpus/', import.meta.url));

function parseAll(chunks: Buffer[]): { frames: RtspFrame[]; error?: RtspError } {
  const parser = new RtspStreamParser();
  const frames: RtspFrame[] = [];
  let error: RtspError | undefined;
  for (const c of chunks) {
    const r: RtspParseResult = parser.push(c);
    frames.push(...r.frames);
    if (r.error) {
      error = r.error;
      break;
    }
  }
  return error ? { frames, error } : { frames };
}

const describeReply = serializeResponse({
  statusCode: 200,
  headers: [
    ['CSeq', '2'],
    ['Content-Base', 'rtsp://127.0.0.1/cam/'],
    ['Content-Type', 'application/sdp'],
  ],
  body: 'v=0\r\ns=x\r\n',
});
const rtp = Buffer.from([0x80, 0x60, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0xbb]);
const stream = Buffer.concat([
  serializeInterleaved(0, rtp),
  describeReply,
  serializeInterleaved(1, Buffer.alloc(0)),
  serializeRequest({ method: 'GET_PARAMETER', uri: 'rtsp://127.0.0.1/cam/', headers: [['CSeq', '9'], ['Session', 'abc']] }),
  serializeInterleaved(0, rtp),
]);

function expectStreamFrames(frames: RtspFrame[]): void {
  expect(frames.map((f) => f.kind)).toEqual(['interleaved', 'response', 'interleaved', 'request', 'interleaved']);
  const [f0, f1, f2, f3] = frames as [RtspFrame, RtspFrame, RtspFrame, RtspFrame];
  expect(f0).toMatchObject({ kind: 'interleaved', channel: 0 });
  expect(f0.kind === 'interleaved' && f0.payload.equals(rtp)).toBe(true);
  expect(f1.kind === 'response' && f1.statusCode).toBe(200);
  expect(f1.kind === 'response' && f1.body.toString()).toBe('v=0\r\ns=x\r\n');
  expect(f1.kind === 'response' && getHeader(f1.headers, 'content-base')).toBe('rtsp://127.0.0.1/cam/');
  expect(f2).toMatchObject({ kind: 'interleaved', channel: 1 });
  expect(f3).toMatchObject({ kind: 'request', method: 'GET_PARAMETER', uri: 'rtsp://127.0.0.1/cam/' });
}

describe('RtspStreamParser', () => {
  it('parses interleaved frames mixed with responses and requests in one chunk', () => {
    const { frames, error } = parseAll([stream]);
    expect(error).toBeUndefined();
    expectStreamFrames(frames);
  });

  it('gives the same frames when the stream is split at every byte boundary', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { frames, error } = parseAll([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(error).toBeUndefined();
      expectStreamFrames(frames);
    }
  });

  it('gives the same frames when fed one byte at a time', () => {
    const chunks = [...stream].map((b) => Buffer.from([b]));
    const { frames, error } = parseAll(chunks);
    expect(error).toBeUndefined();
    expectStreamFrames(frames);
  });

  it('accepts bare LF line ends, folded headers and repeated spaces in the status line', () => {
    const { frames, error } = parseAll([Buffer.from('RTSP/1.0   401   Unauthorized\nCSeq: 3\nWWW-Authenticate: Digest realm="a",\n\tnonce="b"\nWWW-Authenticate: Basic realm="a"\n\n')]);
    expect(error).toBeUndefined();
    const res = frames[0];
    expect(res.kind === 'response' && res.statusCode).toBe(401);
    expect(res.kind === 'response' && getHeaders(res.headers, 'www-authenticate')).toEqual(['Digest realm="a", nonce="b"', 'Basic realm="a"']);
  });

  it('reads a body announced as Content-length (wrong case, seen on cameras)', () => {
    const { frames } = parseAll([readFileSync(`${corpusDir}/wrong-case-content-length.bin`)]);
    expect(frames[0]?.kind === 'response' && frames[0].body.toString()).toBe('abc');
  });

  const limitCases: Array<[string, Buffer, string]> = [
    ['request line over 4 KiB', Buffer.from(`OPTIONS rtsp://a/${'x'.repeat(MAX_START_LINE)} RTSP/1.0\r\n`), 'RTSP_LINE_TOO_LONG'],
    ['request line over 4 KiB without any LF yet', Buffer.from('A'.repeat(MAX_START_LINE + 1)), 'RTSP_LINE_TOO_LONG'],
    ['header line over 8 KiB', Buffer.from(`OPTIONS * RTSP/1.0\r\nX-Big: ${'y'.repeat(MAX_HEADER_LINE)}\r\n\r\n`), 'RTSP_HEADER_TOO_LONG'],
    ['more than 64 headers', Buffer.from(`OPTIONS * RTSP/1.0\r\n${'Key: val\r\n'.repeat(MAX_HEADERS + 1)}\r\n`), 'RTSP_TOO_MANY_HEADERS'],
    ['body over 64 KiB', Buffer.from(`ANNOUNCE rtsp://a/b RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`), 'RTSP_BODY_TOO_LARGE'],
    ['negative Content-Length', readFileSync(`${corpusDir}/content-length-negative.bin`), 'RTSP_BAD_HEADER'],
    ['empty Content-Length', readFileSync(`${corpusDir}/status-zero-empty-content-length.bin`), 'RTSP_BAD_RESPONSE'],
    ['non-numeric Content-Length', readFileSync(`${corpusDir}/content-length-alpha.bin`), 'RTSP_BAD_HEADER'],
    ['header line without a colon', Buffer.from('OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n'), 'RTSP_BAD_HEADER'],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'RTSP_BAD_REQUEST'],
    ['a continuation line before any header', readFileSync(`${corpusDir}/continuation-first.bin`), 'RTSP_BAD_REQUEST'],
  ];
  for (const [name, input, code] of limitCases) {
    it(`returns ${code} for ${name}`, () => {
      const parser = new RtspStreamParser();
      const r = parser.push(input);
      expect(r.error).toBeInstanceOf(RtspError);
      expect(r.error?.code).toBe(code);
      expect(parser.failed).toBe(true);
      // Once failed, the parser reports the same error and never yields frames again.
      const again = parser.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
      expect(again.frames).toEqual([]);
      expect(again.error?.code).toBe(code);
    });
  }

  it('accepts a 64 KiB body and 64 headers exactly at the limits', () => {
    const headers = Array.from({ length: MAX_HEADERS - 1 }, (_, i) => `X-${i}: v\r\n`).join('');
    const msg = Buffer.concat([Buffer.from(`ANNOUNCE rtsp://a/b RTSP/1.0\r\n${headers}Content-Length: ${MAX_BODY}\r\n\r\n`), Buffer.alloc(MAX_BODY, 0x41)]);
    const { frames, error } = parseAll([msg]);
    expect(error).toBeUndefined();
    expect(frames[0]?.kind === 'request' && frames[0].body.length).toBe(MAX_BODY);
  });

  it('waits for the rest of a truncated interleaved frame without error', () => {
    const r = new RtspStreamParser().push(readFileSync(`${corpusDir}/interleaved-truncated.bin`));
    expect(r.frames).toEqual([]);
    expect(r.error).toBeUndefined();
  });
});

describe('serializers', () => {
  it('add Content-Length from the body and refuse header injection', () => {
    const buf = serializeResponse({ statusCode: 200, headers: [['CSeq', '1']], body: 'hello' });
    expect(buf.toString()).toBe('RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 5\r\n\r\nhello');
    expect(() => serializeRequest({ method: 'OPTIONS', uri: '*', headers: [['X', 'a\r\nEvil: 1']] })).toThrow(RangeError);
    expect(() => serializeInterleaved(256, Buffer.alloc(1))).toThrow(RangeError);
  });
});

describe('Transport and Session headers', () => {
  it('parses interleaved TCP and UDP specs in preference order', () => {
    const specs = parseTransport('RTP/AVP/TCP;unicast;interleaved=2-3;mode=play, RTP/AVP;unicast;client_port=5000-5001');
    expect(specs).toEqual([
      { protocol: 'RTP/AVP', lowerTransport: 'TCP', unicast: true, interleaved: [2, 3], mode: 'PLAY' },
      { protocol: 'RTP/AVP', lowerTransport: 'UDP', unicast: true, clientPort: [5000, 5001] },
    ]);
    expect(formatTransport((specs as never[])[0])).toBe('RTP/AVP/TCP;unicast;interleaved=2-3;mode=PLAY');
  });

  it.each(['RTP/AVP/TCP;interleaved=', 'RTP/AVP/TCP;interleaved=255-256', 'RTP/AVP;client_port=99999', 'garbage'])('rejects %j with a typed error', (v) => {
    const r = parseTransport(v);
    expect(r).toBeInstanceOf(RtspError);
    expect((r as RtspError).code).toBe('RTSP_BAD_HEADER_VALUE');
  });

  it('parses Session ids and timeouts, rejecting junk', () => {
    expect(parseSession('12345678;timeout=30')).toEqual({ id: '12345678', timeoutSec: 30 });
    expect(parseSession('abc;timeout')).toEqual({ id: 'abc' });
    expect(parseSession(';="')).toBeInstanceOf(RtspError);
  });
});
