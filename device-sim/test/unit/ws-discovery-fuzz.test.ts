import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  buildProbe,
  buildProbeMatches,
  deviceScopes,
  parseDiscoveryRequest,
  probeMatchesDevice,
  scopeMatchesRfc3986,
  type DiscoverableDevice,
} from '../../src/discovery/ws-discovery-message';

const device: DiscoverableDevice = { uuid: 'u', name: 'n', hardware: 'h', school: 's', xaddr: 'http://10.0.0.1/onvif/device_service' };
const seq = { appSequence: { instanceId: 1, messageNumber: 1 } };

/** Inputs that broke (or could plausibly break) the parser; replayed on every run. */
const REGRESSIONS = [
  '',
  '<',
  '\u0000\u0000',
  '<Envelope><Body><__proto__/></Body></Envelope>',
  '<Envelope><Body><constructor xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"/></Body></Envelope>',
  '<Envelope><Header><MessageID>m</MessageID></Header><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>:</Types><Scopes>%</Scopes></Probe></Body></Envelope>',
  '<Envelope><Header><MessageID>m</MessageID></Header><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Scopes MatchBy="">a:%E0%A4%A</Scopes></Probe></Body></Envelope>',
  '<a:b:c xmlns:a="x"/>',
  '<Envelope>' + '<Body>'.repeat(5000) + '</Body>'.repeat(5000) + '</Envelope>',
  '<Envelope><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns="y"/></Body></Envelope>',
  '<?xml version="1.0"?><!-- c --><![CDATA[x]]>',
];

/** Camera names that once made a camera unmatchable by its own scopes (§5.1 bans `.` segments). */
const NAME_REGRESSIONS = ['.', '..', '', '/', '%'];

/** parse + match + build: the whole path a datagram takes through the responder. */
function handle(input: string | Uint8Array): void {
  const r = parseDiscoveryRequest(input);
  if (r.ok && r.request.kind === 'probe' && probeMatchesDevice(r.request, device)) {
    const reply = buildProbeMatches(device, r.request.messageId, seq);
    // whatever the probe carried, the reply is well-formed XML
    expect(XMLValidator.validate(reply)).toBe(true);
  }
}

describe('ws-discovery parser under fuzzing', () => {
  it('replays kept crash inputs without throwing', () => {
    for (const input of REGRESSIONS) expect(() => handle(input)).not.toThrow();
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => void handle(bytes)), { numRuns: 500 });
  });

  it('never throws on garbled valid probes (truncated, spliced, characters replaced)', () => {
    const base = buildProbe({ messageId: 'urn:uuid:1', scopes: ['onvif://www.onvif.org/location/s'] });
    const garbled = fc
      .tuple(fc.nat(base.length), fc.nat(base.length), fc.string({ maxLength: 40, unit: 'binary' }))
      .map(([a, b, s]) => base.slice(0, Math.min(a, b)) + s + base.slice(Math.max(a, b)));
    fc.assert(fc.property(garbled, (xml) => void handle(xml)), { numRuns: 1000 });
  });

  it('answers any MessageID and scope text with well-formed XML that echoes the MessageID', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }), fc.array(fc.webUrl(), { maxLength: 4 }), (id, scopes) => {
        const r = parseDiscoveryRequest(buildProbe({ messageId: id, scopes }));
        if (!r.ok) return; // e.g. an id of whitespace or XML-invalid characters only
        const reply = buildProbeMatches(device, r.request.messageId, seq);
        expect(XMLValidator.validate(reply)).toBe(true);
      }),
      { numRuns: 300 },
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
