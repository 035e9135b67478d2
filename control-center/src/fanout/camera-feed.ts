import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { payloadStartsKeyframe } from '@schoolcam/protocol/h264/depacketizer';
import type { RtpPacket } from '@schoolcam/protocol/rtp/rtp-packet';
import { VideoRecvPeer, type PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
import { type FeedPacket, type GopCacheLimits, PacketGopCache } from './feed-packet';
import type { FanoutViewer } from './fanout-viewer';
import { forEachRelayed, packBatch } from './relay-batch';
import type { RelayBatch, RelayUpstreamMessage } from './shard-messages';

/** Minimum gap between key-frame requests sent upstream for one camera. */
const PLI_INTERVAL_MS = 300;
/**
 * A viewer (or tap) that started without a cached GOP waits for the camera's next key frame.
 * Until one arrives the camera is asked again this often: a request sent before the upstream
 * carried its first packet cannot be addressed, and one lost on the way (UDP, a camera busy
 * with its previous SetSynchronizationPoint) would otherwise leave the viewer black for a
 * whole GOP.
 */
const KEYFRAME_RETRY_MS = 1500;
/** The upstream socket holds a few key frames' worth while the shard is busy sending. */
const UPSTREAM_RECEIVE_BUFFER = 1024 * 1024;
/**
 * A packet this much later than the stream's timing says (measured against the earliest
 * arrival seen) means the shard is behind — starved of CPU for long, reading old packets from
 * its socket. Sending them would only make every viewer's picture that old: the feed skips to
 * the next key frame instead, and asks for one. Shorter stalls (a thread descheduled for a few
 * hundred ms on a busy host) are caught up on.
 */
const MAX_LATENESS_MS = 1500;
/** The timing baseline is refreshed this often (camera clocks drift). */
const BASELINE_MS = 30_000;
/**
 * Later than this is no backlog (the 1 MiB socket buffer holds ~3 s of a 2.5 Mbit/s stream)
 * but a jump of the camera's timestamps (a camera restarted under the gateway): a new baseline.
 */
const DISCONTINUITY_MS = 5000;

export interface FeedOptions {
  peer: PeerOptions;
  gopCache?: GopCacheLimits;
  /** A cached GOP larger than this is not replayed to a new viewer (it asks for a key frame instead). Default 3 MiB. */
  maxReplayBytes?: number;
}

/** Counters of a shard's feeds. */
export interface FeedCounters {
  packetsIn: number;
  /** Times a feed fell behind and skipped to a key frame. */
  skips: number;
  keyframeRequests: number;
  gopReplays: number;
}

/**
 * One camera's live video on a shard: exactly one source — the upstream WebRTC peer from
 * the school gateway, or, for a hot camera split over shards, the relay from the shard that
 * owns the upstream — and the viewers of this shard.
 *
 * Each upstream packet is turned into a {@link FeedPacket} once. Packets that arrive in the
 * same turn of the event loop are sent as a batch: viewer by viewer (starting with a
 * different viewer each time, so none is always last), every packet of the batch in turn.
 */
export class CameraFeed {
  private upstream: VideoRecvPeer | undefined;
  private readonly viewers = new Set<FanoutViewer>();
  private readonly relays = new Set<MessagePort>();
  private readonly cache: PacketGopCache;
  private pending: FeedPacket[] = [];
  private flushScheduled = false;
  private nextIndex = 0;
  private lastTimestamp = -1;
  private lastMarker = true;
  private rotate = 0;
  private lastPli = 0;
  /** Whether a key-frame request has reached the camera since someone started waiting for one. */
  private keyframeAsked = false;
  private pliTimer: NodeJS.Timeout | undefined;
  /** Set while someone waits for a key frame that has not arrived yet (see {@link KEYFRAME_RETRY_MS}). */
  private keyframeRetry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Arrival time and RTP timestamp of the packet that arrived earliest relative to its timestamp. */
  private base: { at: number; ts: number } | undefined;
  private behind = false;
  private upstreamClosed: Promise<void> = Promise.resolve();
  private readonly maxReplayBytes: number;

  constructor(
    readonly streamId: string,
    readonly cameraId: string,
    private readonly opts: FeedOptions,
    private readonly counters: FeedCounters,
    private readonly log: Logger,
    /** Called once when the feed ends by itself (upstream failed, relay gone). */
    private readonly onEnd: (reason: string) => void,
    /** For a mirror: the port to the owner's relay. */
    private readonly mirrorOf?: MessagePort,
  ) {
    this.cache = new PacketGopCache(opts.gopCache);
    this.maxReplayBytes = opts.maxReplayBytes ?? 3 * 1024 * 1024;
    if (mirrorOf) {
      mirrorOf.on('message', (batch: RelayBatch) => this.onRelay(batch));
      mirrorOf.on('close', () => this.end('the shard carrying the upstream went away'));
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Answers the gateway's offer; returns the answer SDP. */
  async acceptOffer(offerSdp: string): Promise<string> {
    if (this.closed) throw new Error('feed closed');
    if (this.upstream || this.mirrorOf) throw new Error('feed already has a source');
    const { peer, answer } = await VideoRecvPeer.answer(offerSdp, this.opts.peer);
    if (this.closed) {
      void peer.close();
      throw new Error('feed closed');
    }
    this.upstream = peer;
    peer.onRtp((rtp) => this.onUpstream(rtp));
    peer.onState((state) => {
      if (state === 'connected') {
        peer.enlargeReceiveBuffer(UPSTREAM_RECEIVE_BUFFER);
        this.log.info({ camera: this.cameraId }, 'upstream connected');
      }
      if (state === 'failed' || state === 'closed') this.end(`upstream ${state}`);
    });
    return answer;
  }

  /** Packets from now on also go to another shard's mirror of this feed. */
  addRelay(port: MessagePort): void {
    if (this.closed) {
      port.close();
      return;
    }
    this.relays.add(port);
    port.on('message', (msg: RelayUpstreamMessage) => {
      if (msg.type === 'keyframe') this.requestKeyframe();
    });
    port.on('close', () => this.relays.delete(port));
  }

  /**
   * A consumer of raw payloads on another thread (MSE, RTSP re-export): it gets the cached
   * GOP at once, so it can show a picture without waiting for the camera's next key frame,
   * then every packet as a relayed mirror does. Without a cached GOP the camera is asked for
   * a key frame.
   */
  addTap(port: MessagePort): void {
    if (this.closed) {
      port.close();
      return;
    }
    // Packets cached but not flushed yet reach the tap with the next flush: not twice.
    const cutoff = this.pending[0]?.index ?? this.nextIndex;
    const gop = this.cache.packets.filter((p) => p.index < cutoff);
    if (gop.length > 0 && this.cache.size <= this.maxReplayBytes) {
      const { meta, data } = packBatch(gop);
      port.postMessage({ meta, data, replay: true } satisfies RelayBatch, [meta.buffer, data.buffer]);
      this.counters.gopReplays++;
    } else {
      this.awaitKeyframe();
    }
    this.addRelay(port);
  }

  /**
   * A viewer whose peer just connected: it starts with the cached GOP (re-stamped, to it
   * alone) when there is one, so it decodes at once; otherwise it joins live and the camera
   * is asked for a key frame.
   */
  startViewer(viewer: FanoutViewer): void {
    if (this.closed) return;
    viewer.open();
    this.viewers.add(viewer);
    const gop = this.cache.packets;
    if (gop.length > 0 && this.cache.size <= this.maxReplayBytes) {
      this.replay(viewer, gop);
      this.counters.gopReplays++;
    } else {
      viewer.nextIndex = this.nextIndex;
      this.awaitKeyframe();
    }
  }

  removeViewer(viewer: FanoutViewer): void {
    this.viewers.delete(viewer);
  }

  /**
   * Asks the camera for a key frame (RTCP PLI upstream; the gateway turns it into ONVIF
   * SetSynchronizationPoint). Bursts of requests — several viewers losing the same packet,
   * Chromium sending PLIs while it starts — become one request every {@link PLI_INTERVAL_MS}.
   */
  requestKeyframe(): void {
    if (this.closed || this.pliTimer) return;
    const wait = Math.max(0, this.lastPli + PLI_INTERVAL_MS - Date.now());
    this.pliTimer = setTimeout(() => {
      this.pliTimer = undefined;
      this.lastPli = Date.now();
      this.counters.keyframeRequests++;
      if (this.mirrorOf) {
        this.mirrorOf.postMessage({ type: 'keyframe' } satisfies RelayUpstreamMessage);
        this.keyframeAsked = true;
        return;
      }
      this.upstream?.requestKeyframe().then(
        (sent) => {
          if (sent) this.keyframeAsked = true;
        },
        (err: Error) => this.log.debug({ err }, 'PLI upstream failed'),
      );
    }, wait);
  }

  /** Asks for a key frame now, and again every {@link KEYFRAME_RETRY_MS} until one arrives. */
  private awaitKeyframe(): void {
    this.requestKeyframe();
    if (this.keyframeRetry || this.closed) return;
    this.keyframeRetry = setInterval(() => this.requestKeyframe(), KEYFRAME_RETRY_MS);
  }

  /**
   * Ends the retry and drops a request still waiting to be sent: a key frame that arrives
   * answers every one of them (two in a row would reach every viewer twice), and a closed feed needs none.
   */
  private stopAskingForKeyframe(): void {
    clearInterval(this.keyframeRetry);
    this.keyframeRetry = undefined;
    clearTimeout(this.pliTimer);
    this.pliTimer = undefined;
    this.keyframeAsked = false;
  }

  /** Idempotent. Closes the source and the relays (the shard closes the viewers); settles when the upstream's sockets are closed. */
  close(reason: string): Promise<void> {
    if (this.closed) return this.upstreamClosed;
    this.closed = true;
    this.stopAskingForKeyframe();
    this.upstreamClosed = this.upstream?.close() ?? Promise.resolve();
    this.upstream = undefined;
    this.mirrorOf?.close();
    for (const port of this.relays) port.close();
    this.relays.clear();
    this.viewers.clear();
    this.cache.clear();
    this.pending = [];
    this.log.info({ camera: this.cameraId, reason }, 'feed closed');
    return this.upstreamClosed;
  }

  private end(reason: string): void {
    if (this.closed) return;
    void this.close(reason);
    this.onEnd(reason);
  }

  private onUpstream(rtp: RtpPacket): void {
    this.push(rtp.payload, rtp.timestamp, rtp.marker);
  }

  private onRelay(batch: RelayBatch): void {
    forEachRelayed(batch, (payload, timestamp, marker) => this.push(payload, timestamp, marker));
  }

  private push(payload: Buffer, timestamp: number, marker: boolean): void {
    if (this.closed || payload.length === 0) return;
    // An access unit starts after a marker or where the timestamp changes (cameras that never mark).
    const auStart = this.lastMarker || timestamp !== this.lastTimestamp;
    const p: FeedPacket = { index: this.nextIndex++, payload, timestamp, marker, keyframeStart: auStart && payloadStartsKeyframe(payload) };
    this.lastMarker = marker;
    this.lastTimestamp = timestamp;
    if (this.counters.packetsIn++ === 0) this.log.info({ camera: this.cameraId }, 'first upstream packet');
    if (this.late(timestamp, p.keyframeStart)) return;
    if (p.keyframeStart) this.stopAskingForKeyframe();
    // A request made before the upstream's first packet had no stream to address: ask now.
    else if (p.index === 0 && this.keyframeRetry && !this.keyframeAsked) this.requestKeyframe();
    this.cache.push(p);
    this.pending.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** True while the shard is behind the stream (see {@link MAX_LATENESS_MS}): the packet is not sent. */
  private late(timestamp: number, keyframeStart: boolean): boolean {
    const now = performance.now();
    if (!this.base) this.base = { at: now, ts: timestamp };
    let lateness = now - this.base.at - ((timestamp - this.base.ts) | 0) / 90;
    if (lateness < 0 || lateness > DISCONTINUITY_MS || (now - this.base.at > BASELINE_MS && lateness < MAX_LATENESS_MS / 4)) {
      this.base = { at: now, ts: timestamp };
      lateness = 0;
    }
    if (!this.behind && lateness > MAX_LATENESS_MS) {
      this.behind = true;
      this.cache.clear();
      this.counters.skips++;
      this.log.warn({ camera: this.cameraId, lateMs: Math.round(lateness) }, 'shard behind the stream: skipping to the next key frame');
      this.awaitKeyframe();
    }
    if (this.behind && keyframeStart && lateness < MAX_LATENESS_MS / 2) this.behind = false;
    return this.behind;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (this.closed || batch.length === 0) return;
    if (this.relays.size > 0) this.relay(batch);
    const viewers = [...this.viewers];
    const n = viewers.length;
    if (n === 0) return;
    const first = this.rotate++ % n;
    for (let k = 0; k < n; k++) {
      const v = viewers[(first + k) % n];
      if (!v.live) continue;
      for (const p of batch) if (p.index >= v.nextIndex) v.send(p, p.timestamp);
    }
  };

  private relay(batch: readonly FeedPacket[]): void {
    const { meta, data } = packBatch(batch);
    // Transferred, not copied: every port but the last gets its own copy.
    const ports = [...this.relays];
    ports.forEach((port, i) => {
      const own = i === ports.length - 1;
      const m = own ? meta : meta.slice();
      const d = own ? data : data.slice();
      port.postMessage({ meta: m, data: d } satisfies RelayBatch, [m.buffer, d.buffer]);
    });
  }

  /**
   * Sends the cached GOP to one new viewer. Its access units are re-stamped one 90 kHz tick
   * apart, ending at the newest one's own timestamp (which the live stream goes on from),
   * so the receiver decodes them in a burst instead of playing them out late.
   */
  private replay(viewer: FanoutViewer, gop: readonly FeedPacket[]): void {
    let units = 1;
    for (let i = 1; i < gop.length; i++) if (gop[i].timestamp !== gop[i - 1].timestamp) units++;
    const last = gop[gop.length - 1].timestamp;
    let unit = 0;
    for (let i = 0; i < gop.length; i++) {
      if (i > 0 && gop[i].timestamp !== gop[i - 1].timestamp) unit++;
      viewer.send(gop[i], (last - (units - 1 - unit)) >>> 0);
    }
  }
}

