import type { EventEmitter } from 'node:events';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';
import { CodedError } from '../errors';

export interface CameraSourceEvents {
  frame: [au: AccessUnit];
  /** The source died after it had started; `err` says why (absent on a clean close). */
  close: [err?: Error];
}

/**
 * Why a camera could not be pulled, as business code decides on it (never on message text):
 * - `unreachable`: no answer, refused, reset, timed out — the camera (or its network) is down;
 * - `auth`: it answered and refused our credentials (or offered only Basic, not allowed);
 * - `unsupported`: it answered with nothing we can relay (no H.264 track or profile);
 * - `bad-stream`: it sent malformed RTSP, RTP or H.264;
 * - `stalled`: its session stayed open but no RTP arrived.
 */
export type SourceFailureKind = 'unreachable' | 'auth' | 'unsupported' | 'bad-stream' | 'stalled';

export class CameraSourceError extends CodedError<SourceFailureKind> {
  override readonly name = 'CameraSourceError';

  /** The failure class (same as `code`). */
  get kind(): SourceFailureKind {
    return this.code;
  }
}

/**
 * A running camera stream as business code sees it: access units and a way to ask
 * for a key frame. "Failed to start" is a rejected factory promise; "died later" is
 * the `close` event with an error. Both carry a {@link CameraSourceError}.
 */
export interface CameraSource extends EventEmitter<CameraSourceEvents> {
  /** Picture size from the stream's SPS, when known. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** SPS and PPS announced out of band (SDP), for in-band repetition. */
  readonly parameterSets: { sps?: Buffer; pps?: Buffer };
  /** True when the camera can produce a key frame on demand. */
  readonly keyframeOnDemand: boolean;
  /** How RTP arrives. */
  readonly transport: 'tcp' | 'udp';
  /** `Date.now()` of the last RTP packet (any, even one that completed no frame); 0 before the first. */
  readonly lastPacketAt: number;
  requestKeyframe(): void;
  /** Idempotent. */
  close(): Promise<void>;
}
