import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkMessageError, MAX_LINK_MESSAGE_BYTES, parseLinkMessage } from '../../src/link/link-messages';
import { corpus, fuzz, typedOrNone } from '../support/fuzz';

const corpusDir = fileURLToPath(new URL('./fixtures/link-corpus/', import.meta.url));
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Both ends run every frame through this: it returns a valid message or throws LinkMessageError, and what it returns re-encodes. */
function check(raw: string | Buffer): void {
  typedOrNone(LinkMessageError, () => {
    const m = parseLinkMessage(raw);
    expect(typeof m.type).toBe('string');
    expect(JSON.stringify(m).length).toBeLessThanOrEqual(MAX_LINK_MESSAGE_BYTES * 6);
  });
}

const TYPES = [
  'hello', 'camera.state', 'stream.offer', 'stream.ended', 'events', 'health', 'discover.result', 'check.result', 'camera.registered', 'camera.unregistered',
  'request.failed', 'welcome', 'stream.start', 'stream.answer', 'stream.stop', 'events.ack', 'discover', 'check', 'camera.register', 'camera.unregister',
  'snapshot', 'snapshot.result',
  'ping', 'pong', 'error', '__proto__', 'constructor',
];

describe('link message parser under fuzzing', () => {
  it('replays the kept corpus', () => {
    for (const { data } of corpus(corpusDir)) check(data);
  });

  it('random strings and JSON: only LinkMessageError', () => {
    fuzz(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), check, { runs: 1000, corpusDir, encode: utf8 });
  });

  it('objects shaped like every message type, with random fields: only LinkMessageError', () => {
    const field = fc.dictionary(
      fc.constantFrom('gatewayId', 'schoolId', 'cameras', 'camera', 'events', 'ids', 'requestId', 'devices', 'result', 'cameraId', 'streamId', 'sdp', 'url', 'code', 'message', 't', 'heartbeatMs', 'part', 'parts', 'data', 'profile', 'multicast', '__proto__'),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fuzz(
      fc.tuple(fc.constantFrom(...TYPES), field).map(([type, rest]) => JSON.stringify({ ...rest, type })),
      check,
      { runs: 1000, corpusDir, encode: utf8 },
    );
  });

  it('bytes that are not UTF-8, and frames over the size limit: only LinkMessageError', () => {
    fuzz(fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)), check, { runs: 500, corpusDir, encode: (b) => b });
    expect(() => parseLinkMessage(Buffer.alloc(MAX_LINK_MESSAGE_BYTES + 1, 0x20))).toThrow(LinkMessageError);
  });
});
