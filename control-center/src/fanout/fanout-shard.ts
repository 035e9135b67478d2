import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors';
import { unreachable } from '@schoolcam/protocol/link/link-messages';
import { VideoSendPeer } from '@schoolcam/protocol/webrtc/werift-peer';
import { CameraFeed, type FeedCounters, type FeedOptions } from './camera-feed';
import { FanoutViewer, type PlayoutDelay } from './fanout-viewer';
import type { ShardEvent, ShardRequest, ShardResult, ShardStats } from './shard-messages';

/** What a shard is started with (the worker's `workerData`). */
export interface ShardOptions extends FeedOptions {
  /** Receiver playout delay to ask viewers for; absent: none asked. */
  playoutDelay?: PlayoutDelay;
  /** Honour the `crash` request (tests). Default false. */
  testHooks?: boolean;
}

interface ViewerEntry {
  viewer: FanoutViewer;
  feed: CameraFeed;
  /** Closed on request: no `viewer.ended` event for it. */
  released: boolean;
  connectTimer: NodeJS.Timeout | undefined;
}

/** A viewer whose connection is not up this long after its answer has failed (werift can stay in 'checking' for good). */
const VIEWER_CONNECT_TIMEOUT_MS = 15_000;

/**
 * The fan-out work of one thread: the feeds of the cameras assigned to it, their upstream
 * peers and their viewers' peers. It knows nothing of accounts, grants or the gateway link;
 * the facade in the main thread decides who watches what and tells it through
 * {@link ShardRequest}s.
 */
export class FanoutShard {
  private readonly feeds = new Map<string, CameraFeed>();
  private readonly viewers = new Map<string, ViewerEntry>();
  private readonly counters: FeedCounters = { packetsIn: 0, keyframeRequests: 0, gopReplays: 0, skips: 0 };
  /** What viewers that are gone had sent. */
  private readonly gone = { sent: 0, resent: 0 };
  private closed = false;

  constructor(
    private readonly opts: ShardOptions,
    private readonly emit: (ev: ShardEvent) => void,
    private readonly log: Logger,
  ) {}

  handle(req: ShardRequest): void {
    switch (req.type) {
      case 'feed.open':
        this.openFeed(req.streamId, req.cameraId);
        return;
      case 'feed.mirror':
        this.openFeed(req.streamId, req.cameraId, req.port);
        return;
      case 'feed.relay': {
        const feed = this.feeds.get(req.streamId);
        if (feed) feed.addRelay(req.port);
        else req.port.close();
        return;
      }
      case 'feed.tap': {
        const feed = this.feeds.get(req.streamId);
        if (feed) feed.addTap(req.port);
        else req.port.close();
        return;
      }
      case 'feed.offer':
        this.answer(req.id, async () => {
          const feed = this.feeds.get(req.streamId);
          if (!feed) throw new ShardFailure('STREAM_ENDED', 'the feed ended before the upstream offer');
          return { kind: 'answer', sdp: await feed.acceptOffer(req.sdp) };
        });
        return;
      case 'feed.close':
        void this.closeFeed(req.streamId, req.reason);
        return;
      case 'viewer.open':
        this.answer(req.id, () => this.openViewer(req.streamId, req.viewerId));
        return;
      case 'viewer.answer':
        this.answer(req.id, async () => {
          const entry = this.viewers.get(req.viewerId);
          if (!entry) throw new ShardFailure('STREAM_ENDED', 'the viewer ended before its answer');
          await entry.viewer.peer.accept(req.sdp);
          clearTimeout(entry.connectTimer);
          entry.connectTimer = setTimeout(() => {
            if (!entry.viewer.live) this.endViewer(req.viewerId, 'viewer connection failed');
          }, VIEWER_CONNECT_TIMEOUT_MS);
          return { kind: 'done' };
        });
        return;
      case 'viewer.close':
        void this.closeViewer(req.viewerId);
        return;
      case 'shutdown':
        // Sockets first: the thread may end only once nothing receives any more (see stopAllSocketsNow).
        void this.close().then(() => this.emit({ type: 'closed' }));
        return;
      case 'stats':
        this.answer(req.id, () => Promise.resolve({ kind: 'stats', stats: this.stats() }));
        return;
      case 'crash':
        if (this.opts.testHooks) throw new Error('shard crashed on request (test hook)');
        return;
      default:
        unreachable(req);
    }
  }

  stats(): ShardStats {
    const resources: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
    let packetsOut = this.gone.sent;
    let retransmissions = this.gone.resent;
    for (const { viewer } of this.viewers.values()) {
      packetsOut += viewer.counts.sent;
      retransmissions += viewer.counts.resent;
    }
    return { feeds: this.feeds.size, viewers: this.viewers.size, ...this.counters, packetsOut, retransmissions, resources };
  }

