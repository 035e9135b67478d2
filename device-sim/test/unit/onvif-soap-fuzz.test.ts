import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corpus, fuzz } from '../../../protocol/test/support/fuzz';
import { handleDeviceOperation } from '../../src/onvif/device-service';
import { DEFAULT_EVENT_LIMITS, handleEventOperation, handleSubscriptionOperation, type EventServiceDeps } from '../../src/onvif/event-service';
import { handleMediaOperation } from '../../src/onvif/media-service';
import { PtzHead } from '../../src/onvif/ptz-head';
import { handlePtzOperation } from '../../src/onvif/ptz-service';
import { PullPointManager } from '../../src/onvif/pull-point-manager';
import type { OnvifCameraModel, ServiceContext } from '../../src/onvif/onvif-camera-model';
import { escapeXml, parseSoapRequest, soapFaultXml } from '../../src/onvif/soap-envelope';
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

/** Inputs that once broke (or could plausibly break) the parser, replayed on every run. */
const corpusDir = fileURLToPath(new URL('./fixtures/soap-corpus/', import.meta.url));
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('the simulator\'s SOAP request parser and operations under fuzzing', () => {
  it('replays the kept regression inputs without throwing', () => {
    const files = corpus(corpusDir);
    expect(files.length).toBeGreaterThan(10);
    for (const { data } of files) expect(() => process(data.toString('utf8'))).not.toThrow();
  });

  it('never throws on random strings (fuzz)', () => {
    fuzz(fc.string({ maxLength: 400, unit: 'binary' }), (s) => void process(s), { runs: 2000, corpusDir, encode: utf8 });
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
    fuzz(garble, (xml) => void process(xml), { runs: 3000, corpusDir, encode: utf8 });
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
    fuzz(tree, (xml) => void process(xml), { runs: 2000, corpusDir, encode: utf8 });
  });
});
