import type { SessionBody } from '../../auth/auth-schemas';
import { chimes } from './stores/alarms';
import { cameras, camerasReceived, liveCameras } from './stores/store';
import { endings, players } from './player/tile-player';
import type { Ending, TileStats } from './player/tile-stats';
import { activeGrants, grantNotice } from './stores/grants';
import { session } from './session';

export type { Ending, TileStats };

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
      /** Views the centre ended for good, oldest first. */
      endings(): Ending[];
      /** The active grants the page knows, and whether it says why a view was cut. */
      grants(): { active: { id: string; caseRef: string; cameraIds: string[]; expiresAt: number | null }[]; notice: string };
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
    endings: () => endings.map((e) => ({ ...e })),
    grants: () => ({
      active: activeGrants.value.map((g) => ({ id: g.id, caseRef: g.caseRef, cameraIds: [...g.cameraIds], expiresAt: g.expiresAt })),
      notice: grantNotice.value ? `${grantNotice.value.key} ${grantNotice.value.caseRef}` : '',
    }),
    inbound: async (cameraId) => {
      for (const p of players) if (p.cameraId === cameraId) return p.inbound();
      return null;
    },
  };
}
