import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { firstSchemaError } from '@schoolcam/protocol/schema/first-error';
import type { EndCause } from '../access/revocation';
import type { AlarmChange, AlarmView } from '../alarms/alarm-view';
import type { CameraView } from '../cameras/camera-view';
import type { GrantChange } from '../grants/grant-service';
import type { GrantView } from '../grants/grant-view';

/**
 * Browser ↔ centre signalling on `/api/view`, declared once: the centre validates with these
 * schemas and the page imports the types. The centre offers (sendonly H.264), the browser
 * answers; ICE is not trickled. `tile` is the browser's own handle for one video element, so
 * one socket can drive a whole grid.
 *
 * A `watch` with `transport: 'mse'` (the page's fallback where WebRTC cannot connect) gets no
 * offer: an `mse` event names the codec, then the video comes on this socket as fMP4 in binary
 * frames (see `mse-frame.ts`), under the same access checks and cuts.
 */
const Tile = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const CameraId = Type.String({ minLength: 1, maxLength: 300 });

export const ViewerRequest = Type.Union([
  Type.Object(
    {
      type: Type.Literal('watch'),
      tile: Tile,
      cameraId: CameraId,
      /** `sub`: the camera's light stream (grid tiles); `main` (default): its full stream (a single large view). */
      profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])),
      /** `mse`: fMP4 over this socket, where WebRTC cannot connect (always the main stream); `webrtc` (default). */
      transport: Type.Optional(Type.Union([Type.Literal('webrtc'), Type.Literal('mse')])),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('answer'), tile: Tile, sdp: Type.String({ minLength: 1, maxLength: 64 * 1024 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('unwatch'), tile: Tile }, { additionalProperties: false }),
]);
export type ViewerRequest = Static<typeof ViewerRequest>;

/** Every request type of the channel, read from the schema (the authorization matrix iterates it). */
export const VIEWER_REQUEST_TYPES: readonly ViewerRequest['type'][] = ViewerRequest.anyOf.map((s) => s.properties.type.const);

/** Codes a viewer request can be refused with. */
export type ViewerErrorCode =
  | 'BAD_MESSAGE'
  | 'UNAUTHORIZED'
  | 'SESSION_EXPIRED'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'TOO_MANY_TILES'
  | 'TOO_MANY_VIEWERS'
  | 'NO_OFFER'
  | 'AUDIT_UNAVAILABLE'
  | 'GATEWAY_OFFLINE'
  | 'STREAM_ENDED'
  | 'FANOUT_RESTARTED'
  | 'RATE_LIMITED'
  | 'INTERNAL';

export type ViewerEvent =
  /** Every camera the account may see, with health; sent on connect and whenever the list or a state changes. */
  | { type: 'cameras'; cameras: CameraView[] }
  /** The open (unacknowledged) alarms the account may see, newest first (at most 200); sent on connect. */
  | { type: 'alarms'; alarms: AlarmView[] }
  /** One alarm the account may see was raised, happened again, cleared or was acknowledged: replace it by `id`. */
  | { type: 'alarm'; change: AlarmChange; alarm: AlarmView }
  | { type: 'offer'; tile: string; sdp: string }
  /**
   * The tile's video follows as fMP4 in binary frames: an init segment first (and again when the
   * camera changes its parameters, each time after a new `mse` event), then media segments.
   * `codec` is for `MediaSource.addSourceBuffer(\`video/mp4; codecs="${codec}"\`)`.
   */
  | { type: 'mse'; tile: string; codec: string }
  /** A live view ended; `cause` says why (typed), `reason` in words. */
  | { type: 'ended'; tile: string; cause: EndCause; reason: string }
  | { type: 'error'; tile?: string; code: ViewerErrorCode; message: string }
  /**
   * A grant the account may see changed (created, active, ended, emergency raised, extended):
   * pushed to the police force's, the school's and the region's dashboards at once.
   */
  | { type: 'grant'; change: GrantChange; grant: GrantView }
  /** The session is over (logout, expiry, account change); the socket closes next with code 4401. */
  | { type: 'signed-out'; cause: EndCause; reason: string };

/** Every event type of the channel, in a record so the compiler refuses a missing one (the authorization matrix iterates it). */
const EVENT_TYPES: Record<ViewerEvent['type'], true> = { cameras: true, alarms: true, alarm: true, offer: true, mse: true, ended: true, error: true, grant: true, 'signed-out': true };
export const VIEWER_EVENT_TYPES = Object.keys(EVENT_TYPES) as ViewerEvent['type'][];

/** WebSocket close code sent after `signed-out`. */
export { CLOSE_SIGNED_OUT } from './viewer-close';

const checker = TypeCompiler.Compile(ViewerRequest);
export const MAX_VIEWER_MESSAGE_BYTES = 128 * 1024;

/** Parses a browser frame; returns an error string instead of throwing. */
export function parseViewerRequest(raw: Buffer | string): ViewerRequest | string {
  if (raw.length > MAX_VIEWER_MESSAGE_BYTES) return 'message too large';
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    return 'message is not JSON';
  }
  return firstSchemaError(checker, value) ?? (value as ViewerRequest);
}
