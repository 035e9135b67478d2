import { randomUUID } from 'node:crypto';
import { type LinkMessage, type LinkMessageOf, MAX_SNAPSHOT_BYTES } from '@schoolcam/protocol/link/link-messages';
import { AppError } from '../errors';

/** What snapshots need of the gateway link: send a request, hear the replies. */
export interface SnapshotLinkPort {
  send(gatewayId: string, msg: LinkMessage): boolean;
  on(event: 'reply', listener: (gatewayId: string, msg: LinkMessageOf<'snapshot.chunk'> | LinkMessageOf<'request.failed'>) => void): unknown;
  off(event: 'reply', listener: (gatewayId: string, msg: LinkMessageOf<'snapshot.chunk'> | LinkMessageOf<'request.failed'>) => void): unknown;
}

interface Pending {
  gatewayId: string;
  pieces: Buffer[];
  size: number;
  resolve(jpeg: Buffer): void;
  reject(err: AppError): void;
  timer: NodeJS.Timeout;
}

/** Most snapshots waiting for their gateways at once (a page hammering the button waits its turn). */
const MAX_PENDING = 32;

/**
 * Asks a school's gateway for a JPEG of a camera's current picture (the gateway fetches the
 * camera's ONVIF snapshot on the school LAN) and puts its pieces back together. One answer
 * per request: the JPEG, or a typed error; never a hang (deadline).
 */
export class SnapshotService {
  private readonly pending = new Map<string, Pending>();
  private readonly onReply = (gatewayId: string, msg: LinkMessageOf<'snapshot.chunk'> | LinkMessageOf<'request.failed'>): void => this.reply(gatewayId, msg);
  private closed = false;

  constructor(
    private readonly link: SnapshotLinkPort,
    private readonly timeoutMs = 10_000,
  ) {
    link.on('reply', this.onReply);
  }

  /** A JPEG of the camera `localId` at `gatewayId`. Rejects with GATEWAY_OFFLINE, NOT_FOUND, SNAPSHOT_FAILED or RATE_LIMITED. */
  take(gatewayId: string, localId: string): Promise<Buffer> {
    if (this.closed) return Promise.reject(new AppError('GATEWAY_OFFLINE', 'the centre is shutting down', 503));
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new AppError('RATE_LIMITED', 'too many snapshots at once; try again shortly', 429, 2));
    const requestId = randomUUID();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.finish(requestId, new AppError('SNAPSHOT_FAILED', 'the school gateway did not send the snapshot in time', 504)), this.timeoutMs);
      this.pending.set(requestId, { gatewayId, pieces: [], size: 0, resolve, reject, timer });
      if (!this.link.send(gatewayId, { type: 'snapshot', requestId, cameraId: localId })) {
        this.finish(requestId, new AppError('GATEWAY_OFFLINE', 'the school gateway of this camera is offline', 503));
      }
    });
  }

  /** Rejects every snapshot still waiting. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.link.off('reply', this.onReply);
    for (const id of [...this.pending.keys()]) this.finish(id, new AppError('GATEWAY_OFFLINE', 'the centre is shutting down', 503));
  }

  private reply(gatewayId: string, msg: LinkMessageOf<'snapshot.chunk'> | LinkMessageOf<'request.failed'>): void {
    const p = this.pending.get(msg.requestId);
    // Only the gateway asked may answer; requests of other kinds are not ours.
    if (!p || p.gatewayId !== gatewayId) return;
    if (msg.type === 'request.failed') {
      const status = msg.code === 'NOT_FOUND' ? 404 : msg.code === 'TIMEOUT' ? 504 : 502;
      this.finish(msg.requestId, new AppError(msg.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'SNAPSHOT_FAILED', `the camera gave no snapshot: ${msg.message}`, status));
      return;
    }
    const piece = Buffer.from(msg.data, 'base64');
    if (msg.index !== p.pieces.length || p.size + piece.length > MAX_SNAPSHOT_BYTES) {
      this.finish(msg.requestId, new AppError('SNAPSHOT_FAILED', 'the school gateway sent a broken snapshot', 502));
      return;
    }
    p.pieces.push(piece);
    p.size += piece.length;
    if (msg.last) this.finish(msg.requestId, Buffer.concat(p.pieces));
  }

  private finish(requestId: string, outcome: Buffer | AppError): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    if (outcome instanceof AppError) p.reject(outcome);
    else p.resolve(outcome);
  }
}
