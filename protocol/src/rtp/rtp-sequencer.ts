import { serializeRtp } from './rtp-packet';

/**
 * Stamps RTP payloads of one stream with sequence numbers, timestamps and SSRC.
 * Sequence numbers and the timestamp base start at random values (RFC 3550 §5.1).
 */
export class RtpSequencer {
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly tsBase = Math.floor(Math.random() * 0x100000000);

  constructor(
    readonly payloadType: number,
    readonly ssrc: number = Math.floor(Math.random() * 0x100000000),
  ) {}

  /** Serializes the payloads of one access unit; the last one carries the marker bit. */
  packets(payloads: readonly Buffer[], timestamp: number): Buffer[] {
    const ts = (this.tsBase + timestamp) >>> 0;
    return payloads.map((payload, i) => {
      const buf = serializeRtp({
        marker: i === payloads.length - 1,
        payloadType: this.payloadType,
        sequenceNumber: this.seq,
        timestamp: ts,
        ssrc: this.ssrc,
        csrcs: [],
        payload,
      });
      this.seq = (this.seq + 1) & 0xffff;
      return buf;
    });
  }
}
