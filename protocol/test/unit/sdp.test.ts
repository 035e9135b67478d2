import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildH264Sdp,
  getAttribute,
  getFmtp,
  getRtpmap,
  h264MediaSection,
  MAX_SDP_BYTES,
  parseH264Fmtp,
  parseSdp,
  SdpParseError,
  serializeSdp,
  type SdpSession,
} from '../../src/sdp/sdp';

const corpusDir = fileURLToPath(new URL('./fixtures/sdp-corpus/', import.meta.url));

// Baseline 320x240 SPS/PPS as x264 writes them (profile_idc 66, constraint 0xc0, level 13).
const SPS = Buffer.from('Z0LADZZUFB+wEQAAAwABAAADAB6PFCqg', 'base64');
const PPS = Buffer.from('aM48gA==', 'base64');

/** A DESCRIBE body as a Hikvision-style camera sends it (LF-only ends, session-level control). */
const CAMERA_SDP = [
  'v=0',
  'o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64',
  's=Media Presentation',
  'e=NONE',
  'b=AS:5050',
  't=0 0',
  'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:5000',
  'a=recvonly',
  'a=x-dimensions:1920,1080',
  'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z01AKI2NQDwBE/LCAAAOEAACvyAI,aO44gA==',
  'm=audio 0 RTP/AVP 8',
  'a=rtpmap:8 PCMA/8000',
  'a=control:trackID=2',
  '',
].join('\n');

