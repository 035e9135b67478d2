import { type PlayoutDelay, RtpStreamSender } from '@schoolcam/protocol/webrtc/rtp-stream-sender';
import type { VideoSendPeer } from '@schoolcam/protocol/webrtc/werift-peer';
import type { FeedPacket } from './feed-packet';

export type { PlayoutDelay };

/**
 * One viewer's stream of a feed: the feed's packets with the viewer's own SSRC, sequence
 * numbers and timestamp base ({@link RtpStreamSender}), protected with the viewer's SRTP
 * session and sent on its ICE pair's socket. Sequence numbers count the packets this viewer
 * was sent, so a viewer that joined with a replayed GOP has no gap where the replay ends.
 */
export class FanoutViewer {
  /** Feed packets with an index below this were sent (or skipped) already. */
  nextIndex = Number.MAX_SAFE_INTEGER;
  private stream: RtpStreamSender | undefined;
  private closed = false;

  constructor(
    readonly id: string,
    readonly peer: VideoSendPeer,
    private readonly playoutDelay: PlayoutDelay | undefined,
  ) {}

  get live(): boolean {
    return this.stream !== undefined && !this.closed;
  }

  /** Datagrams sent to this viewer (retransmissions included), and retransmissions. */
  get counts(): { sent: number; resent: number } {
    return { sent: this.stream?.sent ?? 0, resent: this.stream?.resent ?? 0 };
  }

  /** The peer is connected: from now on packets go out. */
  open(): void {
    this.stream = new RtpStreamSender(this.peer.mediaPath(), this.peer.sendParameters(), this.playoutDelay);
  }

  /** Sends one feed packet; `timestamp` is the feed's (live) or a replay's re-stamped one. */
  send(p: FeedPacket, timestamp: number): void {
    this.nextIndex = p.index + 1;
    this.stream?.send(p.payload, p.marker, timestamp);
  }

  /** Resends what the viewer reported missing (RTCP NACK). */
  resend(sequenceNumbers: readonly number[]): void {
    if (!this.closed) this.stream?.resend(sequenceNumbers);
  }

  /** Idempotent; settles when the peer's sockets are closed. */
  close(): Promise<void> {
    this.closed = true;
    this.stream?.clear();
    return this.peer.close();
  }
}
