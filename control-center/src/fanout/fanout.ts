import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { Logger } from 'pino';
import { type LinkMessage, linkReason, unreachable } from '@schoolcam/protocol/link/link-messages';
import { payloadStartsKeyframe } from '@schoolcam/protocol/h264/depacketizer';
import type { PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
import { AppError } from '../errors';
import type { GopCacheLimits } from './feed-packet';
import type { PlayoutDelay } from './fanout-viewer';
import { ShardHost } from './shard-host';
import { forEachRelayed } from './relay-batch';
import type { RelayBatch, RelayUpstreamMessage, ShardEvent, ShardStats } from './shard-messages';

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
  /** Worker threads carrying the feeds. Default: one per core. */
  shards?: number;
  /**
   * Playout delay asked of viewers' browsers (RTP header extension `playout-delay`): bounds
   * how much their jitter buffer may hold back. Default { minMs: 0, maxMs: 150 }; `false`: none asked.
   */
  playoutDelay?: PlayoutDelay | false;
  /**
   * A camera with at least this many viewers on a shard may be split: its next viewers go to a
   * less loaded shard, fed by the first. Default 32.
   */
  splitAtViewers?: number;
  /** GOP cache limits per feed (new viewers start from it). */
  gopCache?: GopCacheLimits;
  /** Enables {@link Fanout.crashShard} (tests). Default false. */
  testHooks?: boolean;
  /** Each shard logs its event-loop delay, GC pauses, CPU and counters every 5 s. Default false. */
  trace?: boolean;
}

/** What every hold on a camera's feed offers: release it exactly once when done. */
export interface FeedLease {
  release(): void;
  /** Called when the feed ends under the holder (camera failed, gateway gone, fan-out shard restarted). */
  onEnded(cb: (reason: string) => void): void;
}

/** A WebRTC viewer's handle on a camera. */
export interface ViewerLease extends FeedLease {
  offer: string;
  accept(answerSdp: string): Promise<void>;
}

/** One RTP payload (RFC 6184, packetization-mode 1) of a camera's H.264, as the gateway sent it. */
export interface TapPacket {
  payload: Buffer;
  /** 90 kHz. */
  timestamp: number;
  marker: boolean;
}

/**
 * A consumer's handle on a camera's raw H.264 in the main thread (MSE fallback, RTSP
 * re-export): the RTP payloads, no WebRTC. It starts at a key frame: the feed's cached GOP
 * when there is one (the first picture needs no key frame from the camera), else the next.
 */
export interface TapLease extends FeedLease {
  /**
   * Packets in order, in batches. `replay` marks the cached GOP a new tap starts with: frames
   * older than live, to be decoded at once rather than played out. Set once; batches wait until it is.
   */
  onPackets(cb: (packets: TapPacket[], replay: boolean) => void): void;
  /** Asks the camera for a key frame (coalesced with every other viewer's requests). */
  requestKeyframe(): void;
}

interface Lease {
  viewerId: string;
  shard: number;
  ended: boolean;
  callbacks: ((reason: string) => void)[];
  /** Frees what the lease holds in this thread (a tap's port). */
  dispose?: () => void;
}

interface FeedEntry {
  streamId: string;
  cameraId: string;
  /** Where the entry is kept: the camera id for its main stream, `<id>#sub` for its sub stream. */
  key: string;
  gatewayId: string;
  /** The shard that holds the upstream. */
  owner: number;
  /** Shards carrying the feed: the owner and mirrors. */
  carriers: Set<number>;
  leases: Set<Lease>;
  /** Viewers whose peer is being set up: the upstream must not linger out under them. */
  pending: number;
  linger: NodeJS.Timeout | undefined;
  offerTimer: NodeJS.Timeout | undefined;
  closed: boolean;
}

/** Why a feed ends, for the one decision that depends on it: whether the gateway must be told. */
type FeedEnd = 'gateway' | 'centre';

/** Restarts of a crashing shard back off up to this long. */
const MAX_RESTART_DELAY_MS = 5000;

