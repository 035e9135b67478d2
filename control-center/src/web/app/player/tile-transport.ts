import type { ViewerSocket } from '../stores/viewer-socket';

/**
 * The seam between a tile and how its video reaches the browser. Today: WebRTC, signalled
 * over the page's viewer socket. A transport that fails where WebRTC cannot connect (fMP4
 * over an authenticated WebSocket into Media Source Extensions) plugs in here with the same
 * contract, and the tile, its states and its retries stay as they are.
 */
export type TransportKind = 'webrtc';

/** Which of the camera's streams a tile asks for: the light sub stream in grids, the main stream in a single view. */
export type StreamChoice = 'main' | 'sub';

export interface TransportEvents {
  /** Media is attached to the video element (frames follow). */
  media(): void;
  /**
   * The transport ended. `retry` false when trying again cannot help (access refused or
   * withdrawn, the session over); `refused` when the centre said no to this camera.
   */
  ended(reason: string, opts: { retry: boolean; refused: boolean }): void;
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
  open(): void;
  close(): void;
  /** Receiver statistics for diagnostics (WebRTC: the video inbound-rtp report). */
  inbound(): Promise<Record<string, unknown> | null>;
}

export type TransportFactory = (ctx: TransportContext) => TileTransport;
