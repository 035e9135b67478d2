import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  buildBye,
  buildHello,
  buildProbe,
  buildProbeMatches,
  buildResolveMatches,
  deviceScopes,
  MATCH_BY,
  parseDiscoveryRequest,
  probeMatchesDevice,
  scopeMatchesRfc3986,
  stableDeviceUuid,
  WSD_ACTION,
  WSD_NS,
  zeroHost,
  type DiscoverableDevice,
  type DiscoveryRequest,
} from '../../src/discovery/ws-discovery-message';

const device: DiscoverableDevice = {
  uuid: '5f0c2a4e-1111-4222-8333-444455556666',
  name: 'Tělocvična & <hala>',
  hardware: 'SC-200',
  school: 'ZŠ Karlovy Vary',
  xaddr: 'http://10.213.1.10:8080/onvif/device_service',
};
const seq = { appSequence: { instanceId: 1700000000, messageNumber: 7 } };

/** The Probe the `onvif` npm client (0.8) sends, verbatim apart from the id. */
const ONVIF_NPM_PROBE =
  '<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
  '<Header><wsa:MessageID xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:uuid:abc-123</wsa:MessageID>' +
  '<wsa:To xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>' +
  '<wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>' +
  '</Header><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Types>dn:NetworkVideoTransmitter</Types><Scopes /></Probe></Body></Envelope>';

/** ONVIF Device Manager / gSOAP style: prefixed everything, tds:Device with its own prefix name. */
const GSOAP_PROBE =
  '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">' +
  '<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action><a:MessageID>uuid:99-88</a:MessageID>' +
  '<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>' +
  '<s:Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:Types xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dp0="http://www.onvif.org/ver10/device/wsdl">dp0:Device</d:Types>' +
  '</Probe></s:Body></s:Envelope>';

function probe(xml: string): Extract<DiscoveryRequest, { kind: 'probe' }> {
  const r = parseDiscoveryRequest(xml);
  if (!r.ok || r.request.kind !== 'probe') throw new Error(`not a probe: ${JSON.stringify(r)}`);
  return r.request;
}

const reader = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, parseTagValue: false });
function read(xml: string): Record<string, Record<string, unknown>> {
  expect(XMLValidator.validate(xml)).toBe(true);
  return (reader.parse(xml) as { Envelope: Record<string, Record<string, unknown>> }).Envelope;
}

