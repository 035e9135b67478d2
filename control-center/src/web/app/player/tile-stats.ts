/** Per-tile figures, exposed on `window.schoolcam.tiles()` for diagnostics, tests and benchmarks. */
export interface TileStats {
  cameraId: string;
  /** `connecting`, `playing`, `frozen` (no frame for a while), `retrying`, `refused` or `ended`. */
  state: string;
  /** The stream asked for: `sub` in grids, `main` in a single view. */
  profile: 'main' | 'sub';
  /** When this attempt started (ms since the epoch). */
  openedAt: number;
  firstFrameAt: number | null;
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
