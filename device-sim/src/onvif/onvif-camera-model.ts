/** One media profile of a simulated camera (ONVIF Media 5.2: a tt:Profile with H.264 encoder). */
export interface OnvifProfileInfo {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  encoding: 'H264';
  bitrateKbps?: number;
  rtspUri: string;
  snapshotUri: string;
}

/** What the ONVIF server needs to know about the camera it fronts. Read on every request. */
export interface OnvifCameraModel {
  name: string;
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
  /** location scope (onvif://www.onvif.org/location/<school>) */
  school: string;
  username: string;
  password: string;
  /** may be filled in after the RTSP server is up: it is read lazily, so a getter works */
  profiles: OnvifProfileInfo[];
  /** called for media:SetSynchronizationPoint (the camera should emit an IDR next) */
  onSynchronizationPoint(profileToken: string): void;
  /** camera clock skew in ms, added to Date.now(); default 0 */
  clockOffsetMs?: number;
}

/** Per-request facts the services put into their replies. */
export interface ServiceContext {
  camera: OnvifCameraModel;
  /** the camera's clock, ms since the epoch */
  nowMs: number;
  /** address the client reached us on (used in XAddrs and GetNetworkInterfaces) */
  host: string;
  port: number;
}

export const DEVICE_PATH = '/onvif/device_service';
export const MEDIA_PATH = '/onvif/media_service';

export function serviceUrl(ctx: ServiceContext, path: string): string {
  const host = ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host;
  return `http://${host}:${ctx.port}${path}`;
}
