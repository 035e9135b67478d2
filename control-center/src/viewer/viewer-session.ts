import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { unreachable } from '@schoolcam/protocol/link/link-messages';
import type { Fanout, ViewerLease } from '../fanout/fanout';
import type { CameraStore } from '../storage/camera-store';
import { AppError } from '../errors';
import { type CameraView, type ViewerEvent, type ViewerRequest, parseViewerRequest } from './viewer-messages';

/** Tiles one browser socket may hold at once (a 16-tile grid plus slack). */
const MAX_TILES = 32;

/** One browser's signalling socket. Every lease it holds is released when it closes. */
export class ViewerSession {
  private readonly tiles = new Map<string, ViewerLease | 'starting'>();
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly fanout: Fanout,
    private readonly cameras: CameraStore,
    private readonly log: Logger,
  ) {
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
    this.sendCameras();
  }

  sendCameras(): void {
    this.send({ type: 'cameras', cameras: this.cameras.list().map(toView) });
  }

  private onMessage(data: Buffer): void {
    const req = parseViewerRequest(data);
    if (typeof req === 'string') {
      this.send({ type: 'error', code: 'BAD_MESSAGE', message: req });
      return;
    }
    this.handle(req).catch((err: unknown) => {
      const tile = 'tile' in req ? req.tile : undefined;
      const e = err instanceof AppError ? err : undefined;
      if (!e) this.log.error({ err }, 'viewer request failed');
      this.send({ type: 'error', tile, code: e?.code ?? 'INTERNAL', message: e?.message ?? 'internal error' });
    });
  }

  private async handle(req: ViewerRequest): Promise<void> {
    switch (req.type) {
      case 'watch': {
        this.release(req.tile);
        if (this.tiles.size >= MAX_TILES) throw new AppError('TOO_MANY_TILES', `at most ${MAX_TILES} tiles per page`);
        const camera = this.cameras.get(req.cameraId);
        if (!camera) throw new AppError('NOT_FOUND', 'camera not found', 404);
        this.tiles.set(req.tile, 'starting');
        let lease: ViewerLease;
        try {
          lease = await this.fanout.watch(camera.id, camera.gatewayId);
        } catch (err) {
          this.tiles.delete(req.tile);
          throw err;
        }
        // The tile may have been closed (or the socket gone) while the peer was set up.
        if (this.closed || this.tiles.get(req.tile) !== 'starting') {
          lease.release();
          return;
        }
        this.tiles.set(req.tile, lease);
        lease.onEnded((reason) => {
          if (this.tiles.get(req.tile) !== lease) return;
          this.tiles.delete(req.tile);
          this.send({ type: 'ended', tile: req.tile, reason });
        });
        this.send({ type: 'offer', tile: req.tile, sdp: lease.offer });
        return;
      }
      case 'answer': {
        const lease = this.tiles.get(req.tile);
        if (!lease || lease === 'starting') throw new AppError('NO_OFFER', 'no offer pending for this tile', 409);
        await lease.accept(req.sdp);
        return;
      }
      case 'unwatch':
        this.release(req.tile);
        return;
      default:
        unreachable(req);
    }
  }

  private release(tile: string): void {
    const lease = this.tiles.get(tile);
    this.tiles.delete(tile);
    if (lease && lease !== 'starting') lease.release();
  }

  private send(ev: ViewerEvent): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(ev));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const tile of [...this.tiles.keys()]) this.release(tile);
    this.ws.terminate();
  }
}

function toView(c: { id: string; name: string; schoolId: string; gatewayId: string; state: string; reason: string | null; width: number | null; height: number | null }): CameraView {
  return { id: c.id, name: c.name, schoolId: c.schoolId, gatewayId: c.gatewayId, state: c.state, reason: c.reason, width: c.width, height: c.height };
}
