import type { WebSocket } from 'ws';
import type { Principal } from '../access/principal';
import type { AccessRevocations, EndCause, ViewSelector } from '../access/revocation';
import type { AlarmChange } from '../alarms/alarm-view';
import type { AlarmRecord } from '../storage/alarm-store';
import type { LiveViews } from './live-views';
import type { ViewerEvent } from './viewer-messages';
import { ViewerSession, type ViewerSessionDeps } from './viewer-session';

export interface ViewerHubOptions {
  /** Camera-list pushes are coalesced to at most one per this interval. Default 250 ms. */
  pushIntervalMs?: number;
  /** Ping and session re-check interval. Default 15000 ms. */
  heartbeatMs?: number;
}

/** Causes that end the session itself, not just some views: the socket closes too. */
const SESSION_ENDING = new Set<EndCause['kind']>(['logout', 'session_expired', 'user_disabled', 'user_changed']);

/**
 * Every open viewer socket. Turns revocations into cut views (and, when the session itself
 * ended, closed sockets), coalesces camera-list pushes, and pings sockets so a vanished
 * browser does not hold cameras.
 */
export class ViewerHub {
  private readonly sockets = new Set<ViewerSession>();
  private pushTimer: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly pushIntervalMs: number;
  private readonly onRevoke = (selector: ViewSelector, cause: EndCause): void => this.revoke(selector, cause);
  private closed = false;

  constructor(
    private readonly deps: ViewerSessionDeps,
    private readonly liveViews: LiveViews,
    private readonly revocations: AccessRevocations,
    opts: ViewerHubOptions = {},
  ) {
    this.pushIntervalMs = opts.pushIntervalMs ?? 250;
    revocations.on('revoke', this.onRevoke);
    this.heartbeat = setInterval(() => {
      for (const s of [...this.sockets]) if (!s.heartbeat()) this.sockets.delete(s);
    }, opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.sockets.size;
  }

  accept(ws: WebSocket, sessionId: string, userId: string, address: string): ViewerSession {
    const session = new ViewerSession(ws, sessionId, userId, address, this.deps);
    this.sockets.add(session);
    ws.on('close', () => this.sockets.delete(session));
    ws.on('drain', () => session.flushDeferred());
    session.sendCameras();
    session.sendAlarms();
    return session;
  }

  /** An alarm changed: pushed at once (alarms are rare and urgent) to every socket whose account may see it. */
  alarmChanged(alarm: AlarmRecord, change: AlarmChange): void {
    if (this.closed) return;
    for (const s of this.sockets) s.sendAlarm(alarm, change);
  }

  /** The camera list or states changed: push to every socket, at most once per push interval. */
  camerasChanged(): void {
    if (this.pushTimer || this.closed) return;
    const wait = Math.max(0, this.lastPush + this.pushIntervalMs - Date.now());
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.lastPush = Date.now();
      for (const s of this.sockets) s.sendCameras();
    }, wait);
  }

  /** Pushes an event now to every socket whose account is in the audience (grant changes). */
  push(ev: ViewerEvent, audience: (principal: Principal) => boolean): void {
    if (this.closed) return;
    for (const s of this.sockets) s.pushTo(ev, audience);
  }

  /** Cuts matching live views; when the session itself ended, closes its sockets too. */
  revoke(selector: ViewSelector, cause: EndCause): void {
    this.liveViews.cut(selector, cause);
    if (!SESSION_ENDING.has(cause.kind)) return;
    for (const s of [...this.sockets]) {
      const hit = ('session' in selector && s.sessionId === selector.session) || ('user' in selector && s.userId === selector.user);
      if (hit) {
        s.signOut(cause);
        this.sockets.delete(s);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.revocations.off('revoke', this.onRevoke);
    clearInterval(this.heartbeat);
    clearTimeout(this.pushTimer);
    for (const s of [...this.sockets]) s.close({ kind: 'centre_shutdown' });
    this.sockets.clear();
  }
}