describe('parseDiscoveryRequest', () => {
  it('reads the onvif npm client Probe: MessageID, resolved type, no scopes', () => {
    const p = probe(ONVIF_NPM_PROBE);
    expect(p.messageId).toBe('urn:uuid:abc-123');
    expect(p.types).toEqual([{ ns: WSD_NS.dn, local: 'NetworkVideoTransmitter' }]);
    expect(p.scopes).toEqual([]);
    expect(p.matchBy).toBe(MATCH_BY.rfc3986);
    expect(probeMatchesDevice(p, device)).toBe(true);
  });

  it('resolves a type prefix declared on the Types element itself (tds:Device under another prefix)', () => {
    const p = probe(GSOAP_PROBE);
    expect(p.messageId).toBe('uuid:99-88');
    expect(p.types).toEqual([{ ns: WSD_NS.tds, local: 'Device' }]);
    expect(probeMatchesDevice(p, device)).toBe(true);
  });

  it('does not match a type from another namespace (Windows WSD wsdp:Device, printers)', () => {
    const xml = GSOAP_PROBE.replace('http://www.onvif.org/ver10/device/wsdl', 'http://schemas.xmlsoap.org/ws/2006/02/devprof');
    expect(probeMatchesDevice(probe(xml), device)).toBe(false);
    expect(probeMatchesDevice(probe(buildProbe({ messageId: 'm', types: 'dn:Printer' })), device)).toBe(false);
  });

  it('matches a Probe with no Types at all', () => {
    expect(probeMatchesDevice(probe(buildProbe({ messageId: 'm', types: '' })), device)).toBe(true);
  });

  it('reads Scopes with MatchBy and Resolve requests', () => {
    const p = probe(buildProbe({ messageId: 'm1', scopes: ['onvif://www.onvif.org/location/a', 'onvif://x/y'], matchBy: MATCH_BY.strcmp0 }));
    expect(p.scopes).toEqual(['onvif://www.onvif.org/location/a', 'onvif://x/y']);
    expect(p.matchBy).toBe(MATCH_BY.strcmp0);
    const resolve = buildProbe({ messageId: 'm2' }).replace(/<d:Probe>.*<\/d:Probe>/, '<d:Resolve><wsa:EndpointReference><wsa:Address>urn:uuid:x</wsa:Address></wsa:EndpointReference></d:Resolve>');
    expect(parseDiscoveryRequest(resolve)).toEqual({ ok: true, request: { kind: 'resolve', messageId: 'm2', address: 'urn:uuid:x' } });
  });

  it('ignores what is not a 2005/04 Probe: replies, Hello, WS-Discovery 1.1, no MessageID, DTDs, oversize', () => {
    const err = (xml: string | Uint8Array, limits = {}) => {
      const r = parseDiscoveryRequest(xml, limits);
      return r.ok ? 'ok' : r.error;
    };
    expect(err(buildProbeMatches(device, 'x', seq))).toBe('not-a-request');
    expect(err(buildHello(device, seq))).toBe('not-a-request');
    expect(err(ONVIF_NPM_PROBE.replace('http://schemas.xmlsoap.org/ws/2005/04/discovery"', 'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"'))).toBe('not-a-request');
    expect(err(ONVIF_NPM_PROBE.replace(/<wsa:MessageID[^]*?<\/wsa:MessageID>/, ''))).toBe('no-message-id');
    expect(err('<!DOCTYPE x [<!ENTITY a "aaaa">]>' + ONVIF_NPM_PROBE)).toBe('dtd');
    expect(err(Buffer.from(ONVIF_NPM_PROBE), { maxBytes: 100 })).toBe('too-large');
    expect(err(buildProbe({ messageId: 'm', scopes: Array.from({ length: 65 }, (_, i) => `s:${i}`) }))).toBe('too-many-items');
    expect(err('<Envelope><Body><__proto__/></Body></Envelope>')).not.toBe('ok');
    expect(err('not xml at all <')).toBe('malformed');
    // fast-xml-parser alone accepts unclosed elements; a truncated datagram must not be answered
    expect(err(ONVIF_NPM_PROBE.replace('</Envelope>', ''))).toBe('malformed');
    expect(err(Buffer.from(ONVIF_NPM_PROBE))).toBe('ok');
  });
});

describe('scope matching (WS-Discovery 2005/04 §5.1)', () => {
  const scopes = deviceScopes(device);

  it('announces name, hardware, location (URL-encoded), type and profile scopes', () => {
    expect(scopes).toEqual([
      'onvif://www.onvif.org/name/T%C4%9Blocvi%C4%8Dna%20%26%20%3Chala%3E',
      'onvif://www.onvif.org/hardware/SC-200',
      'onvif://www.onvif.org/location/Z%C5%A0%20Karlovy%20Vary',
      'onvif://www.onvif.org/type/video_encoder',
      'onvif://www.onvif.org/Profile/Streaming',
    ]);
  });

  it.each([
    ['onvif://www.onvif.org/location', true],
    ['onvif://www.onvif.org/location/', true],
    ['ONVIF://WWW.ONVIF.ORG/location/ZŠ Karlovy Vary', true], // unescaped before comparison; scheme/authority case-insensitive
    ['onvif://www.onvif.org/location/Z%C5%A0%20Karlovy%20Vary?x=1#frag', true],
    ['onvif://www.onvif.org/Location', false], // path segments are case-sensitive
    ['onvif://www.onvif.org/location/Z', false], // segment-wise, not string prefix
    ['onvif://www.onvif.org/location/../location', false],
    ['onvif://other.org/location', false],
    ['http://www.onvif.org/location', false],
  ])('rfc3986: %s matches the location scope → %s', (probeScope, expected) => {
    expect(scopeMatchesRfc3986(probeScope, scopes[2])).toBe(expected);
  });

  it('requires every probe scope to match some camera scope; strcmp0 is exact; unknown MatchBy never matches', () => {
    const p = (s: string[], matchBy?: string) => probe(buildProbe({ messageId: 'm', scopes: s, matchBy }));
    expect(probeMatchesDevice(p(['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/hardware/SC-200']), device)).toBe(true);
    expect(probeMatchesDevice(p(['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/hardware/OTHER']), device)).toBe(false);
    expect(probeMatchesDevice(p(['onvif://www.onvif.org/hardware/SC-200'], MATCH_BY.strcmp0), device)).toBe(true);
    expect(probeMatchesDevice(p(['onvif://www.onvif.org/hardware'], MATCH_BY.strcmp0), device)).toBe(false);
    expect(probeMatchesDevice(p(['onvif://www.onvif.org/hardware'], MATCH_BY.ldap), device)).toBe(false);
    expect(probeMatchesDevice(p(['onvif://www.onvif.org/hardware'], 'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/rfc3986'), device)).toBe(true);
  });
});

