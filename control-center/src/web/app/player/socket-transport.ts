import type { EndCause } from '../../../access/revocation';
import type { ViewerErrorCode } from '../../../viewer/viewer-messages';
import type { TileEvent } from '../stores/viewer-socket';
import type { StreamChoice, TileTransport, TransportContext, TransportKind } from './tile-transport';

let handleSeq = 0;

/** End causes after which retrying cannot help: access is gone, not just the stream. */
const FINAL_CAUSES = new Set<EndCause['kind']>(['gateway_revoked', 'access_revoked', 'logout', 'session_expired', 'user_disabled', 'user_changed']);
/** Refusals that will not change by asking again. */
const FINAL_ERRORS = new Set<ViewerErrorCode>(['NOT_FOUND', 'FORBIDDEN', 'TOO_MANY_TILES', 'UNAUTHORIZED', 'SESSION_EXPIRED']);

/**
 * What every transport shares: a tile handle on the page's viewer socket, the `watch` that
 * opens the view at the centre and the `unwatch` that releases it, and what the centre's
 * `ended` and `error` mean for the tile (retry or not). Subclasses handle the media events.
 */
export abstract class SocketTransport implements TileTransport {
  abstract readonly kind: TransportKind;
  abstract readonly profile: StreamChoice;
  protected readonly handle = `t${++handleSeq}`;
  protected closed = false;
  private opened = false;

  constructor(protected readonly ctx: TransportContext) {}

  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.ctx.socket.bind(this.handle, {
      event: (ev) => {
        if (!this.closed) this.onEvent(ev);
      },
      data: (fmp4) => {
        if (!this.closed) this.onData(fmp4);
      },
      down: () => this.fail('the connection to the centre dropped', true, false),
    });
    if (!this.ctx.socket.send({ type: 'watch', tile: this.handle, cameraId: this.ctx.cameraId, profile: this.profile, transport: this.kind })) {
      this.fail('not connected to the centre', true, false);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.socket.release(this.handle);
    if (this.opened) this.ctx.socket.send({ type: 'unwatch', tile: this.handle });
    this.release();
  }

  abstract inbound(): Promise<Record<string, unknown> | null>;

  /** Frees the media side (peer connection, media source) once the view is closed. */
  protected abstract release(): void;

  /** The transport's own media events (`offer`, `mse`). */
  protected abstract onMedia(ev: Exclude<TileEvent, { type: 'ended' | 'error' }>): void;

  /** fMP4 bytes for this tile; only the MSE transport expects any. */
  protected onData(_fmp4: Uint8Array<ArrayBuffer>): void {}

  protected fail(reason: string, retry: boolean, refused: boolean, cause?: EndCause): void {
    if (this.closed) return;
    this.close();
    this.ctx.events.ended(reason, { retry, refused, ...(cause ? { cause } : {}) });
  }

  private onEvent(ev: TileEvent): void {
    switch (ev.type) {
      case 'offer':
      case 'mse':
        this.onMedia(ev);
        return;
      case 'ended':
        this.fail(ev.reason, !FINAL_CAUSES.has(ev.cause.kind), false, ev.cause);
        return;
      case 'error': {
        const final = FINAL_ERRORS.has(ev.code);
        this.fail(ev.message, !final, ev.code === 'NOT_FOUND' || ev.code === 'FORBIDDEN');
        return;
      }
      default:
        throw new Error(`unhandled tile event ${(ev as { type: string }).type}`);
    }
  }
}
