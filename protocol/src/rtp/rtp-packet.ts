/**
 * RTP fixed header (RFC 3550 §5.1). Parse and serialize; header extensions are
 * skipped on parse and not produced on serialize.
 */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  payload: Buffer;
}

export class RtpParseError extends Error {
  readonly code = 'RTP_PARSE';
}

/** Largest RTP packet accepted from the network (jumbo frames are not expected). */
export const MAX_RTP_PACKET = 65_535;

/** Parses one RTP packet. Throws `RtpParseError` on anything malformed. */
export function parseRtp(buf: Buffer): RtpPacket {
  if (buf.length < 12) throw new RtpParseError(`packet of ${buf.length} bytes is shorter than the RTP header`);
  if (buf.length > MAX_RTP_PACKET) throw new RtpParseError(`packet of ${buf.length} bytes exceeds ${MAX_RTP_PACKET}`);
  const b0 = buf[0];
  if (b0 >> 6 !== 2) throw new RtpParseError(`RTP version ${b0 >> 6} is not 2`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = buf[1];
  let offset = 12;
  const csrcs: number[] = [];
  if (buf.length < offset + csrcCount * 4) throw new RtpParseError('CSRC list runs past the packet');
  for (let i = 0; i < csrcCount; i++) {
    csrcs.push(buf.readUInt32BE(offset));
    offset += 4;
  }
  if (extension) {
    if (buf.length < offset + 4) throw new RtpParseError('header extension runs past the packet');
    const words = buf.readUInt16BE(offset + 2);
    offset += 4 + words * 4;
    if (offset > buf.length) throw new RtpParseError('header extension runs past the packet');
  }
  let end = buf.length;
  if (padding) {
    const pad = buf[buf.length - 1];
    if (pad === 0 || end - pad < offset) throw new RtpParseError(`bad padding length ${pad}`);
    end -= pad;
  }
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: buf.subarray(offset, end),
  };
}

/** Serializes an RTP packet into a new buffer. */
export function serializeRtp(p: RtpPacket): Buffer {
  const headerLen = 12 + p.csrcs.length * 4;
  const out = Buffer.allocUnsafe(headerLen + p.payload.length);
  out[0] = 0x80 | (p.csrcs.length & 0x0f);
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  out.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.ssrc >>> 0, 8);
  p.csrcs.forEach((c, i) => out.writeUInt32BE(c >>> 0, 12 + i * 4));
  p.payload.copy(out, headerLen);
  return out;
}