  /** Idempotent: every viewer and feed of the shard; settles when their sockets are closed. */
  async close(): Promise<void> {
    this.closed = true;
    const closing = [...this.viewers.keys()].map((id) => this.closeViewer(id));
    closing.push(...[...this.feeds.keys()].map((id) => this.closeFeed(id, 'centre shutting down')));
    await Promise.all(closing);
  }

  private openFeed(streamId: string, cameraId: string, mirrorOf?: MessagePort): void {
    if (this.feeds.has(streamId)) return;
    const log = this.log.child({ camera: cameraId, stream: streamId });
    const feed = new CameraFeed(
      streamId,
      cameraId,
      this.opts,
      this.counters,
      log,
      (reason) => {
        this.dropFeed(feed);
        this.emit({ type: 'feed.closed', streamId, reason });
      },
      mirrorOf,
    );
    this.feeds.set(streamId, feed);
  }

  private closeFeed(streamId: string, reason: string): Promise<void> {
    const feed = this.feeds.get(streamId);
    if (!feed) return Promise.resolve();
    const closed = feed.close(reason);
    this.dropFeed(feed);
    return closed;
  }

  /** Forgets a closed feed and closes its viewers (their leases end through the facade). */
  private dropFeed(feed: CameraFeed): void {
    this.feeds.delete(feed.streamId);
    for (const [id, e] of this.viewers) {
      if (e.feed !== feed) continue;
      e.released = true;
      clearTimeout(e.connectTimer);
      this.forget(e.viewer);
      void e.viewer.close();
      this.viewers.delete(id);
    }
  }

  private async openViewer(streamId: string, viewerId: string): Promise<ShardResult> {
    const feed = this.feeds.get(streamId);
    if (!feed || feed.isClosed) throw new ShardFailure('STREAM_ENDED', 'the camera stream ended while the viewer was starting');
    const { peer, offer } = await VideoSendPeer.offer({ ...this.opts.peer, playoutDelay: this.opts.playoutDelay !== undefined });
    if (feed.isClosed || this.closed) {
      void peer.close();
      throw new ShardFailure('STREAM_ENDED', 'the camera stream ended while the viewer was starting');
    }
    const viewer = new FanoutViewer(viewerId, peer, this.opts.playoutDelay);
    const entry: ViewerEntry = { viewer, feed, released: false, connectTimer: undefined };
    this.viewers.set(viewerId, entry);
    peer.onKeyframeRequest(() => feed.requestKeyframe());
    peer.onNack((seqs) => viewer.resend(seqs));
    peer.onState((state) => {
      if (state === 'connected') {
        try {
          feed.startViewer(viewer);
        } catch (err) {
          this.log.warn({ err, viewer: viewerId }, 'viewer could not start');
          this.endViewer(viewerId, `viewer could not start: ${(err as Error).message}`);
        }
      } else if (state === 'failed' || state === 'closed') {
        this.endViewer(viewerId, state === 'failed' ? 'viewer connection failed' : 'viewer connection closed');
      }
    });
    return { kind: 'offer', sdp: offer };
  }

  private closeViewer(viewerId: string): Promise<void> {
    const entry = this.viewers.get(viewerId);
    if (!entry) return Promise.resolve();
    entry.released = true;
    clearTimeout(entry.connectTimer);
    this.viewers.delete(viewerId);
    entry.feed.removeViewer(entry.viewer);
    this.forget(entry.viewer);
    return entry.viewer.close();
  }

  private forget(viewer: FanoutViewer): void {
    this.gone.sent += viewer.counts.sent;
    this.gone.resent += viewer.counts.resent;
  }

  /** The viewer's peer ended on its own: tell the facade, which ends the lease. */
  private endViewer(viewerId: string, reason: string): void {
    const entry = this.viewers.get(viewerId);
    if (!entry || entry.released) return;
    void this.closeViewer(viewerId);
    this.emit({ type: 'viewer.ended', viewerId, reason });
  }

  private answer(id: number, work: () => Promise<ShardResult>): void {
    work().then(
      (result) => this.emit({ type: 'reply', id, result }),
      (err: unknown) => {
        const failure = err instanceof ShardFailure ? err : undefined;
        if (!failure) this.log.warn({ err }, 'shard request failed');
        // Anything but a refusal is the shard's own failure: logged here, not described to the viewer.
        this.emit({ type: 'failed', id, code: failure?.code ?? 'INTERNAL', message: failure?.message ?? 'the fan-out could not serve this request' });
      },
    );
  }
}

/** A request the shard refuses for a reason the facade passes on (a typed code, not words). */
export class ShardFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
