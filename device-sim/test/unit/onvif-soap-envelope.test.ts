import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleDeviceOperation } from '../../src/onvif/device-service';
import { DEFAULT_EVENT_LIMITS, handleEventOperation, handleSubscriptionOperation, type EventServiceDeps } from '../../src/onvif/event-service';
import { handleMediaOperation } from '../../src/onvif/media-service';
import { PtzHead } from '../../src/onvif/ptz-head';
import { handlePtzOperation } from '../../src/onvif/ptz-service';
import { PullPointManager } from '../../src/onvif/pull-point-manager';
import type { OnvifCameraModel, ServiceContext } from '../../src/onvif/onvif-camera-model';
import { escapeXml, parseSoapRequest, soapFaultXml, faults, text, child } from '../../src/onvif/soap-envelope';
import { UsernameTokenVerifier } from '../../src/onvif/ws-username-token';

const camera: OnvifCameraModel = {
  name: 'n', manufacturer: 'm', model: 'x', firmware: 'f', serial: 's', hardwareId: 'h', school: 'sc',
  username: 'u', password: 'p',
  profiles: [{ token: 'main', name: 'Main', width: 640, height: 360, fps: 25, encoding: 'H264', rtspUri: 'rtsp://a/b', snapshotUri: 'http://a/s' }],
  onSynchronizationPoint: () => {},
};
const ctx: ServiceContext = { camera, nowMs: Date.now(), host: '127.0.0.1', port: 80 };
const ptzCtx: ServiceContext = { ...ctx, camera: { ...camera, ptz: true } };
const head = new PtzHead();
// Timeouts of 0 so a fuzzed PullMessages never leaves a long-poll timer behind.
const pullPoints = new PullPointManager({ maxSubscriptions: 4 });
const eventDeps: EventServiceDeps = {
  pullPoints, limits: { ...DEFAULT_EVENT_LIMITS, maxPullTimeoutMs: 0 }, initialMessages: () => [], hostNowMs: Date.now,
};
const fixedSub = pullPoints.create(3_600_000, () => true);

const VALID =
  '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/>' +
  '<s:Body><trt:GetStreamUri xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><trt:StreamSetup><tt:Stream xmlns:tt="http://www.onvif.org/ver10/schema">RTP-Unicast</tt:Stream>' +
  '</trt:StreamSetup><trt:ProfileToken>main</trt:ProfileToken></trt:GetStreamUri></s:Body></s:Envelope>';

/** Inputs that once broke (or could plausibly break) the parser: replayed on every run. */
const REGRESSIONS = [
  '',
  'garbage',
  '<',
  '<s:Envelope>',
  '<Envelope><Body/></Envelope>',
  '<Envelope><Body>text only</Body></Envelope>',
  '<Envelope><Body><__proto__/></Body></Envelope>', // fast-xml-parser throws [SECURITY] on this name
  '<Envelope><Body><constructor/></Body></Envelope>',
  '<Envelope><Header><Security><UsernameToken><Password Type="x">1</Password></UsernameToken></Security></Header><Body><GetProfiles/></Body></Envelope>',
  '<Envelope><Body><GetProfiles/><GetProfiles/></Body></Envelope>',
  '<Envelope><Body>' + '<a>'.repeat(20_000) + '</a>'.repeat(20_000) + '</Body></Envelope>', // nesting limit
  '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><Envelope><Body><Op>&b;</Op></Body></Envelope>',
  '<Envelope><Body><GetStreamUri><ProfileToken><x/></ProfileToken></GetStreamUri></Body></Envelope>',
  '<Envelope><Body><GetCapabilities><Category>Media</Category><Category>PTZ</Category></GetCapabilities></Body></Envelope>',
  '<Envelope><Body><ContinuousMove><ProfileToken>main</ProfileToken><Velocity><PanTilt x="1e999" y="NaN"/><Zoom x=""/></Velocity><Timeout>PT99999999999H</Timeout></ContinuousMove></Body></Envelope>',
  '<Envelope><Body><SetPreset><ProfileToken>main</ProfileToken><PresetName><x/></PresetName><PresetToken>__proto__</PresetToken></SetPreset></Body></Envelope>',
  '<Envelope><Body><CreatePullPointSubscription><Filter><TopicExpression Dialect="http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete">||//.</TopicExpression></Filter><InitialTerminationTime>-P1D</InitialTerminationTime></CreatePullPointSubscription></Body></Envelope>',
  '<Envelope><Body><PullMessages><Timeout>PT1S</Timeout><MessageLimit>99999999999</MessageLimit></PullMessages></Body></Envelope>',
  '<Envelope><Body><Renew><TerminationTime>9999-12-31T23:59:59Z</TerminationTime></Renew></Body></Envelope>',
];

