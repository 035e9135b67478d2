import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  buildHello,
  buildProbe,
  buildProbeMatches,
  deviceScopes,
  parseDiscoveryReply,
  parseDiscoveryRequest,
  probeMatchesDevice,
  scopeMatchesRfc3986,
  scopeValue,
  type DiscoverableDevice,
} from '../../src/discovery/ws-discovery-message';
import { corpus, fuzz } from '../support/fuzz';

const corpusDir = fileURLToPath(new URL('./fixtures/discovery-corpus/', import.meta.url));
const device: DiscoverableDevice = { uuid: 'u', name: 'n', hardware: 'h', school: 's', xaddr: 'http://10.0.0.1/onvif/device_service' };
const seq = { appSequence: { instanceId: 1, messageNumber: 1 } };

/** Camera names that once made a camera unmatchable by its own scopes (§5.1 bans `.` segments). */
const NAME_REGRESSIONS = ['.', '..', '', '/', '%'];

/** parse + match + build: the whole path a datagram takes through the simulator's responder. */
function asTarget(input: string | Uint8Array): void {
  const r = parseDiscoveryRequest(input);
  if (r.ok && r.request.kind === 'probe' && probeMatchesDevice(r.request, device)) {
    // whatever the probe carried, the reply is well-formed XML
    expect(XMLValidator.validate(buildProbeMatches(device, r.request.messageId, seq))).toBe(true);
  }
}

/** parse + read scopes: the path a datagram takes through the gateway's discovery client. */
function asClient(input: string | Uint8Array): void {
  const r = parseDiscoveryReply(input);
  if (!r.ok) {
    expect(typeof r.error).toBe('string');
    return;
  }
  const matches = r.reply.kind === 'hello' ? [r.reply.match] : r.reply.kind === 'bye' ? [] : r.reply.matches;
  expect(matches.length).toBeLessThanOrEqual(16);
  for (const m of matches) {
    expect(m.endpoint.length).toBeGreaterThan(0);
    expect(m.xaddrs.length).toBeLessThanOrEqual(64);
    scopeValue(m.scopes, 'name');
  }
}

const both = (input: string | Uint8Array): void => {
  asTarget(input);
  asClient(input);
};
const bytes = (s: string | Uint8Array): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s));

/** Splices, truncates and overwrites a valid message: most results are almost-valid XML. */
function garbled(base: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat(base.length), fc.nat(base.length), fc.string({ maxLength: 40, unit: 'binary' }))
    .map(([a, b, s]) => base.slice(0, Math.min(a, b)) + s + base.slice(Math.max(a, b)));
}

describe('WS-Discovery parsers under fuzzing (Probe/Resolve on the camera side, ProbeMatches/Hello/Bye on the gateway side)', () => {
  it('replays kept crash inputs without throwing', () => {
    const files = corpus(corpusDir);
    expect(files.length).toBeGreaterThan(10);
    for (const { data } of files) expect(() => both(data.toString('utf8'))).not.toThrow();
  });

  it('never throws on random bytes', () => {
    fuzz(fc.uint8Array({ maxLength: 2048 }), both, { runs: 500, corpusDir, encode: bytes });
  });

  it('never throws on garbled valid probes', () => {
    const base = buildProbe({ messageId: 'urn:uuid:1', scopes: ['onvif://www.onvif.org/location/s'] });
    fuzz(garbled(base), both, { runs: 1000, corpusDir, encode: bytes });
  });

  it('never throws on garbled ProbeMatches and Hello', () => {
    const matches = buildProbeMatches({ ...device, name: 'Vchod & <hala>' }, 'urn:uuid:probe', seq);
    const hello = buildHello(device, seq);
    fuzz(fc.oneof(garbled(matches), garbled(hello)), both, { runs: 1000, corpusDir, encode: bytes });
  });

  it('reads back what a camera announced, whatever its name, hardware and school', () => {
    fuzz(
      fc.record({ name: fc.string({ maxLength: 60 }), hardware: fc.string({ maxLength: 30 }), school: fc.string({ maxLength: 30 }), relates: fc.string({ minLength: 1, maxLength: 80, unit: 'binary' }) }),
      ({ name, hardware, school, relates }) => {
        const cam = { ...device, name, hardware, school };
        const r = parseDiscoveryReply(buildProbeMatches(cam, relates, seq));
        if (!r.ok) return; // e.g. a RelatesTo of whitespace or XML-invalid characters only
        expect(r.reply.kind).toBe('probe-matches');
        if (r.reply.kind !== 'probe-matches') return;
        expect(r.reply.matches).toHaveLength(1);
        expect(r.reply.matches[0].xaddrs).toEqual([device.xaddr]);
        // Names lose only the characters XML cannot carry.
        const clean = (s: string): string => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/g, '');
        if (clean(name) === name && name.trim() === name && !/[\r\n\t]/.test(name)) expect(scopeValue(r.reply.matches[0].scopes, 'name')).toBe(name);
      },
      { runs: 300, corpusDir, encode: (x) => bytes(JSON.stringify(x)) },
    );
  });

  it('answers any MessageID and scope text with well-formed XML', () => {
    fuzz(
      fc.tuple(fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }), fc.array(fc.webUrl(), { maxLength: 4 })),
      ([id, scopes]) => {
        const r = parseDiscoveryRequest(buildProbe({ messageId: id, scopes }));
        if (!r.ok) return; // e.g. an id of whitespace or XML-invalid characters only
        expect(XMLValidator.validate(buildProbeMatches(device, r.request.messageId, seq))).toBe(true);
      },
      { runs: 300, corpusDir, encode: (x) => bytes(JSON.stringify(x)) },
    );
  });

  it('rfc3986 matching: every camera scope matches itself and each of its segment prefixes', () => {
    for (const name of NAME_REGRESSIONS) {
      for (const s of deviceScopes({ ...device, name })) expect(scopeMatchesRfc3986(s, s), s).toBe(true);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (name, hardware, school) => {
        for (const s of deviceScopes({ ...device, name, hardware, school })) {
          expect(scopeMatchesRfc3986(s, s)).toBe(true);
          const cut = s.lastIndexOf('/');
          expect(scopeMatchesRfc3986(s.slice(0, cut), s)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
