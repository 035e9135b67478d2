import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEPACKETIZER_LIMITS, H264Depacketizer, H264DepacketizeError } from '../../src/h264/depacketizer';
import { NalType } from '../../src/h264/nal';
import { MAX_RTP_PACKET, parseRtp, RtpParseError, serializeRtp } from '../../src/rtp/rtp-packet';
import { corpus, fuzz, typedOrNone } from '../support/fuzz';

const corpusDir = fileURLToPath(new URL('./fixtures/rtp-h264-corpus/', import.meta.url));

/**
 * What the gateway does with each datagram or interleaved frame from a camera: parse the RTP
 * header, then depacketize. Each packet may fail only with RtpParseError or H264DepacketizeError;
 * access units and the depacketizer's buffer stay within their limits.
 */
function feed(packets: readonly Buffer[]): void {
  const depack = new H264Depacketizer();
  for (const raw of packets) {
    const rtpError = typedOrNone(RtpParseError, () => {
      const pkt = parseRtp(raw);
      expect(pkt.payload.length).toBeLessThanOrEqual(MAX_RTP_PACKET);
      typedOrNone(H264DepacketizeError, () => {
        for (const au of depack.push(pkt)) {
          expect(au.nalus.length).toBeGreaterThan(0);
          expect(au.nalus.length).toBeLessThanOrEqual(DEPACKETIZER_LIMITS.maxNalusPerFrame);
          expect(au.nalus.reduce((n, b) => n + b.length, 0)).toBeLessThanOrEqual(DEPACKETIZER_LIMITS.maxFrameBytes);
          for (const n of au.nalus) expect(n.length).toBeGreaterThan(0);
        }
      });
    });
    if (rtpError) expect(rtpError.code).toBe('RTP_PARSE');
    expect(depack.bufferedBytes).toBeLessThanOrEqual(2 * DEPACKETIZER_LIMITS.maxFrameBytes);
  }
}

/** Corpus files hold a run of packets, each prefixed by its 16-bit length (as RTSP interleaving frames them). */
function encodeRun(packets: readonly Buffer[]): Buffer {
  return Buffer.concat(packets.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p]));
}
function decodeRun(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 2 <= data.length; ) {
    const len = data.readUInt16BE(i);
    out.push(data.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

/** H.264 payloads a camera could send, and ones no camera should: single NAL, STAP-A (with lying sizes), FU-A (any start/end bits), reserved types. */
const payload = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 23 }), fc.uint8Array({ maxLength: 200 })).map(([t, b]) => Buffer.concat([Buffer.from([0x60 | t]), b])),
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.uint8Array({ minLength: 1, maxLength: 60 })), { maxLength: 5 })
    .map((units) => Buffer.concat([Buffer.from([0x60 | NalType.StapA]), ...units.flatMap(([size, b]) => [Buffer.from([size >> 8, size & 0xff]), b])])),
  fc
    .tuple(fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 31 }), fc.uint8Array({ maxLength: 300 }))
    .map(([start, end, t, b]) => Buffer.concat([Buffer.from([0x60 | NalType.FuA, (start ? 0x80 : 0) | (end ? 0x40 : 0) | t]), b])),
  fc.uint8Array({ maxLength: 50 }).map((b) => Buffer.from(b)),
);
const packet = fc
  .record({ marker: fc.boolean(), seq: fc.integer({ min: 0, max: 0xffff }), ts: fc.nat(), csrcs: fc.array(fc.nat(), { maxLength: 3 }), payload })
  .map((p) => serializeRtp({ marker: p.marker, payloadType: 96, sequenceNumber: p.seq, timestamp: p.ts >>> 0, ssrc: 1, csrcs: p.csrcs.map((c) => c >>> 0), payload: p.payload }));

describe('RTP header parser and H.264 depacketizer under fuzzing', () => {
  it('replays the kept crash corpus', () => {
    for (const { data } of corpus(corpusDir)) feed(decodeRun(data));
  });

  it('random bytes as RTP packets: only typed errors', () => {
    fuzz(fc.array(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), { maxLength: 20 }), feed, { runs: 2000, corpusDir, encode: encodeRun });
  });

  it('well-framed RTP with hostile H.264 payloads (lying STAP-A sizes, orphan FU-A fragments, reserved types): only typed errors, bounded units', () => {
    fuzz(fc.array(packet, { maxLength: 30 }), feed, { runs: 2000, corpusDir, encode: encodeRun });
  });

  it('an FU-A NAL unit that never ends is cut at the frame limit with a typed error, not grown forever', () => {
    const depack = new H264Depacketizer();
    const chunk = Buffer.alloc(60_000, 0xab);
    const fu = (start: boolean): Buffer => Buffer.concat([Buffer.from([0x60 | NalType.FuA, (start ? 0x80 : 0) | NalType.IdrSlice]), chunk]);
    let error: unknown;
    for (let i = 0; i < 200 && error === undefined; i++) {
      try {
        depack.push({ marker: false, payloadType: 96, sequenceNumber: i, timestamp: 0, ssrc: 1, csrcs: [], payload: fu(i === 0) });
      } catch (err) {
        error = err;
      }
      expect(depack.bufferedBytes).toBeLessThanOrEqual(DEPACKETIZER_LIMITS.maxFrameBytes);
    }
    expect(error).toBeInstanceOf(H264DepacketizeError);
  });
});