/**
 * Fan-out: one upstream per camera, any number of viewers. Upstreams start on the first
 * viewer and stop a linger after the last one leaves.
 *
 * This facade lives in the main thread with signalling and the trust layer; the media work
 * runs in shards (worker threads, one per core by default), each carrying the feeds of the
 * cameras assigned to it. A camera watched by many can be split: a less loaded shard gets a
 * mirror of the feed, relayed by the owner, and takes the next viewers. A shard that dies is
 * restarted; the viewers it carried see their view end and watch again on their own.
 */
export class Fanout {
  private readonly entries = new Map<string, FeedEntry>();
  private readonly byStream = new Map<string, FeedEntry>();
  private readonly leases = new Map<string, { lease: Lease; entry: FeedEntry }>();
  private readonly shards: ShardHost[] = [];
  /** Viewers per shard (the load that placement balances). */
  private readonly load: number[] = [];
  private readonly linger: number;
  private readonly offerTimeout: number;
  private readonly splitAt: number;
  private readonly restarts: number[] = [];
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly link: GatewayLinkPort,
    private readonly opts: FanoutOptions,
    private readonly log: Logger,
  ) {
    this.linger = opts.upstreamLingerMs ?? 5000;
    this.offerTimeout = opts.offerTimeoutMs ?? 10_000;
    this.splitAt = opts.splitAtViewers ?? 32;
    const count = Math.max(1, opts.shards ?? availableParallelism());
    for (let i = 0; i < count; i++) {
      this.load.push(0);
      this.restarts.push(0);
      this.startShard(i);
    }
  }

  /** Counts for health checks and leak tests. */
  stats(): { feeds: number; viewers: number } {
    return { feeds: this.entries.size, viewers: this.leases.size };
  }

  /** Each shard's counters (packets, retransmissions, open handles). */
  async shardStats(): Promise<ShardStats[]> {
    return Promise.all(
      this.shards.map(async (s) => {
        const r = await s.request({ type: 'stats' });
        if (r.kind !== 'stats') throw new Error('shard answered stats with something else');
        return r.stats;
      }),
    );
  }

  /** Which shards carry the viewers of a camera's stream now (tests, diagnostics). */
  placement(cameraId: string, profile: StreamProfileName = 'main'): number[] {
    const entry = this.entries.get(feedKey(cameraId, profile));
    if (!entry) return [];
    return [...new Set([...entry.leases].map((l) => l.shard))].sort();
  }

  /** Test hook: the shard's thread dies as if from a bug. */
  crashShard(index: number): void {
    if (!this.opts.testHooks) throw new Error('crashShard needs testHooks');
    this.shards[index]?.post({ type: 'crash' });
  }

  /** A viewer of one of the camera's streams: `main` (default) or the lighter `sub` (grid tiles); each is its own upstream. */
  async watch(cameraId: string, gatewayId: string, profile: StreamProfileName = 'main'): Promise<ViewerLease> {
    if (this.closed) throw new AppError('STREAM_ENDED', 'the centre is shutting down', 503);
    const entry = this.entryFor(cameraId, gatewayId, profile);
    clearTimeout(entry.linger);
    entry.linger = undefined;
    entry.pending++;
    const viewerId = randomUUID();
    const shard = this.placeViewer(entry);
    const lease: Lease = { viewerId, shard, ended: false, callbacks: [] };
    this.load[shard]++;
    let offer: string;
    try {
      const r = await this.shards[shard].request({ type: 'viewer.open', streamId: entry.streamId, viewerId });
      if (r.kind !== 'offer') throw new Error('shard answered viewer.open with something else');
      offer = r.sdp;
    } catch (err) {
      this.load[shard]--;
      entry.pending--;
      this.lingerIfIdle(entry);
      throw err;
    }
    entry.pending--;
    if (entry.closed) {
      this.load[shard]--;
      this.shards[shard].post({ type: 'viewer.close', viewerId });
      throw new AppError('STREAM_ENDED', 'the camera stream ended while the viewer was starting', 503);
    }
    entry.leases.add(lease);
    this.leases.set(viewerId, { lease, entry });
    return {
      offer,
      accept: async (sdp) => {
        if (lease.ended) throw new AppError('STREAM_ENDED', 'the view has ended', 409);
        await this.shards[shard].request({ type: 'viewer.answer', viewerId, sdp });
      },
      onEnded: (cb) => lease.callbacks.push(cb),
      release: () => {
        if (lease.ended) return;
        this.shards[shard].post({ type: 'viewer.close', viewerId });
        this.dropLease(lease, entry);
      },
    };
  }

  /**
   * A raw consumer of the camera's H.264 (see {@link TapLease}). It is carried by the shard
   * that owns the camera's upstream and counts as one of its viewers, for the linger and for
   * placement; `release()` it like a viewer's lease. It carries the camera's main stream.
   */
  tap(cameraId: string, gatewayId: string): TapLease {
    if (this.closed) throw new AppError('STREAM_ENDED', 'the centre is shutting down', 503);
    const entry = this.entryFor(cameraId, gatewayId, 'main');
    clearTimeout(entry.linger);
    entry.linger = undefined;
    const shard = entry.owner;
    const { port1, port2 } = new MessageChannel();
    const lease: Lease = { viewerId: randomUUID(), shard, ended: false, callbacks: [], dispose: () => port2.close() };
    this.load[shard]++;
    entry.leases.add(lease);
    this.leases.set(lease.viewerId, { lease, entry });
    this.shards[shard].post({ type: 'feed.tap', streamId: entry.streamId, port: port1 }, [port1]);
    return {
      onPackets: (cb) => {
        // A tap starts at a key frame: the replayed GOP does, a tap that joined live skips to the next one.
        let started = false;
        let last = { timestamp: -1, marker: true };
        // Messages queue on the port until a listener starts it: nothing is lost before this.
        port2.on('message', (batch: RelayBatch) => {
          if (lease.ended) return;
          const packets: TapPacket[] = [];
          forEachRelayed(batch, (payload, timestamp, marker) => {
            const auStart = last.marker || timestamp !== last.timestamp;
            last = { timestamp, marker };
            if (!started && !(auStart && payloadStartsKeyframe(payload))) return;
            started = true;
            packets.push({ payload, timestamp, marker });
          });
          if (packets.length > 0) cb(packets, batch.replay === true);
        });
      },
      requestKeyframe: () => {
        if (!lease.ended) port2.postMessage({ type: 'keyframe' } satisfies RelayUpstreamMessage);
      },
      onEnded: (cb) => lease.callbacks.push(cb),
      release: () => this.dropLease(lease, entry),
    };
  }

  /** The gateway offered the upstream for a stream we asked for. */
  async onOffer(gatewayId: string, streamId: string, sdp: string): Promise<void> {
    const entry = this.byStream.get(streamId);
    if (!entry || entry.gatewayId !== gatewayId) {
      this.link.send(gatewayId, { type: 'stream.stop', streamId, reason: 'unknown stream' });
      return;
    }
    clearTimeout(entry.offerTimer);
    entry.offerTimer = undefined;
    try {
      const r = await this.shards[entry.owner].request({ type: 'feed.offer', streamId, sdp });
      if (r.kind !== 'answer') throw new Error('shard answered feed.offer with something else');
      if (!entry.closed) this.link.send(gatewayId, { type: 'stream.answer', streamId, sdp: r.sdp });
    } catch (err) {
      this.log.warn({ err, camera: entry.cameraId }, 'upstream offer rejected');
      this.closeFeed(entry, `upstream negotiation failed: ${(err as Error).message}`, 'centre');
    }
  }

  /** The gateway ended a stream (camera failed, stopped); only the gateway that carries it may. */
  onStreamEnded(gatewayId: string, streamId: string, reason: string): void {
    const entry = this.byStream.get(streamId);
    if (entry?.gatewayId === gatewayId) this.closeFeed(entry, `gateway: ${reason}`, 'gateway');
  }

  /** Every feed of a gateway ends when its link goes away. */
  onGatewayGone(gatewayId: string): void {
    for (const e of [...this.entries.values()]) if (e.gatewayId === gatewayId) this.closeFeed(e, 'gateway offline', 'gateway');
  }

  /** Idempotent: ends every feed, then the shards' threads (see {@link done}). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of [...this.entries.values()]) this.closeFeed(e, 'centre shutting down', 'centre');
    this.closing = Promise.all(this.shards.map((s) => s.terminate())).then(() => undefined);
  }

  /** Settles once {@link close} has stopped every shard's thread. */
  get done(): Promise<void> {
    return this.closing ?? Promise.resolve();
  }

  private startShard(index: number): void {
    const shard = new ShardHost(index, {
      index,
      logLevel: this.log.level,
      trace: this.opts.trace ?? false,
      options: {
        peer: this.opts.peer,
        playoutDelay: this.opts.playoutDelay === false ? undefined : (this.opts.playoutDelay ?? { minMs: 0, maxMs: 150 }),
        gopCache: this.opts.gopCache,
        testHooks: this.opts.testHooks,
      },
    });
    this.shards[index] = shard;
    this.load[index] = 0;
    shard.on('event', (ev) => this.onShardEvent(index, ev));
    shard.once('exit', (err) => this.onShardExit(shard, err));
  }

  /** A shard's thread ended: what it carried ends (viewers watch again), and it is restarted unless we are closing. */
  private onShardExit(shard: ShardHost, err: Error | undefined): void {
    if (this.shards[shard.index] !== shard || this.closed) return;
    this.log.error({ shard: shard.index, err }, 'fan-out shard died; restarting it');
    for (const e of [...this.entries.values()]) {
      if (e.owner === shard.index) {
        this.closeFeed(e, 'fan-out shard restarted', 'centre');
        continue;
      }
      if (!e.carriers.delete(shard.index)) continue;
      for (const l of [...e.leases]) if (l.shard === shard.index) this.endLease(l, e, 'fan-out shard restarted');
    }
    const n = this.restarts[shard.index]++;
    const delay = Math.min(MAX_RESTART_DELAY_MS, n === 0 ? 0 : 250 * 2 ** (n - 1));
    setTimeout(() => {
      if (!this.closed) this.startShard(shard.index);
    }, delay).unref();
    // A shard that then runs for a minute is healthy again.
    setTimeout(() => {
      if (this.restarts[shard.index] > 0) this.restarts[shard.index]--;
    }, 60_000).unref();
  }

  private onShardEvent(index: number, ev: ShardEvent): void {
    switch (ev.type) {
      case 'feed.closed': {
        const entry = this.byStream.get(ev.streamId);
        if (!entry) return;
        if (entry.owner === index) this.closeFeed(entry, ev.reason, 'centre');
        else if (entry.carriers.delete(index)) for (const l of [...entry.leases]) if (l.shard === index) this.endLease(l, entry, ev.reason);
        return;
      }
      case 'viewer.ended': {
        const found = this.leases.get(ev.viewerId);
        if (found) this.endLease(found.lease, found.entry, ev.reason);
        return;
      }
      case 'ready':
      case 'closed':
      case 'reply':
      case 'failed':
        return; // the host settles replies itself
      default:
        unreachable(ev);
    }
  }

  /**
   * The shard for a new viewer of `entry`: the least loaded of those carrying the feed; or,
   * when that one already has {@link splitAt} of this feed's viewers and another shard is
   * clearly less loaded, that shard, which gets a mirror of the feed.
   */
  private placeViewer(entry: FeedEntry): number {
    let best = entry.owner;
    for (const s of entry.carriers) if (this.load[s] < this.load[best]) best = s;
    if (this.shards.length === 1) return best;
    let onBest = 0;
    for (const l of entry.leases) if (l.shard === best) onBest++;
    let idlest = 0;
    for (let s = 1; s < this.shards.length; s++) if (this.load[s] < this.load[idlest]) idlest = s;
    const margin = Math.max(1, Math.floor(this.splitAt / 4));
    if (onBest >= this.splitAt && !entry.carriers.has(idlest) && this.load[idlest] + margin < this.load[best] && this.shards[idlest].isAlive) {
      const { port1, port2 } = new MessageChannel();
      this.shards[entry.owner].post({ type: 'feed.relay', streamId: entry.streamId, port: port1 }, [port1]);
      this.shards[idlest].post({ type: 'feed.mirror', streamId: entry.streamId, cameraId: entry.cameraId, port: port2 }, [port2]);
      entry.carriers.add(idlest);
      this.log.info({ camera: entry.cameraId, from: entry.owner, to: idlest }, 'hot camera split over another shard');
      return idlest;
    }
    return best;
  }

  private endLease(lease: Lease, entry: FeedEntry, reason: string): void {
    if (lease.ended) return;
    this.dropLease(lease, entry);
    for (const cb of lease.callbacks) cb(reason);
  }

  private dropLease(lease: Lease, entry: FeedEntry): void {
    if (lease.ended) return;
    lease.ended = true;
    lease.dispose?.();
    this.load[lease.shard] = Math.max(0, this.load[lease.shard] - 1);
    entry.leases.delete(lease);
    this.leases.delete(lease.viewerId);
    this.lingerIfIdle(entry);
  }

  /** Starts the linger countdown when nobody watches or is about to. */
  private lingerIfIdle(entry: FeedEntry): void {
    if (entry.leases.size > 0 || entry.pending > 0 || entry.closed || entry.linger) return;
    entry.linger = setTimeout(() => this.closeFeed(entry, 'no viewers', 'centre'), this.linger);
  }

  private closeFeed(entry: FeedEntry, reason: string, by: FeedEnd): void {
    if (entry.closed) return;
    entry.closed = true;
    clearTimeout(entry.linger);
    clearTimeout(entry.offerTimer);
    this.entries.delete(entry.key);
    this.byStream.delete(entry.streamId);
    for (const s of entry.carriers) this.shards[s]?.post({ type: 'feed.close', streamId: entry.streamId, reason });
    for (const l of [...entry.leases]) this.endLease(l, entry, reason);
    if (by === 'centre') this.link.send(entry.gatewayId, { type: 'stream.stop', streamId: entry.streamId, reason: linkReason(reason) });
  }

  private entryFor(cameraId: string, gatewayId: string, profile: StreamProfileName): FeedEntry {
    const key = feedKey(cameraId, profile);
    const existing = this.entries.get(key);
    if (existing && !existing.closed) return existing;
    const streamId = randomUUID();
    // The camera's upstream goes to the live shard with the fewest viewers (then feeds).
    const feedsOn = (s: number): number => [...this.entries.values()].filter((e) => e.owner === s).length;
    let owner = -1;
    for (let s = 0; s < this.shards.length; s++) {
      if (!this.shards[s].isAlive) continue;
      if (owner < 0 || this.load[s] < this.load[owner] || (this.load[s] === this.load[owner] && feedsOn(s) < feedsOn(owner))) owner = s;
    }
    if (owner < 0) throw new AppError('FANOUT_RESTARTED', 'the fan-out is restarting; try again in a moment', 503);
    const entry: FeedEntry = { streamId, cameraId, key, gatewayId, owner, carriers: new Set([owner]), leases: new Set(), pending: 0, linger: undefined, offerTimer: undefined, closed: false };
    if (!this.link.send(gatewayId, { type: 'stream.start', streamId, cameraId, ...(profile === 'main' ? {} : { profile }) })) {
      throw new AppError('GATEWAY_OFFLINE', 'the school gateway of this camera is offline', 503);
    }
    this.shards[owner].post({ type: 'feed.open', streamId, cameraId });
    this.entries.set(key, entry);
    this.byStream.set(streamId, entry);
    entry.offerTimer = setTimeout(() => this.closeFeed(entry, 'gateway did not offer the stream in time', 'centre'), this.offerTimeout);
    return entry;
  }
}

/** A feed's key: one upstream per camera and profile (the main one keyed by the camera alone). */
function feedKey(cameraId: string, profile: StreamProfileName): string {
  return profile === 'main' ? cameraId : `${cameraId}#${profile}`;
}