describe('reply building', () => {
  it('ProbeMatches: RelatesTo = the probe MessageID, one ProbeMatch with EPR, Types, Scopes, XAddrs, MetadataVersion', () => {
    const p = probe(ONVIF_NPM_PROBE);
    const env = read(buildProbeMatches({ ...device, metadataVersion: 3 }, p.messageId, seq));
    const header = env.Header;
    expect(header.RelatesTo).toBe('urn:uuid:abc-123');
    expect(header.Action).toBe(WSD_ACTION.probeMatches);
    expect(header.MessageID).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(header.AppSequence).toMatchObject({ '@_InstanceId': '1700000000', '@_MessageNumber': '7' });
    const match = (env.Body as { ProbeMatches: { ProbeMatch: Record<string, unknown> } }).ProbeMatches.ProbeMatch;
    expect(match).toEqual({
      EndpointReference: { Address: 'urn:uuid:5f0c2a4e-1111-4222-8333-444455556666' },
      Types: 'dn:NetworkVideoTransmitter tds:Device',
      Scopes: deviceScopes(device).join(' '),
      XAddrs: 'http://10.213.1.10:8080/onvif/device_service',
      MetadataVersion: '3',
    });
  });

  it('escapes a hostile RelatesTo and XAddrs so the reply stays well-formed', () => {
    const evil = 'urn:x"></wsa:RelatesTo><evil a=\'1\'>&amp;\u0001';
    const env = read(buildProbeMatches({ ...device, xaddr: 'http://h/<x>&"' }, evil, seq));
    expect((env.Header).RelatesTo).toBe('urn:x"></wsa:RelatesTo><evil a=\'1\'>&amp;');
    expect((env.Body as { ProbeMatches: { ProbeMatch: { XAddrs: string } } }).ProbeMatches.ProbeMatch.XAddrs).toBe('http://h/<x>&"');
  });

  it('zero-XAddrs fault puts 0.0.0.0 in place of the host, per responder or per camera', () => {
    expect(zeroHost('http://10.213.1.10:8080/onvif/device_service')).toBe('http://0.0.0.0:8080/onvif/device_service');
    expect(zeroHost('http://user@[fe80::1]/x')).toBe('http://user@0.0.0.0/x');
    expect(buildProbeMatches(device, 'm', { ...seq, zeroXAddrs: true })).toContain('<d:XAddrs>http://0.0.0.0:8080/onvif/device_service</d:XAddrs>');
    expect(buildHello({ ...device, zeroXAddrs: true }, seq)).toContain('<d:XAddrs>http://0.0.0.0:8080/onvif/device_service</d:XAddrs>');
  });

  it('Hello, Bye and ResolveMatches carry the camera endpoint and the right Action', () => {
    for (const [xml, action] of [
      [buildHello(device, seq), WSD_ACTION.hello],
      [buildBye(device, seq), WSD_ACTION.bye],
      [buildResolveMatches(device, 'r', seq), WSD_ACTION.resolveMatches],
    ] as const) {
      const env = read(xml);
      expect((env.Header).Action).toBe(action);
      expect(xml).toContain('<wsa:Address>urn:uuid:5f0c2a4e-1111-4222-8333-444455556666</wsa:Address>');
    }
  });

  it('stableDeviceUuid is a stable RFC 9562 v5-shaped UUID per seed', () => {
    expect(stableDeviceUuid('zs-sokolov-cam1')).toBe(stableDeviceUuid('zs-sokolov-cam1'));
    expect(stableDeviceUuid('zs-sokolov-cam1')).not.toBe(stableDeviceUuid('zs-sokolov-cam2'));
    expect(stableDeviceUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
