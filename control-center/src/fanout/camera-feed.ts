import { EventEmitter } from 'node:events';
import { MediaStreamTrack, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { createPeer, gatheringComplete, localSdp, type PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
import type { Logger } from 'pino';

/** A viewer whose connection is not up this long after its answer is closed. */
const VIEWER_CONNECT_TIMEOUT_MS = 15_000;

/** Minimum gap between key-frame requests sent upstream for one camera. */
const PLI_INTERVAL_MS = 300;

export interface FeedEvents {
  close: [reason: string];
}

/**
 * One camera's live video in the centre: exactly one upstream WebRTC peer from the
 * school gateway, whatever the number of viewers, and one werift peer per viewer.
 * Each viewer has its own track, and each gets the RTP as a buffer it deserializes for
 * itself: werift's sender rewrites SSRC, sequence and timestamp of the packet object in
 * place and keeps that object for NACK retransmission, so one object shared by several
 * viewers would be resent to one viewer with another's SSRC.
 */
export class CameraFeed extends EventEmitter<FeedEvents> {
  private readonly sinks = new Set<MediaStreamTrack>();
  private upstream: RTCPeerConnection | undefined;
  private upstreamSsrc: number | undefined;
  private upstreamRecv: RTCRtpTransceiver | undefined;
  private lastPli = 0;
  private pliTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** RTP packets relayed from the upstream. */
  packetsIn = 0;

  constructor(
    readonly cameraId: string,
    readonly gatewayId: string,
    readonly streamId: string,
    private readonly peerOpts: PeerOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A viewer's track, fed every RTP packet from now on. */
  addSink(track: MediaStreamTrack): void {
    this.sinks.add(track);
  }

  removeSink(track: MediaStreamTrack): void {
    this.sinks.delete(track);
  }

  /** Answers the gateway's offer; returns the answer SDP. */
  async acceptOffer(offerSdp: string): Promise<string> {
    if (this.closed) throw new Error('feed closed');
    if (this.upstream) throw new Error('feed already has an upstream');
    const pc = createPeer(this.peerOpts);
    this.upstream = pc;
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        this.upstreamSsrc = rtp.header.ssrc;
        if (this.packetsIn++ === 0) this.log.info({ camera: this.cameraId }, 'first upstream packet');
        if (this.sinks.size === 0) return;
        const buf = rtp.serialize();
        for (const sink of this.sinks) sink.writeRtp(buf);
      });
    });
    pc.connectionStateChange.subscribe((state) => {
      this.log.debug({ camera: this.cameraId, state }, 'upstream peer state');
      if (state === 'connected') this.log.info({ camera: this.cameraId }, 'upstream connected');
      if (state === 'failed' || state === 'closed') this.close(`upstream ${state}`);
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    this.upstreamRecv = pc.getTransceivers()[0];
    await pc.setLocalDescription(await pc.createAnswer());
    await gatheringComplete(pc);
    return localSdp(pc, this.peerOpts);
  }

  /**
   * Asks the camera for a key frame (RTCP PLI upstream; the gateway turns it into
   * ONVIF SetSynchronizationPoint). Bursts of requests — Chromium sends several PLIs
   * while a new viewer starts — are coalesced.
   */
  requestKeyframe(): void {
    if (this.closed || this.pliTimer) return;
    const wait = Math.max(0, this.lastPli + PLI_INTERVAL_MS - Date.now());
    this.pliTimer = setTimeout(() => {
      this.pliTimer = undefined;
      this.lastPli = Date.now();
      const receiver = this.upstreamRecv?.receiver;
      if (receiver && this.upstreamSsrc !== undefined) {
        receiver.sendRtcpPLI(this.upstreamSsrc).catch((err: Error) => this.log.debug({ err }, 'PLI upstream failed'));
      }
    }, wait);
  }

  /** Idempotent. Closes the upstream peer; viewers are closed by their owner on `close`. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pliTimer);
    this.pliTimer = undefined;
    const pc = this.upstream;
    this.upstream = undefined;
    pc?.close().catch(() => undefined);
    this.sinks.clear();
    this.log.info({ camera: this.cameraId, reason }, 'feed closed');
    this.emit('close', reason);
  }
}

/** A viewer's werift peer that sends one feed's video. */
export class ViewerPeer {
  private closed = false;
  private readonly track = new MediaStreamTrack({ kind: 'video' });
  /** Called once if the viewer's connection fails (ICE or DTLS): nobody would ever close it otherwise. */
  onFailed: (() => void) | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly pc: RTCPeerConnection,
    private readonly feed: CameraFeed,
  ) {}

  /** Creates the peer and its offer (the centre offers, the browser answers). */
  static async create(feed: CameraFeed, peerOpts: PeerOptions, log: Logger): Promise<{ viewer: ViewerPeer; offer: string }> {
    const pc = createPeer(peerOpts);
    const viewer = new ViewerPeer(pc, feed);
    try {
      feed.addSink(viewer.track);
      const transceiver = pc.addTransceiver(viewer.track, { direction: 'sendonly' });
      transceiver.sender.onPictureLossIndication.subscribe(() => feed.requestKeyframe());
      pc.connectionStateChange.subscribe((state) => {
        log.debug({ camera: feed.cameraId, state }, 'viewer peer state');
        // The first frame a new viewer can decode is a key frame: ask for one the
        // moment its transport is up instead of waiting for the camera's next GOP.
        if (state === 'connected') feed.requestKeyframe();
        if (state === 'failed') viewer.onFailed?.();
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc);
      return { viewer, offer: localSdp(pc, peerOpts) };
    } catch (err) {
      viewer.close();
      throw err;
    }
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    // werift can stay in 'checking' for good when no candidate pair ever answers: a viewer not
    // connected in time counts as failed too.
    this.connectTimer = setTimeout(() => {
      if (!this.closed && this.pc.connectionState !== 'connected') this.onFailed?.();
    }, VIEWER_CONNECT_TIMEOUT_MS);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.feed.removeSink(this.track);
    this.track.stop();
    this.pc.close().catch(() => undefined);
  }
}
