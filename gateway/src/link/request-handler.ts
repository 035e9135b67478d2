import type { Logger } from 'pino';
import {
  SNAPSHOT_PART_BYTES,
  linkReason,
  type CameraInventory,
  type CheckResult,
  type DiscoveredDevice,
  type LinkMessage,
  type LinkMessageOf,
  type RequestErrorCode,
} from '@schoolcam/protocol/link/link-messages';
import type { CameraConfig } from '../config';
import { GatewayError } from '../errors';
import type { CameraRegistry } from '../storage/camera-registry';

export type CentreRequest =
  | LinkMessageOf<'discover'>
  | LinkMessageOf<'check'>
  | LinkMessageOf<'camera.register'>
  | LinkMessageOf<'camera.unregister'>
  | LinkMessageOf<'snapshot'>;

/** What answering the centre's requests needs; plain functions, so tests can pass fakes. */
export interface RequestDeps {
  registry: CameraRegistry;
  discover(req: LinkMessageOf<'discover'>): Promise<DiscoveredDevice[]>;
  check(req: LinkMessageOf<'check'>): Promise<CheckResult>;
  /** A JPEG from the camera's ONVIF snapshot URI (size-capped). */
  snapshot(req: LinkMessageOf<'snapshot'>): Promise<Buffer>;
  /** The registry changed: reconcile the running cameras (and tell the centre with a new `hello`). */
  registryChanged(): void;
  /** The current inventory entry of a camera, after registration. */
  inventory(cameraId: string): CameraInventory | undefined;
  send(msg: LinkMessage): boolean;
}

/** Requests answered at once, at most; more get `BUSY`. */
const MAX_CONCURRENT = 4;

/**
 * Answers the centre's `discover`, `check`, `camera.register`, `camera.unregister` and `snapshot`:
 * exactly one reply per `requestId` (`discover.result`, `check.result`, `camera.registered`,
 * `camera.unregistered`, the parts of a `snapshot.result`, or `request.failed` with a typed code). Long requests never block the
 * link; at most four run at once and one discovery at a time.
 */
export class RequestHandler {
  private running = 0;
  private discovering = false;

  constructor(
    private readonly deps: RequestDeps,
    private readonly log: Logger,
  ) {}

  handle(req: CentreRequest): void {
    if (this.running >= MAX_CONCURRENT || (req.type === 'discover' && this.discovering)) {
      this.fail(req.requestId, 'BUSY', req.type === 'discover' ? 'a discovery is already running on this gateway' : 'the gateway is answering other requests; try again shortly');
      return;
    }
    this.running++;
    if (req.type === 'discover') this.discovering = true;
    this.answer(req)
      .catch((err: unknown) => {
        const e = err instanceof GatewayError ? err : new GatewayError('INTERNAL', 'the gateway could not answer the request', { cause: err });
        if (e.code === 'INTERNAL') this.log.error({ err: err instanceof Error ? err.message : String(err), type: req.type }, 'request failed');
        this.fail(req.requestId, asRequestCode(e), e.message);
      })
      .finally(() => {
        this.running--;
        if (req.type === 'discover') this.discovering = false;
      });
  }

  private async answer(req: CentreRequest): Promise<void> {
    switch (req.type) {
      case 'discover':
        this.deps.send({ type: 'discover.result', requestId: req.requestId, devices: await this.deps.discover(req) });
        return;
      case 'check':
        this.deps.send({ type: 'check.result', requestId: req.requestId, result: await this.deps.check(req) });
        return;
      case 'camera.register': {
        const cam: CameraConfig = req.camera;
        this.deps.registry.upsert(cam, 'centre');
        this.log.info({ camera: cam.id }, 'camera registered by the centre');
        this.deps.registryChanged();
        this.deps.send({ type: 'camera.registered', requestId: req.requestId, camera: this.deps.inventory(cam.id) ?? { id: cam.id, name: cam.name, state: 'idle' } });
        return;
      }
      case 'snapshot': {
        const jpeg = await this.deps.snapshot(req);
        const parts = Math.max(1, Math.ceil(jpeg.length / SNAPSHOT_PART_BYTES));
        for (let part = 0; part < parts; part++) {
          const data = jpeg.subarray(part * SNAPSHOT_PART_BYTES, (part + 1) * SNAPSHOT_PART_BYTES).toString('base64');
          if (!this.deps.send({ type: 'snapshot.result', requestId: req.requestId, cameraId: req.cameraId, part, parts, data })) return;
        }
        return;
      }
      case 'camera.unregister':
        if (!this.deps.registry.remove(req.cameraId)) throw new GatewayError('NOT_FOUND', `no camera ${req.cameraId} on this gateway`);
        this.log.info({ camera: req.cameraId }, 'camera unregistered by the centre');
        this.deps.registryChanged();
        this.deps.send({ type: 'camera.unregistered', requestId: req.requestId, cameraId: req.cameraId });
        return;
      default: {
        const never: never = req;
        throw new Error(`unhandled request ${JSON.stringify(never)}`);
      }
    }
  }

  private fail(requestId: string, code: RequestErrorCode, message: string): void {
    this.deps.send({ type: 'request.failed', requestId, code, message: linkReason(message) });
  }
}

/** The gateway's error codes that are not request codes (storage, key file) are the centre's INTERNAL. */
function asRequestCode(e: GatewayError): RequestErrorCode {
  switch (e.code) {
    case 'KEY_FILE':
    case 'STORAGE':
      return 'INTERNAL';
    default:
      return e.code;
  }
}
