import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H264Packetizer } from '../../src/h264/packetizer';
import { H264Depacketizer } from '../../src/h264/depacketizer';
import { NalType, nalType } from '../../src/h264/nal';
import { RtpSequencer } from '../../src/rtp/rtp-sequencer';
import { parseRtp, serializeRtp } from '../../src/rtp/rtp-packet';

const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80]);
const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const nal = (type: number, size: number, seed = 1): Buffer => {
  const b = Buffer.alloc(size);
  b[0] = 0x60 | type;
  for (let i = 1; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

describe('H264Packetizer + H264Depacketizer', () => {
  it('round-trips access units of any NAL sizes through RTP', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 2, max: 5000 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 100, max: 1400 }),
        (frames, maxPayload) => {
          const packetizer = new H264Packetizer({ maxPayload });
          const seq = new RtpSequencer(96);
          const depack = new H264Depacketizer();
          const got: Buffer[][] = [];
          const sent = frames.map((sizes, f) => sizes.map((s, i) => nal(NalType.NonIdrSlice, s, f * 10 + i)));
          sent.forEach((nalus, f) => {
            const payloads = packetizer.packetize(nalus);
            for (const p of payloads) expect(p.length).toBeLessThanOrEqual(maxPayload);
            for (const pkt of seq.packets(payloads, f * 6000)) {
              for (const au of depack.push(parseRtp(pkt))) got.push(au.nalus);
            }
          });
          expect(got).toEqual(sent);
          expect(depack.lost).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('puts SPS and PPS in-band before every IDR that lacks them', () => {
    const packetizer = new H264Packetizer();
    packetizer.setParameterSets(sps, pps);
    const depack = new H264Depacketizer();
    const seq = new RtpSequencer(96);
    const aus = [];
    for (const pkt of seq.packets(packetizer.packetize([nal(NalType.IdrSlice, 3000)]), 0)) aus.push(...depack.push(parseRtp(pkt)));
    expect(aus).toHaveLength(1);
    expect(aus[0].nalus.map(nalType)).toEqual([NalType.Sps, NalType.Pps, NalType.IdrSlice]);
    expect(aus[0].keyframe).toBe(true);
  });

  it('keeps the SPS before the PPS when only the PPS is missing in-band', () => {
    const packetizer = new H264Packetizer();
    packetizer.setParameterSets(sps, pps);
    const depack = new H264Depacketizer();
    const units = new RtpSequencer(96).packets(packetizer.packetize([sps, nal(NalType.IdrSlice, 3000)]), 0).flatMap((p) => depack.push(parseRtp(p)));
    expect(units[0].nalus.map(nalType)).toEqual([NalType.Sps, NalType.Pps, NalType.IdrSlice]);
  });

  it('drops access unit delimiters and learns parameter sets from the stream', () => {
    const packetizer = new H264Packetizer();
    const first = packetizer.packetize([Buffer.from([0x09, 0xf0]), sps, pps, nal(NalType.IdrSlice, 50)]);
    expect(first).toHaveLength(1); // one STAP-A
    expect(first[0][0] & 0x1f).toBe(NalType.StapA);
    const later = packetizer.packetize([nal(NalType.IdrSlice, 50)]);
    const depack = new H264Depacketizer();
    const aus = new RtpSequencer(96).packets(later, 0).flatMap((p) => depack.push(parseRtp(p)));
    expect(aus[0].nalus.map(nalType)).toEqual([NalType.Sps, NalType.Pps, NalType.IdrSlice]);
  });

  it('closes an access unit on a timestamp change when the camera never sets the marker', () => {
    const depack = new H264Depacketizer();
    const mk = (seqNo: number, ts: number) => ({ marker: false, payloadType: 96, sequenceNumber: seqNo, timestamp: ts, ssrc: 1, csrcs: [], payload: nal(1, 10) });
    expect(depack.push(mk(1, 100))).toHaveLength(0);
    const done = depack.push(mk(2, 200));
    expect(done).toHaveLength(1);
    expect(done[0].timestamp).toBe(100);
  });

  it('counts lost packets and drops the NAL unit whose fragment was lost', () => {
    const packetizer = new H264Packetizer({ maxPayload: 500 });
    const pkts = new RtpSequencer(96).packets(packetizer.packetize([nal(1, 2000), nal(1, 100)]), 0);
    pkts.splice(1, 1);
    const depack = new H264Depacketizer();
    const aus = pkts.flatMap((p) => depack.push(parseRtp(p)));
    expect(depack.lost).toBe(1);
    expect(aus).toHaveLength(1);
    expect(aus[0].nalus.map((n) => n.length)).toEqual([100]);
  });
});

describe('RTP packet', () => {
  it('round-trips headers', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 0xffff }), fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 1400 }), (marker, pt, seq, ts, ssrc, payload) => {
        const p = { marker, payloadType: pt, sequenceNumber: seq, timestamp: ts >>> 0, ssrc: ssrc >>> 0, csrcs: [], payload: Buffer.from(payload) };
        expect(parseRtp(serializeRtp(p))).toEqual(p);
      }),
    );
  });
});
