import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * Browser ↔ centre signalling on `/api/view`. The centre offers (sendonly H.264),
 * the browser answers; ICE is not trickled. `tile` is the browser's own handle for one
 * video element, so one socket can drive a whole grid.
 */
const Tile = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const CameraId = Type.String({ minLength: 1, maxLength: 128 });

export const ViewerRequest = Type.Union([
  Type.Object({ type: Type.Literal('watch'), tile: Tile, cameraId: CameraId }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('answer'), tile: Tile, sdp: Type.String({ minLength: 1, maxLength: 64 * 1024 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('unwatch'), tile: Tile }, { additionalProperties: false }),
]);
export type ViewerRequest = Static<typeof ViewerRequest>;

export interface CameraView {
  id: string;
  name: string;
  schoolId: string;
  gatewayId: string;
  state: string;
  reason: string | null;
  width: number | null;
  height: number | null;
}

export type ViewerEvent =
  | { type: 'cameras'; cameras: CameraView[] }
  | { type: 'offer'; tile: string; sdp: string }
  | { type: 'ended'; tile: string; reason: string }
  | { type: 'error'; tile?: string; code: string; message: string };

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
  if (checker.Check(value)) return value;
  const first = checker.Errors(value).First();
  return first ? `${first.path || '/'} ${first.message}` : 'invalid message';
}