/** Parse, authenticate and dispatch like the server does; must never throw. */
function process(xml: string): 'ok' | 'fault' {
  const parsed = parseSoapRequest(xml);
  if (!parsed.ok) {
    expect(parsed.fault.code).toBe('env:Sender');
    expect(soapFaultXml(parsed.fault)).toContain('env:Sender');
    return 'fault';
  }
  expect(typeof parsed.request.operation).toBe('string');
  new UsernameTokenVerifier().verify(parsed.request.header, camera, ctx.nowMs);
  handleDeviceOperation(parsed.request, ctx);
  handleMediaOperation(parsed.request, ctx);
  handleDeviceOperation(parsed.request, ptzCtx);
  handleMediaOperation(parsed.request, ptzCtx);
  handlePtzOperation(parsed.request, ptzCtx, head);
  handleEventOperation(parsed.request, ctx, eventDeps);
  if (fixedSub !== undefined) void handleSubscriptionOperation(parsed.request, ctx, eventDeps, fixedSub.id, undefined);
  if (pullPoints.size >= 4) pullPoints.dropAll();
  return 'ok';
}

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
    expect(parseSoapRequest(REGRESSIONS[11] ?? '').ok).toBe(false);
  });

  it('does not echo the parser error (it can quote the whole input)', () => {
    const parsed = parseSoapRequest('<Envelope><Body><x>SECRET-INPUT</y></Body></Envelope>');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(soapFaultXml(parsed.fault)).not.toContain('SECRET-INPUT');
  });

  it('replays the kept regression inputs without throwing', () => {
    for (const xml of REGRESSIONS) expect(() => process(xml)).not.toThrow();
  });

  it('never throws on random strings (fuzz)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (s) => { process(s); }), { numRuns: 2000 });
  });

  it('never throws on garbled valid envelopes (fuzz: deletions, insertions, splices)', () => {
    const garble = fc
      .array(
        fc.record({
          at: fc.nat({ max: VALID.length }),
          len: fc.nat({ max: 20 }),
          insert: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('<', '>', '</', '/>', '&', '&amp;', '"', '<![CDATA[', ']]>', '<?', '<!--', 'xmlns:a="b"', '__proto__', '<Body>', '</Body>')),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((edits) => edits.reduce((xml, e) => xml.slice(0, e.at) + e.insert + xml.slice(e.at + e.len), VALID));
    fc.assert(fc.property(garble, (xml) => { process(xml); }), { numRuns: 3000 });
  });

  it('never throws on random element trees (fuzz)', () => {
    const name = fc.constantFrom('Envelope', 'Body', 'Header', 'Security', 'UsernameToken', 'Password', 'Nonce', 'Created', 'ProfileToken', 'StreamSetup', 'Category', 'GetStreamUri', 'GetProfiles', 'GetCapabilities', 'SetSynchronizationPoint', 'a', 's:Body', 'x:Envelope',
      'ContinuousMove', 'Velocity', 'PanTilt', 'Zoom', 'Timeout', 'SetPreset', 'PresetName', 'PresetToken', 'GotoPreset', 'AbsoluteMove', 'Position',
      'CreatePullPointSubscription', 'InitialTerminationTime', 'Filter', 'TopicExpression', 'PullMessages', 'MessageLimit', 'Renew', 'TerminationTime');
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 10 }).map(escapeXml),
        fc.tuple(name, fc.array(tie('tree'), { maxLength: 4 }), fc.boolean()).map(([n, kids, attr]) => `<${n}${attr ? ' Type="#PasswordDigest"' : ''}>${(kids as string[]).join('')}</${n}>`),
      ),
    }));
    fc.assert(fc.property(tree, (xml) => { process(xml); }), { numRuns: 2000 });
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
