import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitReader, H264ParseError, unescapeRbsp } from '../../src/h264/bit-reader';
import { BitWriter, rbspToNal } from '../../src/h264/bit-writer';

type Op = { kind: 'u'; n: number; v: number } | { kind: 'ue'; v: number } | { kind: 'se'; v: number };

// Zeros are over-represented so emulation prevention (which only triggers on 00 00 0x) is exercised.
const uOp = fc.integer({ min: 0, max: 32 }).chain((n) =>
  fc
    .oneof(fc.constant(0), fc.constant(2 ** n - 1), fc.integer({ min: 0, max: 2 ** n - 1 }))
    .map((v): Op => ({ kind: 'u', n, v })),
);
const ueOp = fc
  .oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xfffffffe }))
  .map((v): Op => ({ kind: 'ue', v }));
const seOp = fc
  .oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -0x7fffffff, max: 0x7fffffff }))
  .map((v): Op => ({ kind: 'se', v }));
const ops = fc.array(fc.oneof({ arbitrary: uOp, weight: 3 }, ueOp, seOp), { maxLength: 60 });

function write(list: readonly Op[]): Uint8Array {
  const w = new BitWriter(4);
  for (const op of list) {
    if (op.kind === 'u') w.u(op.n, op.v);
    else if (op.kind === 'ue') w.ue(op.v);
    else w.se(op.v);
  }
  return w.trailingBits().toRbsp();
}

/** Index of the first forbidden 3-byte pattern in a NAL unit (§7.4.1), or -1. */
function forbiddenPattern(nal: Uint8Array): number {
  for (let i = 0; i + 2 < nal.length; i++) {
    if (nal[i] !== 0 || nal[i + 1] !== 0) continue;
    if (nal[i + 2] < 3) return i;
    // An escape must be followed by a byte that needed it (≤ 3) or end the unit.
    if (nal[i + 2] === 3 && i + 3 < nal.length && nal[i + 3] > 3) return i;
  }
  return -1;
}

describe('BitWriter / BitReader', () => {
  it('reads back any sequence of u(n), ue(v), se(v) written through a NAL unit', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const nal = rbspToNal(0x41, write(list));
        expect(forbiddenPattern(nal)).toBe(-1);
        const r = BitReader.fromNal(nal);
        expect(r.u(8)).toBe(0x41);
        for (const op of list) {
          if (op.kind === 'u') expect(r.u(op.n)).toBe(op.v);
          else if (op.kind === 'ue') expect(r.ue()).toBe(op.v);
          else expect(r.se()).toBe(op.v);
        }
        expect(r.moreRbspData()).toBe(false);
        expect(r.bit()).toBe(1); // rbsp_stop_one_bit
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes every 00 00 0x (x ≤ 3) in arbitrary RBSP bytes and unescapes to the same bytes', () => {
    const zeroHeavy = fc.uint8Array({ maxLength: 200 }).map((a) => a.map((b) => (b < 160 ? 0 : b & 3)));
    fc.assert(
      fc.property(fc.oneof(zeroHeavy, fc.uint8Array({ maxLength: 200 })), (rbsp) => {
        const nal = rbspToNal(0x65, rbsp);
        expect(forbiddenPattern(nal)).toBe(-1);
        expect(Array.from(unescapeRbsp(nal.subarray(1)))).toEqual(Array.from(rbsp));
      }),
      { numRuns: 2000 },
    );
  });

  it('rbspToNal inserts 0x03 exactly where §7.4.1 requires', () => {
    const nal = rbspToNal(0x67, new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0, 4, 0, 0]));
    expect(Array.from(nal)).toEqual([0x67, 0, 0, 3, 0, 0, 3, 0, 1, 0, 0, 4, 0, 0, 3]);
  });

  it('writes the Exp-Golomb codes of Table 9-2', () => {
    const w = new BitWriter();
    w.ue(0).ue(1).ue(2).ue(3).ue(7).se(1).se(-1).se(2).trailingBits();
    const bits = Array.from(w.toRbsp(), (b) => b.toString(2).padStart(8, '0')).join('');
    const codes = ['1', '010', '011', '00100', '0001000', '010', '011', '00100'];
    expect(bits).toBe(codes.join('') + '1' + '0'); // stop bit, then one alignment zero
  });

  it('BitReader throws H264ParseError instead of reading past the end', () => {
    const r = new BitReader(new Uint8Array([0xff]));
    expect(r.u(5)).toBe(31);
    expect(() => r.u(4)).toThrow(H264ParseError);
    expect(() => new BitReader(new Uint8Array([0, 0, 0, 0, 0])).ue()).toThrow(H264ParseError);
    expect(() => new BitReader(new Uint8Array([0x01])).ue()).toThrow(/past end/);
    expect(() => new BitReader(new Uint8Array(0)).bit()).toThrow(H264ParseError);
  });

  it('BitWriter rejects values that do not fit the syntax element', () => {
    const w = new BitWriter();
    expect(() => w.u(3, 8)).toThrow(RangeError);
    expect(() => w.u(33, 0)).toThrow(RangeError);
    expect(() => w.ue(-1)).toThrow(RangeError);
    expect(() => w.ue(2 ** 32 - 1)).toThrow(RangeError);
    expect(() => w.u(1, 1).toRbsp()).toThrow(/byte-aligned/);
  });
});
