import { randomInt } from 'node:crypto';
import type { MediaPath, SendParameters } from './werift-peer';

/** Sequence numbers that can still be resent on NACK (RFC 4585 §6.2.1): about 4 s of a 2.5 Mbit/s stream. */
const HISTORY = 1024;

/** Receiver playout delay asked for with the playout-delay header extension, ms (10 ms steps). */
export interface PlayoutDelay {
  minMs: number;
  maxMs: number;
}

/**
 * One outgoing RTP stream on our own SRTP and UDP path: the stream's SSRC, payload type,
 * sequence numbers and timestamp base, an optional playout-delay header extension, and the
 * last {@link HISTORY} packets (as references to the caller's payloads, which must not change)
 * to answer NACKs with the same bytes.
 *
 * Per packet it builds a 12- or 20-byte header in place and hands it with the payload to
 * the SRTP context, which writes the one datagram that goes out: nothing else is copied.
 */
export class RtpStreamSender {
  private readonly header = Buffer.alloc(20);
  private readonly headerLength: number;
  private readonly payloadType: number;
  private seq = randomInt(0x10000);
  private readonly tsOffset = randomInt(0x100000000);
  private readonly histPayload: (Buffer | undefined)[] = new Array<Buffer | undefined>(HISTORY);
  private readonly histTs = new Uint32Array(HISTORY);
  private readonly histSeq = new Int32Array(HISTORY).fill(-1);
  private readonly histMarker = new Uint8Array(HISTORY);
  /** Datagrams sent (retransmissions included) and retransmissions. */
  sent = 0;
  resent = 0;

  constructor(
    private readonly path: MediaPath,
    params: SendParameters,
    playoutDelay?: PlayoutDelay,
  ) {
    this.payloadType = params.payloadType;
    const h = this.header;
    h[0] = 0x80;
    h.writeUInt32BE(params.ssrc >>> 0, 8);
    if (playoutDelay && params.playoutDelayId !== undefined) {
      // One-byte header extension (RFC 8285 §4.2): one 3-byte element, min and max in 12 bits each.
      const min = Math.min(0xfff, Math.round(playoutDelay.minMs / 10));
      const max = Math.min(0xfff, Math.round(playoutDelay.maxMs / 10));
      h[0] = 0x90;
      h.writeUInt16BE(0xbede, 12);
      h.writeUInt16BE(1, 14);
      h[16] = (params.playoutDelayId << 4) | 2;
      h[17] = min >> 4;
      h[18] = ((min & 0x0f) << 4) | (max >> 8);
      h[19] = max & 0xff;
      this.headerLength = 20;
    } else {
      this.headerLength = 12;
    }
  }

  /** Sends one packet with the next sequence number; `timestamp` is the source's 90 kHz time. */
  send(payload: Buffer, marker: boolean, timestamp: number): void {
    const seq = this.seq;
    this.seq = (seq + 1) & 0xffff;
    const ts = (timestamp + this.tsOffset) >>> 0;
    const slot = seq & (HISTORY - 1);
    this.histPayload[slot] = payload;
    this.histTs[slot] = ts;
    this.histSeq[slot] = seq;
    this.histMarker[slot] = marker ? 1 : 0;
    this.transmit(payload, marker, seq, ts);
  }

  /** Resends what the receiver reported missing, with the sequence numbers and timestamps it had. */
  resend(sequenceNumbers: readonly number[]): void {
    for (const seq of sequenceNumbers) {
      const slot = seq & (HISTORY - 1);
      const payload = this.histPayload[slot];
      if (!payload || this.histSeq[slot] !== seq) continue; // too old: the receiver will ask for a key frame
      this.resent++;
      this.transmit(payload, this.histMarker[slot] === 1, seq, this.histTs[slot]);
    }
  }

  /** Drops the history (the payloads it holds). */
  clear(): void {
    this.histPayload.fill(undefined);
    this.histSeq.fill(-1);
  }

  private transmit(payload: Buffer, marker: boolean, seq: number, ts: number): void {
    const h = this.header;
    h[1] = (marker ? 0x80 : 0) | this.payloadType;
    h[2] = seq >> 8;
    h[3] = seq & 0xff;
    h.writeUInt32BE(ts, 4);
    if (this.path.send(this.path.srtp.protect(h, this.headerLength, payload))) this.sent++;
  }
}
