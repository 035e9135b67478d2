import { type Static, Type } from '@sinclair/typebox';
import type { CameraHealth } from '@schoolcam/protocol/link/link-messages';
import { publicCameraId } from './camera-id';
import { Nullable } from '../http/nullable';

/** A camera's health as the gateway last measured it (the camera views carry it; null until its gateway reports). */
export const CameraHealthView = Type.Object({
  /** Whether the camera answers at all (event pull or stream); null while the gateway does not know. */
  online: Nullable(Type.Boolean()),
  /** Frames per second over the gateway's last window (0 while nobody watches: not pulled). */
  fps: Type.Number(),
  bitrateKbps: Type.Number(),
  lastFrameAt: Nullable(Type.Number()),
  /** Time between the last two key frames. */
  keyframeIntervalMs: Nullable(Type.Integer()),
  /** Reconnects of the stream since the gateway started. */
  reconnects: Type.Integer(),
  transport: Nullable(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
  /** ONVIF event pull: `ok`, `failing`, or `none` (a plain RTSP camera). */
  events: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('none')]),
  /** When the centre received this report. */
  reportedAt: Type.Number(),
});
export type CameraHealthView = Static<typeof CameraHealthView>;

/** Fields whose change is worth pushing a new camera list to dashboards (fps and bitrate drift is not). */
const SIGNIFICANT = ['online', 'reconnects', 'transport', 'events'] as const;

/**
 * The last health report of every camera, in memory: a restarted centre knows nothing until the
 * gateways report again (and shows the cameras `unknown` meanwhile). Keyed by public camera id.
 */
export class CameraHealthBoard {
  private readonly byCamera = new Map<string, CameraHealthView>();
  private readonly byGateway = new Map<string, Set<string>>();

  /**
   * Records one `health` message of a gateway. Returns whether something a person would notice
   * changed (online, events, transport, a reconnect, a camera reported for the first time).
   */
  report(gatewayId: string, cameras: readonly CameraHealth[], now = Date.now()): boolean {
    let changed = false;
    let ids = this.byGateway.get(gatewayId);
    if (!ids) this.byGateway.set(gatewayId, (ids = new Set()));
    for (const h of cameras) {
      const id = publicCameraId(gatewayId, h.cameraId);
      const view: CameraHealthView = {
        online: h.online ?? null,
        fps: h.fps,
        bitrateKbps: h.bitrateKbps,
        lastFrameAt: h.lastFrameAt ?? null,
        keyframeIntervalMs: h.keyframeIntervalMs ?? null,
        reconnects: h.reconnects,
        transport: h.transport ?? null,
        events: h.events,
        reportedAt: now,
      };
      const before = this.byCamera.get(id);
      if (!before || SIGNIFICANT.some((k) => before[k] !== view[k])) changed = true;
      this.byCamera.set(id, view);
      ids.add(id);
    }
    return changed;
  }

  get(cameraId: string): CameraHealthView | null {
    return this.byCamera.get(cameraId) ?? null;
  }

  /** The gateway's link went away: what it reported no longer holds. */
  forgetGateway(gatewayId: string): void {
    for (const id of this.byGateway.get(gatewayId) ?? []) this.byCamera.delete(id);
    this.byGateway.delete(gatewayId);
  }
}
