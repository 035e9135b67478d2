import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getFmtp, getRtpmap, MAX_SDP_MEDIA, parseH264Fmtp, parseSdp, SdpParseError, serializeSdp } from '../../src/sdp/sdp';
import { corpus, fuzz, typedOrNone } from '../support/fuzz';

const corpusDir = fileURLToPath(new URL('./fixtures/sdp-corpus/', import.meta.url));

/** Everything the RTSP client does with a DESCRIBE body: parse, look up formats, read H.264 fmtp, re-serialize. */
function check(input: string): void {
  typedOrNone(SdpParseError, () => {
    const s = parseSdp(input);
    expect(s.media.length).toBeLessThanOrEqual(MAX_SDP_MEDIA);
    serializeSdp(s);
    for (const m of s.media) {
      for (const f of m.formats) {
        if (!/^\d+$/.test(f)) continue;
        const rtpmap = getRtpmap(m, Number(f));
        if (rtpmap) expect(rtpmap.clockRate).toBeGreaterThan(0);
        parseH264Fmtp(getFmtp(m, Number(f)) ?? '');
      }
    }
  });
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('SDP parser under fuzzing', () => {
  it('replays the kept corpus, throwing nothing but SdpParseError', () => {
    for (const { data } of corpus(corpusDir)) check(data.toString('utf8'));
  });

  it('SDP-shaped lines: nothing but SdpParseError', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.tuple(fc.constantFrom('v', 'o', 's', 'c', 't', 'm', 'a', 'b', 'z'), fc.string({ maxLength: 40 })).map(([t, v]) => `${t}=${v}`),
      fc.constantFrom(
        'm=video 0 RTP/AVP 96',
        'm=audio 0 RTP/AVP 0 8 97',
        'a=rtpmap:96 H264/90000',
        'a=rtpmap:96 H264/0',
        'a=rtpmap:97 mpeg4-generic/16000/1',
        'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LADZZUFB+wEQAAAwABAAADAB6PFCqg,aM48gA==',
        'a=fmtp:96 sprop-parameter-sets=,,,;profile-level-id=zz',
        'a=control:trackID=1',
        'a=group:FEC 0',
      ),
    );
    fuzz(fc.array(line, { maxLength: 30 }), (lines) => check(['v=0', ...lines].join('\r\n')), { runs: 2000, corpusDir, encode: (l) => utf8(['v=0', ...l].join('\r\n')) });
  });

  it('random text: nothing but SdpParseError', () => {
    fuzz(fc.string({ maxLength: 500 }), check, { runs: 2000, corpusDir, encode: utf8 });
  });
});
