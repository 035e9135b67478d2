import { type Cipher, createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SRTP (RFC 3711) for the AES_CM_128_HMAC_SHA1_80 profile (RFC 5764 §4.1.2), built for a
 * sender that protects the same payload for many receivers:
 *
 * - one AES-128-ECB context per session, kept for the session's life: AES counter mode is
 *   E(IV + j) XOR plaintext, so the keystream of a packet is the ECB encryption of its
 *   counter blocks. Node's `createCipheriv('aes-128-ctr', key, iv)` would need a fresh
 *   context per packet (the IV changes), which costs more than the encryption itself;
 * - the counter blocks live in a buffer prepared once: only the 16 bits of the sequence
 *   number (and, rarely, the rollover counter) change from one packet to the next;
 * - the payload is copied once, into the datagram, and encrypted there.
 *
 * HMAC-SHA1 still takes one `createHmac` per packet: Node has no way to reuse a keyed context.
 */

/** Bytes of the authentication tag (HMAC-SHA1 truncated to 80 bits). */
export const SRTP_AUTH_TAG_BYTES = 10;
/** Master key and salt sizes of AES_CM_128_HMAC_SHA1_80 (RFC 3711 §8.2). */
export const SRTP_MASTER_KEY_BYTES = 16;
export const SRTP_MASTER_SALT_BYTES = 14;
/** Largest RTP payload (bytes) a context encrypts; WebRTC stays far below (≈1200). */
export const SRTP_MAX_PAYLOAD = 1504;

const BLOCKS = SRTP_MAX_PAYLOAD / 16;

export class SrtpError extends Error {
  readonly code = 'SRTP';
}

/** Session keys of one direction, derived from the master key and salt (RFC 3711 §4.3.1, kdr 0). */
export interface SrtpSessionKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

/** The key derivation of RFC 3711 §4.3.1 (AES-CM PRF) with key_derivation_rate 0. Labels 0–2 are SRTP's, 3–5 SRTCP's. */
export function deriveSrtpKeys(masterKey: Buffer, masterSalt: Buffer, rtcp = false): SrtpSessionKeys {
  if (masterKey.length !== SRTP_MASTER_KEY_BYTES) throw new SrtpError(`master key of ${masterKey.length} bytes, want ${SRTP_MASTER_KEY_BYTES}`);
  if (masterSalt.length !== SRTP_MASTER_SALT_BYTES) throw new SrtpError(`master salt of ${masterSalt.length} bytes, want ${SRTP_MASTER_SALT_BYTES}`);
  const base = rtcp ? 3 : 0;
  const prf = (label: number, bytes: number): Buffer => {
    // x = key_id XOR master_salt, key_id = label || index DIV kdr (48 zero bits): the label
    // lands 7 bytes from the salt's end; the AES-CM input is x · 2^16.
    const iv = Buffer.alloc(16);
    masterSalt.copy(iv);
    iv[7] ^= label;
    const blocks = Math.ceil(bytes / 16);
    const input = Buffer.alloc(blocks * 16);
    for (let j = 0; j < blocks; j++) {
      iv.copy(input, j * 16);
      input.writeUInt16BE(j, j * 16 + 14);
    }
    const ecb = createCipheriv('aes-128-ecb', masterKey, null).setAutoPadding(false);
    return Buffer.concat([ecb.update(input), ecb.final()]).subarray(0, bytes);
  };
  return { encKey: prf(base, 16), authKey: prf(base + 1, 20), salt: prf(base + 2, 14) };
}

/**
 * Keystream generator of one SRTP session direction: AES-CM with a long-lived ECB context
 * and counter blocks that are rewritten in place.
 */
class CounterMode {
  private readonly ecb: Cipher;
  /** BLOCKS counter blocks; bytes 0–7 and 14–15 are set per SSRC/once, 8–13 per packet. */
  private readonly blocks = Buffer.alloc(BLOCKS * 16);
  private ssrc = -1;
  private roc = -1;
  private seq = -1;

  constructor(
    encKey: Buffer,
    private readonly salt: Buffer,
  ) {
    this.ecb = createCipheriv('aes-128-ecb', encKey, null).setAutoPadding(false);
    for (let j = 0; j < BLOCKS; j++) this.blocks.writeUInt16BE(j, j * 16 + 14);
  }

  /**
   * The keystream for `bytes` bytes of a packet (RFC 3711 §4.1.1):
   * IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i = ROC · 2^16 + SEQ.
   */
  keystream(ssrc: number, roc: number, seq: number, bytes: number): Buffer {
    const n = (bytes + 15) >> 4;
    const b = this.blocks;
    const s = this.salt;
    if (ssrc !== this.ssrc) {
      const hi = (s.readUInt32BE(4) ^ ssrc) >>> 0;
      for (let j = 0; j < BLOCKS; j++) {
        s.copy(b, j * 16, 0, 4);
        b.writeUInt32BE(hi, j * 16 + 4);
      }
      this.ssrc = ssrc;
    }
    if (roc !== this.roc) {
      const r = (s.readUInt32BE(8) ^ roc) >>> 0;
      for (let j = 0; j < BLOCKS; j++) b.writeUInt32BE(r, j * 16 + 8);
      this.roc = roc;
      this.seq = -1;
    }
    if (seq !== this.seq) {
      const v = (s.readUInt16BE(12) ^ seq) & 0xffff;
      const hi8 = v >> 8;
      const lo8 = v & 0xff;
      for (let j = 0, at = 12; j < BLOCKS; j++, at += 16) {
        b[at] = hi8;
        b[at + 1] = lo8;
      }
      this.seq = seq;
    }
    return this.ecb.update(b.subarray(0, n * 16));
  }
}

/** XORs `ks` into `buf[at, at + len)`. */
function xorInto(buf: Buffer, at: number, ks: Buffer, len: number): void {
  let i = 0;
  // Word at a time where both sides allow it (pool buffers are 8-byte aligned; headers are multiples of 4).
  if (((buf.byteOffset + at) & 3) === 0 && (ks.byteOffset & 3) === 0) {
    const words = len >> 2;
    const a = new Int32Array(buf.buffer, buf.byteOffset + at, words);
    const k = new Int32Array(ks.buffer, ks.byteOffset, words);
    for (let w = 0; w < words; w++) a[w] ^= k[w];
    i = words << 2;
  }
  for (; i < len; i++) buf[at + i] ^= ks[i];
}

/** One direction of an SRTP session: its keystream, its authentication key, a rollover counter per SSRC. */
abstract class SrtpDirection {
  protected readonly ctr: CounterMode;
  protected readonly rocs = new Map<number, { roc: number; last: number }>();
  private readonly authKey: Buffer;
  private readonly rocField = Buffer.alloc(4);

  constructor(masterKey: Buffer, masterSalt: Buffer) {
    const k = deriveSrtpKeys(masterKey, masterSalt);
    this.ctr = new CounterMode(k.encKey, k.salt);
    this.authKey = k.authKey;
  }

  /** HMAC-SHA1 over the authenticated portion and then the ROC (RFC 3711 §4.2), untruncated. */
  protected tag(authenticated: Buffer, roc: number): Buffer {
    this.rocField.writeUInt32BE(roc >>> 0);
    return createHmac('sha1', this.authKey).update(authenticated).update(this.rocField).digest();
  }
}

/**
 * Protects outgoing RTP of one SRTP session (one DTLS association). Any number of SSRCs may
 * share it; each keeps its own rollover counter.
 */
export class SrtpSender extends SrtpDirection {
  /**
   * Builds one SRTP packet: `header` (a complete RTP header, `headerLength` bytes, with
   * the SSRC and sequence number already in it) followed by the encrypted `payload` and the tag.
   * Sequence numbers may repeat or go back (retransmissions): the rollover counter is the
   * one of the packet's own index.
   */
  protect(header: Buffer, headerLength: number, payload: Buffer): Buffer {
    const ssrc = header.readUInt32BE(8);
    const seq = header.readUInt16BE(2);
    const roc = this.rolloverFor(ssrc, seq);
    const len = headerLength + payload.length;
    if (payload.length > SRTP_MAX_PAYLOAD) throw new SrtpError(`RTP payload of ${payload.length} bytes exceeds ${SRTP_MAX_PAYLOAD}`);
    const out = Buffer.allocUnsafe(len + SRTP_AUTH_TAG_BYTES);
    header.copy(out, 0, 0, headerLength);
    payload.copy(out, headerLength);
    xorInto(out, headerLength, this.ctr.keystream(ssrc, roc, seq, payload.length), payload.length);
    this.tag(out.subarray(0, len), roc).copy(out, len, 0, SRTP_AUTH_TAG_BYTES);
    return out;
  }

  /** RFC 3711 §3.3.1: the sender's ROC counts wraps of its own sequence numbers. */
  private rolloverFor(ssrc: number, seq: number): number {
    let s = this.rocs.get(ssrc);
    if (!s) {
      s = { roc: 0, last: seq };
      this.rocs.set(ssrc, s);
      return 0;
    }
    const diff = (seq - s.last) & 0xffff;
    if (diff === 0) return s.roc;
    if (diff < 0x8000) {
      if (seq < s.last) s.roc = (s.roc + 1) >>> 0; // wrapped forward
      s.last = seq;
      return s.roc;
    }
    // Older than the newest (a retransmission): it may belong to the previous cycle.
    return seq > s.last ? (s.roc - 1) >>> 0 : s.roc;
  }
}

/**
 * Checks and decrypts incoming SRTP of one session (RFC 3711 §3.3, ROC estimated as in
 * Appendix A). Replay protection is left to the caller (a light receiver counts duplicates).
 */
export class SrtpReceiver extends SrtpDirection {
  /** Returns the plain RTP packet (a new buffer), or throws `SrtpError` when the tag does not match. */
  unprotect(packet: Buffer): Buffer {
    if (packet.length < 12 + SRTP_AUTH_TAG_BYTES) throw new SrtpError(`SRTP packet of ${packet.length} bytes is too short`);
    const headerLength = rtpHeaderLength(packet);
    const end = packet.length - SRTP_AUTH_TAG_BYTES;
    if (headerLength > end) throw new SrtpError('RTP header runs past the packet');
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const state = this.rocs.get(ssrc);
    const roc = state ? estimateRoc(state.roc, state.last, seq) : 0;
    const tag = this.tag(packet.subarray(0, end), roc).subarray(0, SRTP_AUTH_TAG_BYTES);
    if (!timingSafeEqual(tag, packet.subarray(end))) throw new SrtpError('SRTP authentication failed');
    if (!state) this.rocs.set(ssrc, { roc, last: seq });
    else if (roc > state.roc || (roc === state.roc && ((seq - state.last) & 0xffff) < 0x8000)) {
      state.roc = roc;
      state.last = seq;
    }
    const out = Buffer.from(packet.subarray(0, end));
    const payloadLength = end - headerLength;
    if (payloadLength > SRTP_MAX_PAYLOAD) throw new SrtpError(`RTP payload of ${payloadLength} bytes exceeds ${SRTP_MAX_PAYLOAD}`);
    xorInto(out, headerLength, this.ctr.keystream(ssrc, roc, seq, payloadLength), payloadLength);
    return out;
  }
}

/** RFC 3711 Appendix A: the ROC among roc−1, roc, roc+1 that puts `seq` closest to the last one. */
function estimateRoc(roc: number, last: number, seq: number): number {
  if (last < 0x8000) return seq - last > 0x8000 && roc > 0 ? roc - 1 : roc;
  return last - 0x8000 > seq ? roc + 1 : roc;
}

/** Length of an RTP header including CSRCs and the header extension (RFC 3550 §5.3.1). */
export function rtpHeaderLength(packet: Buffer): number {
  let len = 12 + (packet[0] & 0x0f) * 4;
  if (packet[0] & 0x10) {
    if (packet.length < len + 4) throw new SrtpError('RTP header extension runs past the packet');
    len += 4 + packet.readUInt16BE(len + 2) * 4;
  }
  return len;
}
