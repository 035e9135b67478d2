import { describe, expect, it } from 'vitest';
import { checkResult, gradeCamera, type CameraFacts } from '../../src/check/grade';
import { checkLinkMessage } from '@schoolcam/protocol/link/link-messages';

const good: CameraFacts = {
  url: 'rtsp://10.0.0.5/main',
  codec: 'H264',
  profile: 'High',
  width: 1280,
  height: 720,
  fps: 15,
  gopSeconds: 1,
  bframes: false,
  bitrateKbps: 2500,
  audioCodec: 'PCMA',
  keyframeOnDemand: false,
  keyframesSeen: 3,
  sampledMs: 3000,
};
const codes = (f: Partial<CameraFacts>): string[] => gradeCamera({ ...good, ...f }).reasons.map((r) => r.code);

describe('grading a camera for live view', () => {
  it('an H.264 High 720p15 camera with a 1 s GOP and G.711 sound is ready, with no reasons', () => {
    expect(gradeCamera(good)).toEqual({ grade: 'ready', reasons: [] });
  });

  it('H.265, other codecs, B-frames and profiles browsers cannot decode are not supported', () => {
    for (const f of [{ codec: 'H265' }, { codec: 'JPEG' }, { codec: null }, { bframes: true }, { profile: 'High 4:4:4' }, { profile: 'High 10' }]) {
      expect(gradeCamera({ ...good, ...f }).grade, JSON.stringify(f)).toBe('not_supported');
    }
    expect(codes({ codec: 'H265' })).toEqual(['H265']);
    expect(gradeCamera({ ...good, codec: 'H265' }).reasons[0].en).toMatch(/H\.265.*switch.*H\.264/i);
    expect(gradeCamera({ ...good, codec: 'H265' }).reasons[0].cs).toMatch(/H\.265.*H\.264/);
  });

  it('a long GOP on a camera that cannot make key frames on demand works, with the reason and the fix', () => {
    const r = gradeCamera({ ...good, gopSeconds: 4 });
    expect(r.grade).toBe('works_with_reasons');
    expect(r.reasons.map((x) => x.code)).toEqual(['GOP_LONG']);
    expect(r.reasons[0].en).toMatch(/every 4 s.*wait up to 4 s.*1–2 s/);
    expect(r.reasons[0].cs).toMatch(/každých 4 s/);
    // With ONVIF key frames on demand a 4 s GOP costs nothing at start.
    expect(gradeCamera({ ...good, gopSeconds: 4, keyframeOnDemand: true }).grade).toBe('ready');
    expect(codes({ gopSeconds: 8, keyframeOnDemand: true })).toEqual(['GOP_LONG']);
  });

  it('flags jerky or wasteful frame rates, oversized or tiny pictures, high bitrates and AAC sound', () => {
    expect(codes({ fps: 3 })).toEqual(['FPS_LOW']);
    expect(codes({ fps: 60 })).toEqual(['FPS_HIGH']);
    expect(codes({ width: 3840, height: 2160 })).toEqual(['RESOLUTION_HIGH']);
    expect(codes({ width: 176, height: 144 })).toEqual(['RESOLUTION_LOW']);
    expect(codes({ bitrateKbps: 12_000 })).toEqual(['BITRATE_HIGH']);
    expect(codes({ audioCodec: 'AAC' })).toEqual(['AUDIO_AAC']);
    expect(gradeCamera({ ...good, fps: 60 }).grade).toBe('works_with_reasons');
  });

  it('no key frame seen: not supported for a plain RTSP camera, a reason for one that makes them on request', () => {
    expect(gradeCamera({ ...good, keyframesSeen: 0, gopSeconds: null }).grade).toBe('not_supported');
    expect(gradeCamera({ ...good, keyframesSeen: 0, gopSeconds: null, keyframeOnDemand: true }).grade).toBe('works_with_reasons');
  });

  it('lists blocking reasons first, and the result is exactly what the link carries', () => {
    const r = checkResult({ ...good, gopSeconds: 6, bframes: true });
    expect(r.reasons.map((x) => x.code)).toEqual(['BFRAMES', 'GOP_LONG']);
    expect(Object.keys(r)).toEqual(['codec', 'profile', 'width', 'height', 'fps', 'gopSeconds', 'bframes', 'bitrateKbps', 'audioCodec', 'keyframeOnDemand', 'grade', 'reasons', 'url']);
    expect(() => checkLinkMessage({ type: 'check.result', requestId: 'r1', result: r })).not.toThrow();
  });
});
