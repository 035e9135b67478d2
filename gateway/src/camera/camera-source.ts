import type { EventEmitter } from 'node:events';
import type { AccessUnit } from '@schoolcam/protocol/h264/nal';

export interface CameraSourceEvents {
  frame: [au: AccessUnit];
  /** The source died after it had started; `err` says why (absent on a clean close). */
  close: [err?: Error];
}

/**
 * A running camera stream as business code sees it: access units and a way to ask
 * for a key frame. "Failed to start" is a rejected factory promise; "died later" is
 * the `close` event with an error.
 */
export interface CameraSource extends EventEmitter<CameraSourceEvents> {
  /** Picture size from the stream's SPS, when known. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** SPS and PPS announced out of band (SDP), for in-band repetition. */
  readonly parameterSets: { sps?: Buffer; pps?: Buffer };
  /** True when the camera can produce a key frame on demand. */
  readonly keyframeOnDemand: boolean;
  requestKeyframe(): void;
  /** Idempotent. */
  close(): Promise<void>;
}
