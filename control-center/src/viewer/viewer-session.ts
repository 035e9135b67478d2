import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { unreachable } from '@schoolcam/protocol/link/link-messages';
import type { AccessPolicy, Decision } from '../access/policy';
import type { Principal } from '../access/principal';
import { type EndCause, describeCause } from '../access/revocation';
import type { TapLease } from '../fanout/fanout';
import type { AuditSink, LiveView, LiveViews } from './live-views';
import { MseStream } from './mse-stream';
import type { SessionLookup } from '../auth/session-service';
import { type AlarmChange, type AlarmView, alarmScope, alarmView } from '../alarms/alarm-view';
import type { CameraEntry } from '../cameras/camera-catalogue';
import { visibleCameras } from '../cameras/camera-view';
import { AppError } from '../errors';
import type { AlarmRecord } from '../storage/alarm-store';
import { CLOSE_SIGNED_OUT, type ViewerErrorCode, type ViewerEvent, type ViewerRequest, parseViewerRequest } from './viewer-messages';
import { encodeMseFrame } from './mse-frame';

/** Above this many bytes queued for the browser, camera-list pushes wait; above the hard limit the socket is dropped. */
const SOFT_BUFFER_BYTES = 1024 * 1024;
const HARD_BUFFER_BYTES = 8 * 1024 * 1024;
/** Requests one socket may send per second (a page retrying every tile of a 16-grid stays far below). */
const MESSAGES_PER_SECOND = 50;

export interface ViewerSessionDeps {
  liveViews: LiveViews;
  policy: AccessPolicy;
  cameras: { get(id: string): CameraEntry | undefined; list(): CameraEntry[] };
  /** The open alarms a principal may see (sent when the socket opens). */
  openAlarms(principal: Principal): AlarmView[];
  audit: AuditSink;
  /** Re-reads the session behind this socket (on every message and every sweep). */
  lookupSession(sessionId: string): SessionLookup;
  onRefused(code: string): void;
  limits: { tilesPerSocket: number; answerTimeoutMs: number };
  log: Logger;
}

type TileEntry =
  | { state: 'starting'; cancelled: boolean }
  | { state: 'offered' | 'live'; view: LiveView; answerTimer: NodeJS.Timeout | undefined }
  /** Video as fMP4 on this socket (the page's fallback where WebRTC cannot connect). */
  | { state: 'mse'; view: LiveView<TapLease>; stream: MseStream };

/**
 * One browser's signalling socket. Every message is authorised again against the session and
 * the policy — being allowed when the socket opened is not enough. Every tile's live view is
 * ended when the socket closes.
 */
export class ViewerSession {
  private readonly tiles = new Map<string, TileEntry>();
  /** Starts not yet settled, including ones whose tile was re-used or dropped meanwhile: they count against the tile limit. */
  private inFlight = 0;
  private closed = false;
  private alive = true;
  private camerasDirty = false;
  private budget = MESSAGES_PER_SECOND;
  private budgetAt = Date.now();

