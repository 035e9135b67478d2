import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { linerase, parseSOAPString } from 'onvif/lib/utils';
import { describe, expect, it } from 'vitest';
import { pinStreamUri, readProfile, readPullResponse } from '../../src/onvif/onvif-client';
import { corpus, fuzz } from '../../../protocol/test/support/fuzz';

const corpusDir = fileURLToPath(new URL('./fixtures/onvif-reply-corpus/', import.meta.url));
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A PullMessagesResponse as cameras send it: MotionAlarm and the cell motion detector in one reply. */
const PULL_REPLY =
  '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" ' +
  'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics"><env:Body>' +
  '<tev:PullMessagesResponse><tev:CurrentTime>2026-01-09T10:00:01Z</tev:CurrentTime><tev:TerminationTime>2026-01-09T10:02:01Z</tev:TerminationTime>' +
  '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:VideoSource/MotionAlarm</wsnt:Topic>' +
  '<wsnt:Message><tt:Message UtcTime="2026-01-09T10:00:00Z" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="Source" Value="vs0"/></tt:Source>' +
  '<tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
  '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>' +
  '<wsnt:Message><tt:Message UtcTime="2026-01-09T10:00:00Z" PropertyOperation="Initialized"><tt:Source><tt:SimpleItem Name="Rule" Value="r"/></tt:Source>' +
  '<tt:Data><tt:SimpleItem Name="IsMotion" Value="false"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
  '<wsnt:NotificationMessage><wsnt:Topic>tns1:VideoSource/GlobalSceneChange/ImagingService</wsnt:Topic>' +
  '<wsnt:Message><tt:Message UtcTime="2026-01-09T10:00:00Z"><tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
  '</tev:PullMessagesResponse></env:Body></env:Envelope>';

/**
 * What the adapter does with a camera's reply: the `onvif` library parses it (xml2js, then
 * `linerase`), then our readers take what they need. The library may hand over an error or any
 * shape; our readers must never throw and must return bounded, typed values.
 */
function read(xml: string): void {
  let body: unknown;
  let calls = 0;
  parseSOAPString(
    xml,
    (err, parsed) => {
      calls++;
      if (!err) body = parsed;
    },
    200,
  );
  expect(calls).toBeGreaterThanOrEqual(1);
  if (body === undefined) return;
  const data = linerase(body);
  for (const n of readPullResponse(data)) {
    expect(['motion', 'tamper', 'other']).toContain(n.kind);
    expect(n.topic.length).toBeLessThanOrEqual(256);
    expect([true, false, undefined]).toContain(n.active);
  }
  const profiles = (data as { getProfilesResponse?: { profiles?: unknown } } | undefined)?.getProfilesResponse?.profiles;
  for (const p of Array.isArray(profiles) ? profiles : [profiles]) {
    const r = readProfile(p);
    if (r) {
      expect(r.width).toBeGreaterThan(0);
      expect(r.width).toBeLessThanOrEqual(16384);
    }
  }
}

function parsed(xml: string): unknown {
  let body: unknown;
  parseSOAPString(xml, (err, b) => void (err ? undefined : (body = b)), 200);
  return linerase(body);
}

describe('what the ONVIF adapter reads from camera replies', () => {
  it('reads motion, tamper, Initialized and the camera’s time from a PullMessagesResponse', () => {
    expect(readPullResponse(parsed(PULL_REPLY))).toEqual([
      { kind: 'motion', topic: 'VideoSource/MotionAlarm', active: true, initialized: false, utcTime: '2026-01-09T10:00:00.000Z' },
      { kind: 'motion', topic: 'RuleEngine/CellMotionDetector/Motion', active: false, initialized: true, utcTime: '2026-01-09T10:00:00.000Z' },
      { kind: 'tamper', topic: 'VideoSource/GlobalSceneChange/ImagingService', active: true, initialized: false, utcTime: '2026-01-09T10:00:00.000Z' },
    ]);
    expect(readPullResponse(undefined)).toEqual([]);
    expect(readPullResponse({ pullMessagesResponse: { notificationMessage: 'garbage' } })).toEqual([]);
  });

  it('pins stream URIs to the device host, drops credentials, and refuses other schemes or control characters', () => {
    expect(pinStreamUri('rtsp://admin:pw@192.168.99.1:554/Streaming/101', '10.0.0.7')).toBe('rtsp://10.0.0.7:554/Streaming/101');
    expect(pinStreamUri('rtsp://evil.example.com/stream', '10.0.0.7')).toBe('rtsp://10.0.0.7/stream');
    expect(pinStreamUri('rtsp://10.0.0.7/a', 'fe80::1')).toBe('rtsp://[fe80::1]/a');
    for (const bad of ['http://10.0.0.7/x', 'exec:rm -rf /', 'rtsp://10.0.0.7/a b', 'rtsp://10.0.0.7/\u0000', undefined, `rtsp://h/${'x'.repeat(3000)}`]) {
      expect(pinStreamUri(bad, '10.0.0.7'), String(bad)).toBeUndefined();
    }
  });
});

describe('ONVIF replies under fuzzing (the library’s parser, then the adapter’s readers)', () => {
  it('replays the kept corpus', () => {
    for (const { data } of corpus(corpusDir)) read(data.toString('utf8'));
  });

  it('random text: no throw', () => {
    fuzz(fc.string({ maxLength: 400, unit: 'binary' }), read, { runs: 300, corpusDir, encode: utf8 });
  });

  it('garbled PullMessagesResponses (truncated, spliced, values replaced): no throw, bounded results', () => {
    const garble = fc
      .array(
        fc.record({
          at: fc.nat({ max: PULL_REPLY.length }),
          len: fc.nat({ max: 30 }),
          insert: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('<', '>', '</', '/>', '&amp;', '__proto__', 'constructor', 'Value="1"', 'Name="State"', '<![CDATA[x]]>', 'true', '1e400')),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((edits) => edits.reduce((xml, e) => xml.slice(0, e.at) + e.insert + xml.slice(e.at + e.len), PULL_REPLY));
    fuzz(garble, read, { runs: 500, corpusDir, encode: utf8 });
  });
});
