import type { EndCause } from '../../../access/revocation';
import type { ViewerSocket } from '../stores/viewer-socket';

/**
 * The seam between a tile and how its video reaches the browser: WebRTC, signalled over the
 * page's viewer socket, or — where WebRTC cannot connect (UDP blocked) — fMP4 over the same
 * authenticated socket into Media Source Extensions. Both keep the same contract, so the tile,
 * its states and its retries stay as they are whichever carries the video.
 */
export type TransportKind = 'webrtc' | 'mse';

/** Why a tile left WebRTC for the fallback: ICE failed, or had not connected in time after the answer. */
export type FallbackReason = 'webrtc_failed' | 'webrtc_timeout';

/** Which of the camera's streams a tile asks for: the light sub stream in grids, the main stream in a single view. */
export type StreamChoice = 'main' | 'sub';

export interface TransportEvents {
  /** Media is attached to the video element (frames follow). */
  media(): void;
  /**
   * The transport ended. `retry` false when trying again cannot help (access refused or
   * withdrawn, the session over); `refused` when the centre said no to this camera.
   */
  ended(reason: string, opts: { retry: boolean; refused: boolean; cause?: EndCause }): void;
  /**
   * WebRTC never connected from here (the network keeps it out): the transport has closed
   * itself, and the tile may try the same camera over the fallback.
   */
  unreachable(reason: FallbackReason): void;
}

export interface TransportContext {
  cameraId: string;
  profile: StreamChoice;
  video: HTMLVideoElement;
  socket: ViewerSocket;
  events: TransportEvents;
}

/** One tile's media session. Created per attempt; `close()` is idempotent and releases the view at the centre. */
export interface TileTransport {
  readonly kind: TransportKind;
  /** The stream this transport plays (MSE always carries the main stream). */
  readonly profile: StreamChoice;
  open(): void;
  close(): void;
  /** Receiver statistics for diagnostics (WebRTC: the video inbound-rtp report; MSE: the video element's playback quality). */
  inbound(): Promise<Record<string, unknown> | null>;
}

export type TransportFactory = (kind: TransportKind, ctx: TransportContext) => TileTransport;
