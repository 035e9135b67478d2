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
  /** camera clock skew in ms, added to Date.now(); default 0. Read on every request. */
  clockOffsetMs?: number;
  /** a PTZ camera: serves and advertises the PTZ service. Read on every request; default false */
  ptz?: boolean;
  /**
   * Which authentication the SOAP endpoint accepts. Read on every request; default `'any'`.
   * - `any`: WS-UsernameToken or HTTP Digest; a request with neither gets 400 + ter:NotAuthorized
   * - `ws-security`: UsernameToken only (an `Authorization` header is ignored)
   * - `http-digest`: HTTP Digest only; a refused request gets 401 + `WWW-Authenticate: Digest`
   *   (and the ter:NotAuthorized SOAP fault as its body)
   */
  authSchemes?: OnvifAuthSchemes;
  /** HTTP Digest realm; default `SimCam-<serial>`. Read once, when the server starts. */
  digestRealm?: string;
}

export type OnvifAuthSchemes = 'any' | 'ws-security' | 'http-digest';

/** Per-request facts the services put into their replies. */
export interface ServiceContext {
  camera: OnvifCameraModel;
  /** the camera's clock, ms since the epoch */
  nowMs: number;
  /** address the client reached us on (used in XAddrs and GetNetworkInterfaces) */
  host: string;
  port: number;
  /** the events service's subscription limit (GetServices capabilities); default 10 */
  maxPullPoints?: number;
}

export const DEVICE_PATH = '/onvif/device_service';
export const MEDIA_PATH = '/onvif/media_service';
export const EVENTS_PATH = '/onvif/events_service';
export const PTZ_PATH = '/onvif/ptz_service';
/** A pull-point subscription's address is this prefix + its id. */
export const SUBSCRIPTION_PATH_PREFIX = '/onvif/subscription/';

export function serviceUrl(ctx: ServiceContext, path: string): string {
  const host = ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host;
  return `http://${host}:${ctx.port}${path}`;
}
