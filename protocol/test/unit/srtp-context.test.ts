import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { SRTP_AUTH_TAG_BYTES, SrtpError, SrtpReceiver, SrtpSender, deriveSrtpKeys } from '../../src/srtp/srtp-context';

function rtpHeader(ssrc: number, seq: number, ts: number, marker = false): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | 96;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return h;
}

/** werift's SRTP session for the other end of a DTLS association with these master keys. */
function weriftPeer(local: { key: Buffer; salt: Buffer }, remote: { key: Buffer; salt: Buffer }): SrtpSession {
  return new SrtpSession({
    keys: { localMasterKey: local.key, localMasterSalt: local.salt, remoteMasterKey: remote.key, remoteMasterSalt: remote.salt },
    profile: ProtectionProfileAes128CmHmacSha1_80,
  });
}

describe('SRTP AES_CM_128_HMAC_SHA1_80', () => {
  it('derives the session keys of RFC 3711 Appendix B.3', () => {
    const k = deriveSrtpKeys(Buffer.from('E1F97A0D3E018BE0D64FA32C06DE4139', 'hex'), Buffer.from('0EC675AD498AFEEBB6960B3AABE6', 'hex'));
    expect(k.encKey.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(k.salt.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(k.authKey.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  it('packets it protects are accepted and decrypted by werift, across a sequence-number wrap', () => {
    const ours = { key: randomBytes(16), salt: randomBytes(14) };
    const theirs = { key: randomBytes(16), salt: randomBytes(14) };
    const sender = new SrtpSender(ours.key, ours.salt);
    const peer = weriftPeer(theirs, ours);
    const ssrc = 0x11223344;
    for (let i = 0; i < 40; i++) {
      const seq = (0xffec + i) & 0xffff; // wraps after 20 packets: the ROC must follow
      const payload = randomBytes(1 + ((i * 97) % 1200));
      const srtp = sender.protect(rtpHeader(ssrc, seq, 90_000 + i * 6000, i % 5 === 4), 12, payload);
      expect(srtp.length).toBe(12 + payload.length + SRTP_AUTH_TAG_BYTES);
      const rtp = RtpPacket.deSerialize(peer.decrypt(srtp));
      expect(rtp.header.sequenceNumber).toBe(seq);
      expect(rtp.header.ssrc).toBe(ssrc);
      expect(rtp.header.marker).toBe(i % 5 === 4);
      expect(rtp.payload.equals(payload)).toBe(true);
    }
  });

  it('decrypts what werift protects, and refuses a packet whose tag or body was changed', () => {
    const ours = { key: randomBytes(16), salt: randomBytes(14) };
    const theirs = { key: randomBytes(16), salt: randomBytes(14) };
    const peer = weriftPeer(theirs, ours);
    const receiver = new SrtpReceiver(theirs.key, theirs.salt);
    for (let i = 0; i < 30; i++) {
      const payload = randomBytes(200 + i * 30);
      const header = new RtpHeader({ sequenceNumber: (0xfff0 + i) & 0xffff, timestamp: i * 3000, ssrc: 42, payloadType: 96, marker: i % 3 === 0 });
      const srtp = peer.encrypt(payload, header);
      const plain = receiver.unprotect(srtp);
      expect(plain.subarray(12).equals(payload)).toBe(true);
      expect(plain.readUInt16BE(2)).toBe((0xfff0 + i) & 0xffff);
      if (i === 10) {
        const tampered = Buffer.from(srtp);
        tampered[20] ^= 1;
        expect(() => receiver.unprotect(tampered)).toThrow(SrtpError);
      }
    }
    expect(() => receiver.unprotect(Buffer.alloc(15))).toThrow(SrtpError);
  });

  it('a retransmission of a packet from before the wrap gets that packet’s rollover counter', () => {
    const keys = { key: randomBytes(16), salt: randomBytes(14) };
    const sender = new SrtpSender(keys.key, keys.salt);
    const receiver = new SrtpReceiver(keys.key, keys.salt);
    const payload = randomBytes(100);
    const first = sender.protect(rtpHeader(7, 0xfffe, 0), 12, payload);
    receiver.unprotect(first);
    receiver.unprotect(sender.protect(rtpHeader(7, 0xffff, 0), 12, payload));
    receiver.unprotect(sender.protect(rtpHeader(7, 0x0000, 0), 12, payload));
    receiver.unprotect(sender.protect(rtpHeader(7, 0x0001, 0), 12, payload));
    // NACKed 0xfffe is sent again after the wrap: same bytes as the first time.
    expect(sender.protect(rtpHeader(7, 0xfffe, 0), 12, payload).equals(first)).toBe(true);
  });

  it('round-trips any payload size and header', () => {
    const keys = { key: randomBytes(16), salt: randomBytes(14) };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1400 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), (payload, seq, ssrc) => {
        const sender = new SrtpSender(keys.key, keys.salt);
        const receiver = new SrtpReceiver(keys.key, keys.salt);
        const plain = Buffer.from(payload);
        const out = receiver.unprotect(sender.protect(rtpHeader(ssrc, seq, 1), 12, plain));
        expect(out.subarray(12).equals(plain)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
