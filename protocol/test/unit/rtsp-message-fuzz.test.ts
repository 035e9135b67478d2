import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtspError } from '../../src/rtsp/rtsp-error';
import { MAX_BODY, MAX_HEADER_LINE, MAX_INTERLEAVED, MAX_START_LINE, RtspStreamParser, serializeRequest, serializeResponse } from '../../src/rtsp/rtsp-message';
import { corpus, fuzz } from '../support/fuzz';

const corpusDir = fileURLToPath(new URL('./fixtures/rtsp-message-corpus/', import.meta.url));

/** Most a parser may hold between pushes: one header line, a whole body or one interleaved frame, plus the 4 bytes that announce it. */
const MAX_BUFFERED = MAX_START_LINE + MAX_HEADER_LINE + Math.max(MAX_BODY, MAX_INTERLEAVED) + 4;

/**
 * Feeds `chunks` to one parser, as a socket would. Checks the properties every input must keep:
 * no throw, only RtspError, frames within their limits, bounded buffering, and what parses
 * re-serializes. Returns whether the parser failed.
 */
function feed(chunks: readonly Uint8Array[]): boolean {
  const parser = new RtspStreamParser();
  for (const c of chunks) {
    const r = parser.push(Buffer.from(c));
    for (const f of r.frames) {
      if (f.kind === 'interleaved') expect(f.payload.length).toBeLessThanOrEqual(MAX_INTERLEAVED);
      if (f.kind === 'request') expect(() => serializeRequest(f)).not.toThrow();
      if (f.kind === 'response') {
        expect(f.body.length).toBeLessThanOrEqual(MAX_BODY);
        expect(() => serializeResponse(f)).not.toThrow();
      }
    }
    if (r.error) {
      expect(r.error).toBeInstanceOf(RtspError);
      return true;
    }
    expect(parser.buffered).toBeLessThanOrEqual(MAX_BUFFERED);
  }
  return false;
}

const bytesOf = (chunks: readonly Uint8Array[]): Buffer => Buffer.concat(chunks.map((c) => Buffer.from(c)));

describe('RTSP stream parser under fuzzing (responses, requests, interleaved frames)', () => {
  it('replays the kept crash corpus, whole and byte by byte, without throwing', () => {
    const files = corpus(corpusDir);
    expect(files.length).toBeGreaterThan(5);
    for (const { data } of files) {
      feed([data]);
      feed([...data].map((b) => Uint8Array.of(b)));
    }
  });

  it('random bytes in random chunks: no throw, only RtspError, bounded buffering', () => {
    fuzz(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => void feed(chunks), { runs: 2000, corpusDir, encode: bytesOf });
  });

  it('RTSP-shaped responses and requests: what parses re-serializes, the rest fails with RtspError', () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/);
    const value = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
    const piece = fc.oneof(
      fc.constantFrom('RTSP/1.0 200 OK\r\n', 'RTSP/1.0 401 Unauthorized\r\n', 'RTSP/1.0  0 \r\n', 'RTSP/1.0 2OO 0K\r\n'),
      fc.constant('OPTIONS rtsp://h/p RTSP/1.0\r\n'),
      fc.constantFrom('\r\n', '\n', '\r', ' folded\r\n'),
      fc.tuple(token, value).map(([k, v]) => `${k}: ${v}\r\n`),
      fc.constantFrom('CSeq: 1\r\n', 'Session: 1234;timeout=60\r\n', 'WWW-Authenticate: Digest realm="r", nonce="n"\r\n', 'Content-length: 3\r\n'),
      fc.integer({ min: -2, max: 70_000 }).map((n) => `Content-Length: ${n}\r\n`),
      fc.constantFrom('$\x00\x00\x02ab', '$\x01\xff\xff', '$'),
      fc.string({ maxLength: 20 }),
    );
    const input = fc.tuple(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 1, max: 50 })).map(([pieces, size]) => {
      const all = Buffer.from(pieces.join(''), 'latin1');
      const chunks: Buffer[] = [];
      for (let i = 0; i < all.length; i += size) chunks.push(all.subarray(i, i + size));
      return chunks;
    });
    fuzz(input, (chunks) => void feed(chunks), { runs: 1000, corpusDir, encode: bytesOf });
  });
});