describe('parseSdp', () => {
  it('reads a camera SDP with media sections, rtpmap, fmtp and controls', () => {
    const s = parseSdp(CAMERA_SDP);
    expect(s.origin.address).toBe('192.168.1.64');
    expect(s.sessionName).toBe('Media Presentation');
    expect(s.bandwidths).toEqual(['AS:5050']);
    expect(s.otherLines).toEqual([{ type: 'e', value: 'NONE' }]);
    expect(s.media).toHaveLength(2);
    const [video, audio] = s.media as [SdpSession['media'][0], SdpSession['media'][0]];
    expect(video).toMatchObject({ type: 'video', port: 0, protocol: 'RTP/AVP', formats: ['96'], connection: 'IN IP4 0.0.0.0' });
    expect(getRtpmap(video, 96)).toEqual({ payloadType: 96, encodingName: 'H264', clockRate: 90000 });
    expect(getAttribute(video.attributes, 'recvonly')).toBeUndefined();
    expect(video.attributes.some((a) => a.name === 'recvonly')).toBe(true);
    expect(getAttribute(audio.attributes, 'control')).toBe('trackID=2');
    const fmtp = parseH264Fmtp(getFmtp(video, 96)!);
    expect(fmtp.packetizationMode).toBe(1);
    expect(fmtp.profileLevelId).toBe('420029');
    expect(fmtp.spropParameterSets.map((b) => b[0] & 0x1f)).toEqual([7, 8]);
  });

  it('round-trips: parse(serialize(parse(x))) equals parse(x)', () => {
    const once = parseSdp(CAMERA_SDP);
    const text = serializeSdp(once);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(parseSdp(text)).toEqual(once);
  });

  it('round-trips generated sessions (property)', () => {
    const tok = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    const text = fc.stringMatching(/^[ -~]{0,30}$/).map((s) => s.trim());
    const attr = fc.record({ name: tok, value: fc.option(text, { nil: undefined }) }, { requiredKeys: ['name'] });
    const media = fc.record({
      type: fc.constantFrom('video', 'audio', 'application'),
      port: fc.integer({ min: 0, max: 65535 }),
      protocol: fc.constantFrom('RTP/AVP', 'RTP/AVPF'),
      formats: fc.array(fc.integer({ min: 0, max: 127 }).map(String), { minLength: 1, maxLength: 4 }),
      bandwidths: fc.array(tok.map((t) => `AS:${t}`), { maxLength: 2 }),
      attributes: fc.array(attr, { maxLength: 6 }),
      otherLines: fc.constant<SdpSession['otherLines']>([]),
    });
    fc.assert(
      fc.property(tok, fc.array(attr, { maxLength: 5 }), fc.array(media, { maxLength: 4 }), (name, attributes, mediaSections) => {
        const s: SdpSession = {
          version: 0,
          origin: { username: '-', sessionId: '1', sessionVersion: '2', netType: 'IN', addrType: 'IP4', address: '10.0.0.1' },
          sessionName: name,
          bandwidths: [],
          timing: ['0 0'],
          attributes: attributes.map((a) => (a.value === undefined ? { name: a.name } : { name: a.name, value: a.value })),
          otherLines: [],
          media: mediaSections.map((m) => ({ ...m, otherLines: [], attributes: m.attributes.map((a) => (a.value === undefined ? { name: a.name } : { name: a.name, value: a.value })) })),
        };
        expect(parseSdp(serializeSdp(s))).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['no-version.sdp', 'SDP_BAD_VERSION'],
    ['bad-port.sdp', 'SDP_BAD_MEDIA'],
    ['empty-lines-only.sdp', 'SDP_BAD_VERSION'],
  ])('rejects %s with %s', (file, code) => {
    const err = (() => {
      try {
        parseSdp(readFileSync(`${corpusDir}/${file}`, 'utf8'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SdpParseError);
    expect((err as SdpParseError).code).toBe(code);
  });

  it('rejects oversized input and malformed lines with typed errors', () => {
    expect(() => parseSdp(`v=0\r\n${'a=x\r\n'.repeat(MAX_SDP_BYTES / 4)}`)).toThrow(SdpParseError);
    expect(() => parseSdp('v=0\r\nthis is not sdp\r\n')).toThrow(expect.objectContaining({ code: 'SDP_BAD_LINE' }));
  });

  it('ignores an rtpmap with clock rate 0 instead of dividing by it later', () => {
    const s = parseSdp(readFileSync(`${corpusDir}/rtpmap-zero-clock.sdp`, 'utf8'));
    expect(getRtpmap(s.media[0], 96)).toBeUndefined();
  });
});

describe('parseH264Fmtp', () => {
  it('decodes SPS and PPS and accepts a leading payload type', () => {
    const f = parseH264Fmtp(`96 packetization-mode=1;profile-level-id=42C00D;sprop-parameter-sets=${SPS.toString('base64')},${PPS.toString('base64')}`);
    expect(f.packetizationMode).toBe(1);
    expect(f.profileLevelId).toBe('42c00d');
    expect(f.spropParameterSets[0].equals(SPS)).toBe(true);
    expect(f.spropParameterSets[1].equals(PPS)).toBe(true);
  });

  it('defaults packetization-mode to 0 (RFC 6184 §8.1)', () => {
    expect(parseH264Fmtp('')).toEqual({ packetizationMode: 0, spropParameterSets: [] });
  });

  it.each(['packetization-mode=7', 'profile-level-id=xyz', 'sprop-parameter-sets=!!!,@@'])('rejects %j with SDP_BAD_FMTP', (v) => {
    expect(() => parseH264Fmtp(v)).toThrow(expect.objectContaining({ code: 'SDP_BAD_FMTP' }));
  });
});

describe('buildH264Sdp', () => {
  it('produces a single-track SDP that parses back with the right rtpmap, fmtp and control', () => {
    const text = buildH264Sdp({ sps: SPS, pps: PPS, sessionName: 'cam1' });
    expect(text).toContain('a=rtpmap:96 H264/90000\r\n');
    expect(text).toContain('a=control:trackID=0\r\n');
    const s = parseSdp(text);
    expect(s.sessionName).toBe('cam1');
    const m = s.media[0];
    expect(m.formats).toEqual(['96']);
    const fmtp = parseH264Fmtp(getFmtp(m, 96)!);
    expect(fmtp).toEqual({ packetizationMode: 1, profileLevelId: '42c00d', spropParameterSets: [SPS, PPS] });
  });

  it('refuses NAL units that are not SPS/PPS', () => {
    expect(() => h264MediaSection({ sps: PPS, pps: PPS })).toThrow(RangeError);
  });
});
