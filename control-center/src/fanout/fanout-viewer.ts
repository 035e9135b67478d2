import { randomInt } from 'node:crypto';
import type { MediaPath, VideoSendPeer } from '@schoolcam/protocol/webrtc/werift-peer';
import type { FeedPacket } from './feed-packet';

/** Sequence numbers a viewer can still have resent (RFC 4585 NACK): about 4 s of a 2.5 Mbit/s stream. */
const HISTORY = 1024;

/** Receiver playout delay asked for with the playout-delay header extension, ms (10 ms steps, at most 40950). */
export interface PlayoutDelay {
  minMs: number;
  maxMs: number;
}

/** Counters shared by every viewer of a shard (no per-viewer maps on the hot path). */
export interface SendCounters {
  packetsOut: number;
  retransmissions: number;
}

/**
 * One viewer's stream: the feed's packets with the viewer's own SSRC, payload type,
 * sequence numbers and timestamp base, protected with the viewer's SRTP session and sent
 * on its ICE pair's socket. Nothing is copied per viewer except the datagram itself.
 *
 * Sequence numbers count the packets this viewer was sent, so a viewer that joined with a
 * replayed GOP has no gap where the replay ends; the last {@link HISTORY} are kept (as
 * references to the shared packets) to answer NACKs.
 */
export class FanoutViewer {
  /** Feed packets with an index below this were sent (or skipped) already. */
  nextIndex = Number.MAX_SAFE_INTEGER;
  private path: MediaPath | undefined;
  private readonly header = Buffer.alloc(20);
  private headerLength = 12;
  private payloadType = 96;
  private seq = randomInt(0x10000);
  private readonly tsOffset = randomInt(0x100000000);
  private readonly histPacket: (FeedPacket | undefined)[] = new Array<FeedPacket | undefined>(HISTORY);
  private readonly histTs = new Uint32Array(HISTORY);
  private readonly histSeq = new Int32Array(HISTORY).fill(-1);
  private closed = false;

  constructor(
    readonly id: string,
    readonly peer: VideoSendPeer,
    private readonly counters: SendCounters,
    private readonly playoutDelay: PlayoutDelay | undefined,
  ) {}

  get live(): boolean {
    return this.path !== undefined && !this.closed;
  }

  /** The peer is connected: from now on packets go out. Returns false if the peer cannot send. */
  open(): void {
    const params = this.peer.sendParameters();
    this.path = this.peer.mediaPath();
    this.payloadType = params.payloadType;
    const h = this.header;
    h[0] = 0x80;
    h.writeUInt32BE(params.ssrc >>> 0, 8);
    if (this.playoutDelay && params.playoutDelayId !== undefined) {
      // One-byte header extension (RFC 8285 §4.2): one element of 3 bytes, min and max in 12 bits each.
      const min = Math.min(0xfff, Math.round(this.playoutDelay.minMs / 10));
      const max = Math.min(0xfff, Math.round(this.playoutDelay.maxMs / 10));
      h[0] = 0x90;
      h.writeUInt16BE(0xbede, 12);
      h.writeUInt16BE(1, 14);
      h[16] = (params.playoutDelayId << 4) | 2;
      h[17] = min >> 4;
      h[18] = ((min & 0x0f) << 4) | (max >> 8);
      h[19] = max & 0xff;
      this.headerLength = 20;
    }
  }

  /** Sends one feed packet; `timestamp` is the feed's (live) or a replay's re-stamped one. */
  send(p: FeedPacket, timestamp: number): void {
    const seq = this.seq;
    this.seq = (seq + 1) & 0xffff;
    const ts = (timestamp + this.tsOffset) >>> 0;
    const slot = seq & (HISTORY - 1);
    this.histPacket[slot] = p;
    this.histTs[slot] = ts;
    this.histSeq[slot] = seq;
    this.nextIndex = p.index + 1;
    this.transmit(p, seq, ts);
  }

  /** Resends what the viewer reported missing, with the sequence numbers and timestamps it had. */
  resend(sequenceNumbers: readonly number[]): void {
    for (const seq of sequenceNumbers) {
      const slot = seq & (HISTORY - 1);
      const p = this.histPacket[slot];
      if (!p || this.histSeq[slot] !== seq) continue; // too old: the viewer will ask for a key frame
      this.counters.retransmissions++;
      this.transmit(p, seq, this.histTs[slot]);
    }
  }

  private transmit(p: FeedPacket, seq: number, ts: number): void {
    if (this.closed || !this.path) return;
    const h = this.header;
    h[1] = (p.marker ? 0x80 : 0) | this.payloadType;
    h[2] = seq >> 8;
    h[3] = seq & 0xff;
    h.writeUInt32BE(ts, 4);
    if (this.path.send(this.path.srtp.protect(h, this.headerLength, p.payload))) this.counters.packetsOut++;
  }

  /** Idempotent; settles when the peer's sockets are closed. */
  close(): Promise<void> {
    this.closed = true;
    this.histPacket.fill(undefined);
    return this.peer.close();
  }
}
