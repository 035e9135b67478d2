import type { Logger } from 'pino';
import { Fmp4Muxer } from '@schoolcam/protocol/fmp4/fmp4-muxer';
import { H264Depacketizer } from '@schoolcam/protocol/h264/depacketizer';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import type { TapLease, TapPacket } from '../fanout/fanout';

/** Where an MSE stream's output goes: the viewer socket of its tile. */
export interface MseSink {
  /** The codec of the init segment that follows. */
  codec(codec: string): void;
  /** One fMP4 segment (init or media). */
  segment(bytes: Buffer): void;
  /** Bytes the socket has not sent yet. */
  buffered(): number;
}

/**
 * Above this many unsent bytes on the socket, frames are dropped up to the next key frame (and
 * one is asked for): a slow link must get a picture late, not a queue of seconds.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * A camera's H.264 from a fan-out tap as fMP4 for one browser tile (Media Source Extensions):
 * RTP payloads are reassembled into access units and muxed, one media segment per frame, no
 * transcoding. The GOP a tap starts with is re-stamped one 90 kHz tick apart up to its newest
 * frame, so the browser decodes it as a burst and the picture is live from the first frame
 * (as the fan-out does for WebRTC viewers).
 */
export class MseStream {
  private readonly depacketizer = new H264Depacketizer();
  private readonly muxer = new Fmp4Muxer();
  private seq = 0;
  /** True while skipping to a key frame (the socket was backed up, or a packet was malformed). */
  private skipping = false;
  private closed = false;

  constructor(
    private readonly lease: TapLease,
    private readonly sink: MseSink,
    private readonly log: Logger,
  ) {
    lease.onPackets((packets, replay) => this.onPackets(packets, replay));
  }

  /** Stops sending (the lease itself is released by the live view). Idempotent. */
  close(): void {
    this.closed = true;
  }

  private onPackets(packets: readonly TapPacket[], replay: boolean): void {
    if (this.closed) return;
    const units: AccessUnit[] = [];
    for (const p of packets) {
      try {
        units.push(...this.depacketizer.push({ payload: p.payload, timestamp: p.timestamp, marker: p.marker, sequenceNumber: this.seq++ & 0xffff, payloadType: 96, ssrc: 0, csrcs: [] }));
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'MSE: malformed H.264 payload; waiting for a key frame');
        this.skipTo();
      }
    }
    if (replay) restamp(units);
    for (const au of units) this.send(au);
  }

  private send(au: AccessUnit): void {
    if (this.skipping && !au.keyframe) return;
    if (this.sink.buffered() > MAX_BUFFERED_BYTES) {
      this.skipTo();
      return;
    }
    this.skipping = false;
    let out;
    try {
      out = this.muxer.push(au);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'MSE: unusable parameter sets; waiting for a key frame');
      this.skipTo();
      return;
    }
    if (!out) return;
    if (out.init && out.codec) {
      this.sink.codec(out.codec);
      this.sink.segment(out.init);
    }
    this.sink.segment(out.segment);
  }

  private skipTo(): void {
    if (this.skipping) return;
    this.skipping = true;
    this.lease.requestKeyframe();
  }
}

/** Access units re-stamped one tick apart, ending at the newest one's own timestamp. */
function restamp(units: AccessUnit[]): void {
  const n = units.length;
  if (n === 0) return;
  const last = units[n - 1].timestamp;
  units.forEach((u, i) => (u.timestamp = (last - (n - 1 - i)) >>> 0));
}
