import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { payloadStartsKeyframe } from '../../src/h264/depacketizer';
import { H264Packetizer } from '../../src/h264/packetizer';
import { SyntheticH264Encoder } from '../../src/h264/encoder/synthetic-encoder';
import { SrtpReceiver, SrtpSender } from '../../src/srtp/srtp-context';
import { RtpStreamSender } from '../../src/webrtc/rtp-stream-sender';
import type { MediaPath } from '../../src/webrtc/werift-peer';

/** A media path that keeps the datagrams instead of sending them. */
function capture(): { path: MediaPath; sent: Buffer[]; keys: { key: Buffer; salt: Buffer } } {
  const keys = { key: randomBytes(16), salt: randomBytes(14) };
  const sent: Buffer[] = [];
  return { keys, sent, path: { srtp: new SrtpSender(keys.key, keys.salt), send: (d) => (sent.push(d), true) } };
}

describe('RtpStreamSender', () => {
  it('stamps its own SSRC, payload type, consecutive sequence numbers and offset timestamps, and asks for a playout delay', () => {
    const { path, sent, keys } = capture();
    const stream = new RtpStreamSender(path, { ssrc: 0xabcdef01, payloadType: 102, playoutDelayId: 6 }, { minMs: 0, maxMs: 150 });
    const payloads = [randomBytes(1200), randomBytes(300), randomBytes(50)];
    payloads.forEach((p, i) => stream.send(p, i === 2, 90_000));
    stream.send(randomBytes(10), true, 96_000);
    const rx = new SrtpReceiver(keys.key, keys.salt);
    const plain = sent.map((d) => rx.unprotect(d));
    const seq0 = plain[0].readUInt16BE(2);
    plain.forEach((p, i) => {
      expect(p[0]).toBe(0x90); // version 2 with a header extension
      expect(p[1] & 0x7f).toBe(102);
      expect(p.readUInt32BE(8)).toBe(0xabcdef01);
      expect(p.readUInt16BE(2)).toBe((seq0 + i) & 0xffff);
      // One-byte extension: id 6, 3 bytes: min 0, max 15 (× 10 ms).
      expect(p.subarray(12, 20).toString('hex')).toBe('bede00016200000f');
    });
    expect(plain.map((p) => (p[1] & 0x80) !== 0)).toEqual([false, false, true, true]);
    expect(plain[1].subarray(20).equals(payloads[1])).toBe(true);
    expect((plain[3].readUInt32BE(4) - plain[0].readUInt32BE(4)) >>> 0).toBe(6000);
  });

  it('resends a NACKed packet byte for byte, and ignores sequence numbers it no longer has', () => {
    const { path, sent } = capture();
    const stream = new RtpStreamSender(path, { ssrc: 1, payloadType: 96, playoutDelayId: undefined });
    for (let i = 0; i < 1100; i++) stream.send(randomBytes(100), false, i * 3000);
    const lastSeq = sent[1099].readUInt16BE(2);
    const firstSeq = sent[0].readUInt16BE(2);
    stream.resend([lastSeq, firstSeq]); // the first is beyond the 1024-packet history
    expect(sent).toHaveLength(1101);
    expect(sent[1100].equals(sent[1099])).toBe(true);
    expect({ sent: stream.sent, resent: stream.resent }).toEqual({ sent: 1101, resent: 1 });
  });
});

describe('payloadStartsKeyframe', () => {
  it('tells key frames from P frames by the first packet of each access unit the packetizer produces', () => {
    const enc = new SyntheticH264Encoder({ width: 1280, height: 720, fps: 15, gopSeconds: 0.4, name: 'k', bitrateKbps: 2500 });
    const packetizer = new H264Packetizer();
    for (let i = 0; i < 20; i++) {
      const frame = enc.encode(1_700_000_000_000 + i * 67);
      const payloads = packetizer.packetize(frame.nalus);
      expect(payloadStartsKeyframe(payloads[0])).toBe(frame.keyframe);
      if (!frame.keyframe) expect(payloads.some((p) => payloadStartsKeyframe(p))).toBe(false);
    }
  });

  it('sees an IDR in a STAP-A, a lone IDR and the first FU-A fragment of one', () => {
    expect(payloadStartsKeyframe(Buffer.from([0x65, 0x88]))).toBe(true);
    expect(payloadStartsKeyframe(Buffer.from([0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x02, 0x65, 0x88]))).toBe(true);
    expect(payloadStartsKeyframe(Buffer.from([0x7c, 0x85, 0x00]))).toBe(true);
    expect(payloadStartsKeyframe(Buffer.from([0x7c, 0x05, 0x00]))).toBe(false); // a middle fragment
    expect(payloadStartsKeyframe(Buffer.from([0x41, 0x9a]))).toBe(false);
    expect(payloadStartsKeyframe(Buffer.from([0x78, 0x00, 0x40]))).toBe(false); // truncated STAP-A
  });
});
