import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { AuditInput } from '../../src/audit/audit-log';
import type { AlarmRecord } from '../../src/storage/alarm-store';
import { AppError } from '../../src/errors';
import type { TapLease, TapPacket, ViewerLease } from '../../src/fanout/fanout';
import type { AuditSink, WatchPort } from '../../src/viewer/live-views';

export const silent = pino({ level: 'silent' });

/** A fan-out lease that records what happened to it; `endFromFeed` plays a feed ending under it. */
export class FakeLease implements ViewerLease {
  offer = 'v=0 fake offer';
  released = 0;
  answers: string[] = [];
  private ended: ((reason: string) => void)[] = [];
  accept(sdp: string): Promise<void> {
    this.answers.push(sdp);
    return Promise.resolve();
  }
  release(): void {
    this.released++;
  }
  onEnded(cb: (reason: string) => void): void {
    this.ended.push(cb);
  }
  endFromFeed(reason: string): void {
    for (const cb of this.ended) cb(reason);
  }
}

/** A raw tap that records what happened to it; `deliver` plays packets arriving, `endFromFeed` the feed ending. */
export class FakeTapLease implements TapLease {
  released = 0;
  keyframeRequests = 0;
  private sink: ((packets: TapPacket[], replay: boolean) => void) | undefined;
  private ended: ((reason: string) => void)[] = [];
  onPackets(cb: (packets: TapPacket[], replay: boolean) => void): void {
    this.sink = cb;
  }
  requestKeyframe(): void {
    this.keyframeRequests++;
  }
  release(): void {
    this.released++;
  }
  onEnded(cb: (reason: string) => void): void {
    this.ended.push(cb);
  }
  deliver(packets: TapPacket[], replay = false): void {
    this.sink?.(packets, replay);
  }
  endFromFeed(reason: string): void {
    for (const cb of this.ended) cb(reason);
  }
}

/** A fan-out whose `watch` calls wait until the test settles them. */
export class FakeFanout implements WatchPort {
  readonly calls: { cameraId: string; gatewayId: string; resolve: (l: FakeLease) => void; reject: (e: Error) => void; lease: FakeLease }[] = [];
  /** Settle watches at once (default) or leave them pending. */
  auto = true;
  watch(cameraId: string, gatewayId: string): Promise<ViewerLease> {
    return new Promise((resolve, reject) => {
      const lease = new FakeLease();
      this.calls.push({ cameraId, gatewayId, resolve, reject, lease });
      if (this.auto) resolve(lease);
    });
  }
  readonly taps: { cameraId: string; gatewayId: string; lease: FakeTapLease }[] = [];
  tap(cameraId: string, gatewayId: string): TapLease {
    const lease = new FakeTapLease();
    this.taps.push({ cameraId, gatewayId, lease });
    return lease;
  }
}

/** An audit log in memory; `failing` makes `append` throw as the real one does when it cannot write. */
export class FakeAudit implements AuditSink {
  readonly entries: AuditInput[] = [];
  failing = false;
  append(entry: AuditInput): unknown {
    if (this.failing) throw new AppError('AUDIT_UNAVAILABLE', 'cannot write', 503);
    this.entries.push(entry);
    return entry;
  }
  record(entry: AuditInput): boolean {
    if (this.failing) return false;
    this.entries.push(entry);
    return true;
  }
  kinds(): string[] {
    return this.entries.map((e) => e.kind);
  }
}

/** The parts of a `ws` WebSocket a viewer session uses. */
export class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Record<string, unknown>[] = [];
  /** Binary frames (the MSE transport's fMP4). */
  readonly binary: Uint8Array[] = [];
  pings = 0;
  closedWith: number | undefined;
  terminated = false;
  send(data: string | Uint8Array): void {
    if (typeof data === 'string') this.sent.push(JSON.parse(data) as Record<string, unknown>);
    else this.binary.push(data);
  }
  ping(): void {
    this.pings++;
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = this.CLOSING;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = this.CLOSED;
    this.emit('close');
  }
  /** The browser sends a frame. */
  receive(msg: unknown): void {
    this.emit('message', Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg)));
  }
  ofType(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type);
  }
}

export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** An open motion alarm on gw-sok:vchod at 1000 ms, with any field replaced. */
export const alarmRecord = (id: string, fields: Partial<AlarmRecord> = {}): AlarmRecord => ({
  id,
  kind: 'motion',
  gatewayId: 'gw-sok',
  cameraId: 'gw-sok:vchod',
  schoolId: 'zs-sokolov',
  raisedAt: 1000,
  receivedAt: 1000,
  lastAt: 1000,
  occurrences: 1,
  active: true,
  clearedAt: null,
  reason: null,
  ackedBy: null,
  ackedAt: null,
  ackNote: null,
  ...fields,
});
