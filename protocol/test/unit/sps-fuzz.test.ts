import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyntheticH264Encoder } from '../../src/h264/encoder/synthetic-encoder';
import { H264ParseError, parseSps } from '../../src/h264/sps';
import { fuzzRuns } from '../support/fuzz';

/** parseSps must return or throw H264ParseError; anything else (TypeError, RangeError, a hang) is a bug. */
function parsesOrRejects(input: Uint8Array): void {
  try {
    const info = parseSps(input);
    expect(info.width).toBeGreaterThan(0);
    expect(info.height).toBeGreaterThan(0);
    expect(info.profileLevelId).toMatch(/^[0-9a-f]{6}$/);
  } catch (e) {
    if (!(e instanceof H264ParseError)) throw e;
  }
}

// A real High profile SPS with VUI (libx264, 1920x1080, cropped from 1088), so mutations reach deep fields.
const X264_HIGH_SPS = Buffer.from('67640028acd940780227e5c044000003000400000300c83c60c658', 'hex');

describe('parseSps fuzzing', () => {
  it('random bytes: returns or throws H264ParseError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), fc.boolean(), (bytes, asSps) => {
        // Half the inputs get an SPS header so the parser gets past the first check.
        if (asSps && bytes.length > 0) bytes[0] = 0x67;
        parsesOrRejects(bytes);
      }),
      { numRuns: fuzzRuns(5000) },
    );
  });

  it('mutated real SPS (bit flips, truncation, profile swaps): never anything but H264ParseError', () => {
    const seeds = [
      X264_HIGH_SPS,
      new SyntheticH264Encoder({ width: 640, height: 360, fps: 15, gopSeconds: 1, name: 'f' }).sps,
      new SyntheticH264Encoder({ width: 1920, height: 1080, fps: 30, gopSeconds: 2, name: 'f' }).sps,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.nat(),
        fc.constantFrom(66, 77, 100, 110, 122, 244, 44),
        (seed, flips, cut, profile) => {
          const b = Uint8Array.from(seed);
          b[1] = profile;
          const bodyBits = (b.length - 4) * 8;
          for (const f of flips) {
            const bit = f % bodyBits;
            b[4 + (bit >> 3)] ^= 0x80 >> (bit & 7);
          }
          parsesOrRejects(b.subarray(0, 4 + (cut % b.length)));
        },
      ),
      { numRuns: fuzzRuns(5000) },
    );
  });

  it('a maximal-size input is rejected quickly', () => {
    const big = new Uint8Array(1024).fill(0);
    big[0] = 0x67;
    big[1] = 100;
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) parsesOrRejects(big);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