  constructor(
    private readonly ws: WebSocket,
    readonly sessionId: string,
    readonly userId: string,
    private readonly address: string,
    private readonly deps: ViewerSessionDeps,
  ) {
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Pushes the camera list the account may see now; deferred while the browser is not reading. */
  sendCameras(): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > SOFT_BUFFER_BYTES) {
      this.camerasDirty = true;
      return;
    }
    this.camerasDirty = false;
    const found = this.principal();
    if (!found) return;
    this.send({ type: 'cameras', cameras: visibleCameras(this.deps.policy, this.deps.cameras, found) });
  }

  /** Sends an event when the account behind the socket is in its audience (checked now, against the live session). */
  pushTo(ev: ViewerEvent, audience: (principal: Principal) => boolean): void {
    if (this.closed) return;
    const found = this.principal();
    if (found && audience(found)) this.send(ev);
  }

  /** The open alarms the account may see (on connect). */
  sendAlarms(): void {
    const found = this.principal();
    if (!this.closed && found) this.send({ type: 'alarms', alarms: this.deps.openAlarms(found) });
  }

  /** Pushes an alarm change, when the account may see that alarm now (checked at every push). */
  sendAlarm(alarm: AlarmRecord, change: AlarmChange): void {
    if (this.closed) return;
    const found = this.principal();
    if (!found || !this.deps.policy.decide(found, 'camera.read', alarmScope(alarm)).allowed) return;
    const name = alarm.cameraId === null ? null : (this.deps.cameras.get(alarm.cameraId)?.name ?? null);
    this.send({ type: 'alarm', change, alarm: alarmView(alarm, name) });
  }

  /** Sends a deferred camera list once the browser has caught up. */
  flushDeferred(): void {
    if (this.camerasDirty && this.ws.bufferedAmount <= SOFT_BUFFER_BYTES) this.sendCameras();
  }

  /**
   * Keepalive: a browser that did not answer the previous ping is gone (tab frozen, network
   * dropped) and its views are released. Also re-checks the session. Returns false when closed.
   */
  heartbeat(): boolean {
    if (this.closed) return false;
    if (!this.alive) {
      this.close();
      return false;
    }
    const s = this.deps.lookupSession(this.sessionId);
    if (s.state !== 'valid') {
      this.signOut({ kind: 'session_expired' });
      return false;
    }
    this.alive = false;
    this.ws.ping();
    return true;
  }

  /** Ends every tile with `cause`; tells the page the session is over and closes the socket. */
  signOut(cause: EndCause): void {
    if (this.closed) return;
    this.endTiles(cause);
    this.send({ type: 'signed-out', cause, reason: describeCause(cause) });
    this.ws.close(CLOSE_SIGNED_OUT, describeCause(cause).slice(0, 100));
    this.close(cause);
  }

  /** Closes the socket, ending every tile's view with `cause` (default: the viewer left). Idempotent. */
  close(cause: EndCause = { kind: 'viewer_left' }): void {
    if (this.closed) return;
    this.endTiles(cause);
    this.closed = true;
    if (this.ws.readyState !== this.ws.CLOSING && this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    else setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private endTiles(cause: EndCause): void {
    for (const tile of [...this.tiles.keys()]) this.release(tile, cause);
  }

  private principal(): Principal | undefined {
    const s = this.deps.lookupSession(this.sessionId);
    return s.state === 'valid' ? s.principal : undefined;
  }

  private onMessage(data: Buffer): void {
    if (this.closed) return;
    if (!this.takeBudget()) {
      this.error(undefined, 'RATE_LIMITED', 'too many messages; slow down');
      return;
    }
    const req = parseViewerRequest(data);
    if (typeof req === 'string') {
      this.error(undefined, 'BAD_MESSAGE', req);
      return;
    }
    const s = this.deps.lookupSession(this.sessionId);
    if (s.state !== 'valid') {
      this.error('tile' in req ? req.tile : undefined, s.state === 'expired' ? 'SESSION_EXPIRED' : 'UNAUTHORIZED', 'sign in again');
      this.signOut({ kind: 'session_expired' });
      return;
    }
    this.handle(req, s.principal).catch((err: unknown) => {
      const e = err instanceof AppError ? err : undefined;
      if (!e) this.deps.log.error({ err }, 'viewer request failed');
      this.error(req.tile, (e?.code as ViewerErrorCode | undefined) ?? 'INTERNAL', e?.message ?? 'internal error');
    });
  }

  private async handle(req: ViewerRequest, principal: Principal): Promise<void> {
    switch (req.type) {
      case 'watch':
        return this.watch(req.tile, req.cameraId, principal, req.profile, req.transport ?? 'webrtc');
      case 'answer': {
        const entry = this.tiles.get(req.tile);
        if (!entry || entry.state !== 'offered') throw new AppError('NO_OFFER', 'no offer pending for this tile', 409);
        // Re-checked at every signalling step: access withdrawn since the offer ends the view here.
        const decision = this.decide(principal, entry.view.camera);
        if (!decision.allowed) {
          this.refused(principal, entry.view.camera.id, entry.view.camera.schoolId, decision);
          this.release(req.tile, { kind: 'access_revoked' }, true);
          return;
        }
        clearTimeout(entry.answerTimer);
        this.tiles.set(req.tile, { state: 'live', view: entry.view, answerTimer: undefined });
        await entry.view.lease.accept(req.sdp);
        return;
      }
      case 'unwatch':
        this.release(req.tile, { kind: 'viewer_left' });
        return;
      default:
        unreachable(req);
    }
  }

  private async watch(tile: string, cameraId: string, principal: Principal, profile: 'main' | 'sub' | undefined, transport: 'webrtc' | 'mse'): Promise<void> {
    // A running view this tile replaces frees its slot; one still starting holds it until it settles.
    const current = this.tiles.get(tile);
    const freed = current && current.state !== 'starting' ? 1 : 0;
    if (this.liveTiles() - freed + this.inFlight >= this.deps.limits.tilesPerSocket) {
      throw new AppError('TOO_MANY_TILES', `at most ${this.deps.limits.tilesPerSocket} tiles per page`, 429);
    }
    this.release(tile, { kind: 'viewer_left' });
    const camera = this.deps.cameras.get(cameraId);
    const target = camera && { schoolId: camera.schoolId, cameraId: camera.id };
    const decision = this.deps.policy.decide(principal, 'camera.view', target);
    if (!decision.allowed || !camera) {
      this.refused(principal, cameraId, camera?.schoolId, decision);
      const code = decision.allowed ? 'NOT_FOUND' : decision.code;
      this.error(tile, code, code === 'NOT_FOUND' ? 'camera not found' : 'this account may not watch this camera live');
      return;
    }
    const entry: TileEntry = { state: 'starting', cancelled: false };
    this.tiles.set(tile, entry);
    this.inFlight++;
    const owner = { userId: principal.userId, sessionId: principal.sessionId, username: principal.username, role: principal.role, orgId: principal.orgId, address: this.address };
    const viewed = { id: camera.id, gatewayId: camera.gatewayId, schoolId: camera.schoolId };
    let view: LiveView | LiveView<TapLease>;
    try {
      view = transport === 'mse' ? await this.deps.liveViews.openTap(owner, viewed, decision.basis, 'mse') : await this.deps.liveViews.open(owner, viewed, decision.basis, profile);
    } catch (err) {
      if (this.tiles.get(tile) === entry) this.tiles.delete(tile);
      throw err;
    } finally {
      this.inFlight--;
    }
    // The tile may have been re-used or closed (or the socket gone) while the view started.
    if (this.closed || entry.cancelled || this.tiles.get(tile) !== entry) {
      view.end({ kind: 'viewer_left' });
      return;
    }
    if (view.transport === 'mse') this.startMse(tile, view as LiveView<TapLease>);
    else this.offer(tile, view as LiveView);
    view.onEnd((cause) => {
      const current = this.tiles.get(tile);
      if (current && current.state !== 'starting' && current.view === view) {
        if (current.state === 'mse') current.stream.close();
        else clearTimeout(current.answerTimer);
        this.tiles.delete(tile);
        this.send({ type: 'ended', tile, cause, reason: describeCause(cause) });
      }
    });
  }

  /** The tile's video as fMP4 on this socket: an `mse` event before each init segment, then binary frames. */
  private startMse(tile: string, view: LiveView<TapLease>): void {
    const stream = new MseStream(
      view.lease,
      {
        codec: (codec) => this.send({ type: 'mse', tile, codec }),
        segment: (bytes) => this.sendBinary(encodeMseFrame(tile, bytes)),
        buffered: () => this.ws.bufferedAmount,
      },
      this.deps.log,
    );
    this.tiles.set(tile, { state: 'mse', view, stream });
  }

  private offer(tile: string, view: LiveView): void {
    const answerTimer = setTimeout(() => {
      const current = this.tiles.get(tile);
      if (current?.state === 'offered' && current.view === view) this.release(tile, { kind: 'answer_timeout' }, true);
    }, this.deps.limits.answerTimeoutMs);
    this.tiles.set(tile, { state: 'offered', view, answerTimer });
    this.send({ type: 'offer', tile, sdp: view.lease.offer });
  }

  private decide(principal: Principal, camera: { id: string; schoolId: string }): Decision {
    return this.deps.policy.decide(principal, 'camera.view', { schoolId: camera.schoolId, cameraId: camera.id });
  }

  private refused(principal: Principal, cameraId: string, schoolId: string | undefined, decision: Decision): void {
    const code = decision.allowed ? 'NOT_FOUND' : decision.code;
    const reason = decision.allowed ? 'unknown_resource' : decision.reason;
    this.deps.onRefused(code);
    this.deps.audit.record({
      kind: 'access.refused',
      outcome: 'refused',
      actor: principal,
      address: this.address,
      cameraId: cameraId.slice(0, 300),
      schoolId,
      target: 'viewer.watch',
      detail: { code, reason },
    });
  }

  /** Ends a tile's view. `notify` tells the page (when the centre, not the page, ended it). */
  private release(tile: string, cause: EndCause, notify = false): void {
    const entry = this.tiles.get(tile);
    if (!entry) return;
    this.tiles.delete(tile);
    if (entry.state === 'starting') {
      entry.cancelled = true;
      return;
    }
    if (entry.state === 'mse') entry.stream.close();
    else clearTimeout(entry.answerTimer);
    entry.view.end(cause);
    if (notify) this.send({ type: 'ended', tile, cause, reason: describeCause(cause) });
  }

  private liveTiles(): number {
    let n = 0;
    for (const e of this.tiles.values()) if (e.state !== 'starting') n++;
    return n;
  }

  private takeBudget(): boolean {
    const now = Date.now();
    this.budget = Math.min(MESSAGES_PER_SECOND, this.budget + ((now - this.budgetAt) / 1000) * MESSAGES_PER_SECOND);
    this.budgetAt = now;
    if (this.budget < 1) return false;
    this.budget -= 1;
    return true;
  }

  private error(tile: string | undefined, code: ViewerErrorCode, message: string): void {
    this.send({ type: 'error', ...(tile ? { tile } : {}), code, message });
  }

  private send(ev: ViewerEvent): void {
    if (this.writable()) this.ws.send(JSON.stringify(ev));
  }

  private sendBinary(frame: Uint8Array): void {
    if (this.writable()) this.ws.send(frame);
  }

  private writable(): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > HARD_BUFFER_BYTES) {
      // The browser stopped reading: drop it rather than queue without bound.
      this.deps.log.warn({ buffered: this.ws.bufferedAmount }, 'viewer socket not reading; closing it');
      this.close();
      return false;
    }
    return true;
  }
}
