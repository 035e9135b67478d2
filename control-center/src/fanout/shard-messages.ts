import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../errors';

/**
 * The channel between the fan-out's facade (main thread) and a shard (worker thread).
 * One discriminated union per direction, each handled by an exhaustive switch. These
 * messages cross a thread boundary of the same process and build, by structured clone,
 * never from the network: the facade validates what came from the network (the link and
 * viewer schemas) before anything is sent here, so there is no second validation.
 */

/** Facade → shard. `id` correlates a request with its {@link ShardReply}. */
export type ShardRequest =
  /** A camera's feed lives on this shard from now on; its upstream offer follows. */
  | { type: 'feed.open'; streamId: string; cameraId: string }
  /** The gateway's offer for the feed's upstream; replied with `answer`. */
  | { type: 'feed.offer'; id: number; streamId: string; sdp: string }
  | { type: 'feed.close'; streamId: string; reason: string }
  /**
   * This shard carries a hot feed for another shard too: every packet it relays goes on
   * `port` as well (see {@link RelayBatch}), and key-frame requests come back on it.
   */
  | { type: 'feed.relay'; streamId: string; port: MessagePort }
  /**
   * A consumer of the feed's RTP payloads outside the shard (the MSE and RTSP re-export
   * sessions in the main thread): the cached GOP first, as one batch marked `replay`, then
   * every packet relayed like a mirror's (see {@link RelayBatch}); key-frame requests come
   * back on `port`. Closing either end of `port` ends the tap.
   */
  | { type: 'feed.tap'; streamId: string; port: MessagePort }
  /** A copy of a feed whose upstream lives on another shard, fed through `port`. */
  | { type: 'feed.mirror'; streamId: string; cameraId: string; port: MessagePort }
  /** A viewer of a feed on this shard; replied with `offer`. */
  | { type: 'viewer.open'; id: number; streamId: string; viewerId: string }
  | { type: 'viewer.answer'; id: number; viewerId: string; sdp: string }
  | { type: 'viewer.close'; viewerId: string }
  | { type: 'stats'; id: number }
  /** Close every peer; the shard answers `closed` once their sockets are closed, and its thread may end. */
  | { type: 'shutdown' }
  /** Test hook (only honoured when the shard was started with test hooks): die at once. */
  | { type: 'crash' };

/** What a shard's `stats` reply carries. */
export interface ShardStats {
  feeds: number;
  viewers: number;
  /** RTP packets received from upstreams (or a mirror's relay). */
  packetsIn: number;
  /** SRTP packets sent to viewers, retransmissions included. */
  packetsOut: number;
  retransmissions: number;
  /** Key frames asked of upstreams (after coalescing). */
  keyframeRequests: number;
  /** Viewers started from a feed's cached GOP instead of waiting for a key frame. */
  gopReplays: number;
  /** Times a feed fell behind (its shard starved of CPU) and skipped to the next key frame. */
  skips: number;
  /** Handles of the shard's thread by kind (sockets, timers), for leak checks. */
  resources: Record<string, number>;
}

/** Shard → facade. */
export type ShardEvent =
  | { type: 'ready' }
  /** Answer to `shutdown`. */
  | { type: 'closed' }
  | { type: 'reply'; id: number; result: ShardResult }
  | { type: 'failed'; id: number; code: ErrorCode; message: string }
  /** A feed ended on the shard (upstream failed or closed, relay gone). */
  | { type: 'feed.closed'; streamId: string; reason: string }
  /** A viewer's peer failed or closed on its own. */
  | { type: 'viewer.ended'; viewerId: string; reason: string };

export type ShardResult = { kind: 'answer'; sdp: string } | { kind: 'offer'; sdp: string } | { kind: 'done' } | { kind: 'stats'; stats: ShardStats };

/**
 * Packets a feed's owner relays to a mirror on another shard, one message per flush:
 * `meta` holds per packet [payload length, timestamp, flags (1: marker)],
 * `data` the payloads back to back. Its buffer is transferred, not copied.
 */
export interface RelayBatch {
  meta: Uint32Array;
  data: Uint8Array;
  /** The feed's cached GOP sent to a new tap (older than live): the first batch a tap gets, if any. */
  replay?: true;
}

/** Mirror → owner over the relay port. */
export type RelayUpstreamMessage = { type: 'keyframe' };
