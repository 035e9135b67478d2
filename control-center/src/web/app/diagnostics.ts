import type { SessionBody } from '../../auth/auth-schemas';
import { chimes } from './stores/alarms';
import { cameras, camerasReceived, liveCameras } from './stores/store';
import { players } from './player/tile-player';
import type { TileStats } from './player/tile-stats';
import { session } from './session';

export type { TileStats };

/** What the page says about who is signed in. */
export interface PageSession {
  user: SessionBody['user'] | null;
  camerasReceived: boolean;
  liveCameras: number;
  visibleCameras: number;
}

declare global {
  interface Window {
    /** Figures of the page for diagnostics, tests and benchmarks (no data a person could not see). */
    schoolcam: {
      tiles(): TileStats[];
      session(): PageSession;
      inbound(cameraId: string): Promise<Record<string, unknown> | null>;
      /** Stops the tiles showing a camera (they stay on the wall), and starts them again afresh. */
      unwatch(cameraId: string): void;
      watch(cameraId: string): void;
      /** How many times the audible alarm cue played (a test cannot hear it). */
      alarmCues(): number;
    };
  }
}

export function installDiagnostics(): void {
  window.schoolcam = {
    tiles: () => [...players].map((p) => ({ ...p.stats, latencies: [...p.stats.latencies] })),
    session: () => ({
      user: session.value?.user ?? null,
      camerasReceived: camerasReceived.value,
      liveCameras: liveCameras.value.length,
      visibleCameras: cameras.value.length,
    }),
    unwatch: (cameraId) => {
      for (const p of players) if (p.cameraId === cameraId) p.stop();
    },
    watch: (cameraId) => {
      for (const p of players) if (p.cameraId === cameraId) p.restart();
    },
    alarmCues: () => chimes.value,
    inbound: async (cameraId) => {
      for (const p of players) if (p.cameraId === cameraId) return p.inbound();
      return null;
    },
  };
}
