import { EventEmitter } from 'node:events';

/**
 * Why a live view ended. Typed, so the dashboard, the audit log and tests can tell a logout
 * from a revoked gateway without reading the words.
 */
export type EndCause =
  /** The viewer closed the tile, the page or the socket. */
  | { kind: 'viewer_left' }
  /** The stream ended under the viewer (camera failed, gateway offline, viewer's connection failed). `detail` is for people. */
  | { kind: 'stream_ended'; detail: string }
  /** The browser never answered the offer. */
  | { kind: 'answer_timeout' }
  | { kind: 'logout' }
  | { kind: 'session_expired' }
  | { kind: 'user_disabled' }
  /** The account's role or organisation changed: it must sign in again. */
  | { kind: 'user_changed' }
  | { kind: 'gateway_revoked'; gatewayId: string }
  /** The access the view relied on ended (a grant expired or was revoked). */
  | { kind: 'access_revoked'; grantId?: string; /** Why the grant ended, when a grant did: the page says "expired" or "revoked". */ grantEnd?: 'expired' | 'revoked' }
  | { kind: 'centre_shutdown' };

/** Which live views (and viewer sockets) a revocation reaches. */
export type ViewSelector =
  | { session: string }
  | { user: string }
  | { gateway: string }
  | { camera: string }
  | { grant: string };

export interface RevocationEvents {
  revoke: [selector: ViewSelector, cause: EndCause];
}

/**
 * The one channel through which anything that withdraws access (logout, a disabled account,
 * a revoked gateway, and later an ended grant) reaches the running sessions. Emitting is
 * synchronous: when `revoke()` returns, every matching live view has been cut and audited.
 */
export class AccessRevocations extends EventEmitter<RevocationEvents> {
  revoke(selector: ViewSelector, cause: EndCause): void {
    this.emit('revoke', selector, cause);
  }
}

/** Words for people (logs, the page's tooltip); never branched on. */
export function describeCause(cause: EndCause): string {
  switch (cause.kind) {
    case 'viewer_left':
      return 'viewer left';
    case 'stream_ended':
      return cause.detail;
    case 'answer_timeout':
      return 'the browser did not answer in time';
    case 'logout':
      return 'signed out';
    case 'session_expired':
      return 'session expired';
    case 'user_disabled':
      return 'account disabled';
    case 'user_changed':
      return 'account changed; sign in again';
    case 'gateway_revoked':
      return 'school gateway revoked';
    case 'access_revoked':
      return cause.grantEnd === 'expired' ? 'the police grant expired' : cause.grantEnd === 'revoked' ? 'the police grant was revoked' : 'access revoked';
    case 'centre_shutdown':
      return 'control centre shutting down';
  }
}
