/** Per-tile figures, exposed on `window.schoolcam.tiles()` for diagnostics, tests and benchmarks. */
export interface TileStats {
  cameraId: string;
  /** `connecting`, `playing`, `frozen` (no frame for a while), `retrying`, `refused` or `ended`. */
  state: string;
  /** The stream played: `sub` in grids, `main` in a single view (and always on the MSE fallback). */
  profile: 'main' | 'sub';
  /** How the video comes now: `webrtc`, or `mse` (fMP4 over the viewer socket) where WebRTC cannot connect. */
  transport: 'webrtc' | 'mse';
  /** Why this tile left WebRTC for MSE (`webrtc_failed`: ICE failed; `webrtc_timeout`: not connected 5 s after the answer), if it did. */
  fallback: 'webrtc_failed' | 'webrtc_timeout' | null;
  /** When this attempt started (ms since the epoch). */
  openedAt: number;
  firstFrameAt: number | null;
  /** When the last frame was shown (ms since the epoch). */
  lastFrameAt: number | null;
  frames: number;
  /** Decoded frame size. */
  width: number;
  height: number;
  /** Glass-to-glass latency of recent frames (ms), from the simulator's capture-time barcode; read only with `?diag=1`. */
  latencies: number[];
  barcodes: number;
  /** Attempts made after the first (reconnects). */
  retries: number;
}

/** A view the centre ended for good (access withdrawn: a grant ended, a sign-out…), as the page recorded it. */
export interface Ending {
  cameraId: string;
  /** When the page stopped the video (ms since the epoch). */
  at: number;
  lastFrameAt: number | null;
  /** The centre's end cause (`access_revoked` when a police grant ended), if the centre gave one. */
  causeKind: string | null;
  reason: string;
}
