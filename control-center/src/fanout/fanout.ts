import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type LinkMessage, linkReason } from '@schoolcam/protocol/link/link-messages';
import type { PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
import { CameraFeed, ViewerPeer } from './camera-feed';
import { AppError } from '../errors';

/** Which of a camera's streams: its largest ONVIF profile or its smallest. */
export type StreamProfileName = 'main' | 'sub';

/** What the fan-out needs of the gateway link. */
export interface GatewayLinkPort {
  send(gatewayId: string, msg: LinkMessage): boolean;
}

export interface FanoutOptions {
  peer: PeerOptions;
  /** Keep an upstream this long after its last viewer left, so a quick return is instant. Default 5000. */
  upstreamLingerMs?: number;
  /** Give up on a gateway that does not offer the stream within this time. Default 10000. */
  offerTimeoutMs?: number;
}

interface FeedEntry {
  feed: CameraFeed;
  viewers: Set<ViewerPeer>;
  /** Viewers whose peer is being set up: the upstream must not linger out under them. */
  pending: number;
  linger: NodeJS.Timeout | undefined;
  offerTimer: NodeJS.Timeout | undefined;
}

/** A viewer's handle on a camera: release it exactly once when the tile closes. */
export interface ViewerLease {
  offer: string;
  accept(answerSdp: string): Promise<void>;
  release(): void;
  /** Called when the feed ends under the viewer (camera failed, gateway gone). */
  onEnded(cb: (reason: string) => void): void;
}

/**
 * Fan-out: one upstream per camera, any number of viewers. Upstreams start on the
 * first viewer and stop a linger after the last one leaves.
 */
export class Fanout {
  private readonly entries = new Map<string, FeedEntry>();
  private readonly byStream = new Map<string, string>();
  private readonly linger: number;
  private readonly offerTimeout: number;

  constructor(
    private readonly link: GatewayLinkPort,
    private readonly opts: FanoutOptions,
    private readonly log: Logger,
  ) {
    this.linger = opts.upstreamLingerMs ?? 5000;
    this.offerTimeout = opts.offerTimeoutMs ?? 10_000;
  }

  /** Counts for health checks and leak tests. */
  stats(): { feeds: number; viewers: number } {
    let viewers = 0;
    for (const e of this.entries.values()) viewers += e.viewers.size;
    return { feeds: this.entries.size, viewers };
  }

  /** A viewer of one of the camera's streams: `main` (default) or the lighter `sub` (grid tiles). Each is its own upstream. */
  async watch(cameraId: string, gatewayId: string, profile: StreamProfileName = 'main'): Promise<ViewerLease> {
    const entry = this.entryFor(cameraId, gatewayId, profile);
    clearTimeout(entry.linger);
    entry.linger = undefined;
    entry.pending++;
    let created: Awaited<ReturnType<typeof ViewerPeer.create>>;
    try {
      created = await ViewerPeer.create(entry.feed, this.opts.peer, this.log);
    } catch (err) {
      entry.pending--;
      this.lingerIfIdle(entry);
      throw err;
    }
    entry.pending--;
    const { viewer, offer } = created;
    if (entry.feed.isClosed) {
      viewer.close();
      throw new AppError('STREAM_ENDED', 'the camera stream ended while the viewer was starting', 503);
    }
    entry.viewers.add(viewer);
    let released = false;
    const endedCallbacks: ((reason: string) => void)[] = [];
    const onClose = (reason: string): void => {
      if (released) return;
      released = true;
      viewer.close();
      for (const cb of endedCallbacks) cb(reason);
    };
    entry.feed.once('close', onClose);
    const release = (): void => {
      if (released) return;
      released = true;
      entry.feed.off('close', onClose);
      viewer.close();
      entry.viewers.delete(viewer);
      this.lingerIfIdle(entry);
    };
    // A viewer whose connection failed is released like one that left, and its owner told.
    viewer.onFailed = () => {
      if (released) return;
      release();
      for (const cb of endedCallbacks) cb('viewer connection failed');
    };
    return {
      offer,
      accept: (sdp) => viewer.accept(sdp),
      onEnded: (cb) => endedCallbacks.push(cb),
      release,
    };
  }

  /** Starts the linger countdown when nobody watches or is about to. */
  private lingerIfIdle(entry: FeedEntry): void {
    if (entry.viewers.size > 0 || entry.pending > 0 || entry.feed.isClosed || entry.linger) return;
    entry.linger = setTimeout(() => entry.feed.close('no viewers'), this.linger);
  }

  /** The gateway offered the upstream for a stream we asked for. */
  async onOffer(gatewayId: string, streamId: string, sdp: string): Promise<void> {
    const entry = this.entryByStream(streamId);
    if (!entry || entry.feed.gatewayId !== gatewayId) {
      this.link.send(gatewayId, { type: 'stream.stop', streamId, reason: 'unknown stream' });
      return;
    }
    clearTimeout(entry.offerTimer);
    entry.offerTimer = undefined;
    try {
      const answer = await entry.feed.acceptOffer(sdp);
      this.link.send(gatewayId, { type: 'stream.answer', streamId, sdp: answer });
    } catch (err) {
      this.log.warn({ err, camera: entry.feed.cameraId }, 'upstream offer rejected');
      entry.feed.close(`upstream negotiation failed: ${(err as Error).message}`);
    }
  }

  /** The gateway ended a stream (camera failed, stopped); only the gateway that carries it may. */
  onStreamEnded(gatewayId: string, streamId: string, reason: string): void {
    const entry = this.entryByStream(streamId);
    if (entry?.feed.gatewayId === gatewayId) entry.feed.close(`gateway: ${reason}`);
  }

  /** Every feed of a gateway ends when its link goes away. */
  onGatewayGone(gatewayId: string): void {
    for (const e of [...this.entries.values()]) if (e.feed.gatewayId === gatewayId) e.feed.close('gateway offline');
  }

  close(): void {
    for (const e of [...this.entries.values()]) e.feed.close('centre shutting down');
  }

  private entryByStream(streamId: string): FeedEntry | undefined {
    const key = this.byStream.get(streamId);
    return key === undefined ? undefined : this.entries.get(key);
  }

  private entryFor(cameraId: string, gatewayId: string, profile: StreamProfileName): FeedEntry {
    const key = `${cameraId}#${profile}`;
    const existing = this.entries.get(key);
    if (existing && !existing.feed.isClosed) return existing;
    const streamId = randomUUID();
    const feed = new CameraFeed(cameraId, gatewayId, streamId, this.opts.peer, this.log);
    const entry: FeedEntry = { feed, viewers: new Set(), pending: 0, linger: undefined, offerTimer: undefined };
    if (!this.link.send(gatewayId, { type: 'stream.start', streamId, cameraId, ...(profile === 'main' ? {} : { profile }) })) {
      throw new AppError('GATEWAY_OFFLINE', 'the school gateway of this camera is offline', 503);
    }
    this.entries.set(key, entry);
    this.byStream.set(streamId, key);
    entry.offerTimer = setTimeout(() => feed.close('gateway did not offer the stream in time'), this.offerTimeout);
    feed.once('close', (reason) => {
      clearTimeout(entry.linger);
      clearTimeout(entry.offerTimer);
      for (const v of entry.viewers) v.close();
      entry.viewers.clear();
      this.entries.delete(key);
      this.byStream.delete(streamId);
      if (reason !== 'gateway offline' && !reason.startsWith('gateway:')) {
        this.link.send(gatewayId, { type: 'stream.stop', streamId, reason: linkReason(reason) });
      }
    });
    return entry;
  }
}
