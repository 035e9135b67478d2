import { NalType, nalType } from './nal';

/** WebRTC-safe RTP payload size: leaves room for SRTP, header extensions and tunnels under a 1280-byte path MTU. */
export const DEFAULT_MAX_PAYLOAD = 1200;

export interface PacketizerOptions {
  /** Largest RTP payload produced. Default {@link DEFAULT_MAX_PAYLOAD}. */
  maxPayload?: number;
}

/**
 * H.264 RTP packetizer (RFC 6184, packetization-mode 1): single NAL unit packets,
 * STAP-A aggregation of small NAL units and FU-A fragmentation of large ones.
 *
 * SPS and PPS are sent in-band before every IDR: many cameras announce them only
 * in the SDP (`sprop-parameter-sets`), which WebRTC receivers never see, so a viewer
 * joining mid-stream could otherwise never decode.
 */
export class H264Packetizer {
  private readonly maxPayload: number;
  private sps: Buffer | undefined;
  private pps: Buffer | undefined;

  constructor(opts: PacketizerOptions = {}) {
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (this.maxPayload < 64) throw new RangeError(`maxPayload ${this.maxPayload} is below 64 bytes`);
  }

  /** Parameter sets known out of band (from SDP `sprop-parameter-sets`). */
  setParameterSets(sps: Buffer | undefined, pps: Buffer | undefined): void {
    if (sps) this.sps = sps;
    if (pps) this.pps = pps;
  }

  /**
   * Turns one access unit into RTP payloads, in order. The caller sets the marker
   * bit on the last one and gives them all the access unit's timestamp.
   */
  packetize(nalus: readonly Buffer[]): Buffer[] {
    const units = this.withParameterSets(nalus);
    const payloads: Buffer[] = [];
    let pending: Buffer[] = [];
    let pendingSize = 1; // STAP-A header byte
    const flush = (): void => {
      if (pending.length === 1) payloads.push(pending[0]);
      else if (pending.length > 1) payloads.push(stapA(pending));
      pending = [];
      pendingSize = 1;
    };
    for (const nal of units) {
      if (nal.length > this.maxPayload) {
        flush();
        fragment(nal, this.maxPayload, payloads);
        continue;
      }
      if (pendingSize + 2 + nal.length > this.maxPayload) flush();
      pending.push(nal);
      pendingSize += 2 + nal.length;
    }
    flush();
    return payloads;
  }

  private withParameterSets(nalus: readonly Buffer[]): readonly Buffer[] {
    let hasIdr = false;
    let hasSps = false;
    let hasPps = false;
    for (const nal of nalus) {
      const t = nalType(nal);
      if (t === NalType.Sps) {
        this.sps = nal;
        hasSps = true;
      } else if (t === NalType.Pps) {
        this.pps = nal;
        hasPps = true;
      } else if (t === NalType.IdrSlice) {
        hasIdr = true;
      }
    }
    // Access unit delimiters carry nothing a WebRTC receiver needs.
    const body = nalus.filter((n) => nalType(n) !== NalType.Aud);
    if (!hasIdr || (hasSps && hasPps) || !this.sps || !this.pps) return body;
    // Decoders need the SPS before the PPS that refers to it: a missing SPS goes first,
    // a missing PPS right after the SPS (in-band or added).
    const out = hasSps ? body.slice() : [this.sps, ...body];
    if (!hasPps) out.splice(out.findIndex((n) => nalType(n) === NalType.Sps) + 1, 0, this.pps);
    return out;
  }
}

function stapA(nalus: readonly Buffer[]): Buffer {
  let size = 1;
  let nri = 0;
  for (const n of nalus) {
    size += 2 + n.length;
    nri = Math.max(nri, n[0] & 0x60);
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = nri | NalType.StapA; // F=0, NRI = max of aggregated units (RFC 6184 §5.7.1)
  let off = 1;
  for (const n of nalus) {
    out.writeUInt16BE(n.length, off);
    n.copy(out, off + 2);
    off += 2 + n.length;
  }
  return out;
}

function fragment(nal: Buffer, maxPayload: number, out: Buffer[]): void {
  const header = nal[0];
  const indicator = (header & 0xe0) | NalType.FuA;
  const type = header & 0x1f;
  const chunk = maxPayload - 2;
  for (let off = 1; off < nal.length; off += chunk) {
    const end = Math.min(off + chunk, nal.length);
    const fu = Buffer.allocUnsafe(2 + end - off);
    fu[0] = indicator;
    fu[1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    nal.copy(fu, 2, off, end);
    out.push(fu);
  }
}
