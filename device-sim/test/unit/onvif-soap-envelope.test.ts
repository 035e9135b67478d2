import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXml, parseSoapRequest, soapFaultXml, faults, text, child } from '../../src/onvif/soap-envelope';

const VALID =
  '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/>' +
  '<s:Body><trt:GetStreamUri xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><trt:StreamSetup><tt:Stream xmlns:tt="http://www.onvif.org/ver10/schema">RTP-Unicast</tt:Stream>' +
  '</trt:StreamSetup><trt:ProfileToken>main</trt:ProfileToken></trt:GetStreamUri></s:Body></s:Envelope>';

describe('parseSoapRequest', () => {
  it('finds the operation by local name whatever the prefixes', () => {
    const parsed = parseSoapRequest(VALID);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request.operation).toBe('GetStreamUri');
    expect(text(child(parsed.request.body, 'ProfileToken'))).toBe('main');
    const bare = parseSoapRequest('<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><GetProfiles xmlns="urn:x"/></Body></Envelope>');
    expect(bare.ok && bare.request.operation).toBe('GetProfiles');
  });

  it('answers malformed XML, a missing Body and an empty Body with a ter:WellFormed Sender fault', () => {
    for (const xml of ['<a><b></a>', '<Envelope/>', '<Envelope><Body/></Envelope>', '<Envelope><Body>  </Body></Envelope>']) {
      const parsed = parseSoapRequest(xml);
      expect(parsed).toEqual({ ok: false, fault: faults.wellFormed() });
    }
  });

  it('refuses a DOCTYPE instead of expanding entities', () => {
    expect(parseSoapRequest('<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><Envelope><Body><Op>&b;</Op></Body></Envelope>').ok).toBe(false);
  });

  it('does not echo the parser error (it can quote the whole input)', () => {
    const parsed = parseSoapRequest('<Envelope><Body><x>SECRET-INPUT</y></Body></Envelope>');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(soapFaultXml(parsed.fault)).not.toContain('SECRET-INPUT');
  });
});

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('round-trips through the parser (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }).filter((s) => s.trim() === s && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s) && !/[\ud800-\udfff]/.test(s)), (s) => {
        const parsed = parseSoapRequest(`<Envelope><Body><Op><V>${escapeXml(s)}</V></Op></Body></Envelope>`);
        expect(parsed.ok && text(child(parsed.request.body, 'V'))).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
});
