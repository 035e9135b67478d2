import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { AccessPolicy } from '../../src/access/policy';
import { AccessRevocations } from '../../src/access/revocation';
import type { Principal } from '../../src/access/principal';
import type { SessionLookup } from '../../src/auth/session-service';
import type { GrantView } from '../../src/grants/grant-view';
import { LiveViews } from '../../src/viewer/live-views';
import { ViewerHub } from '../../src/viewer/viewer-hub';
import { FakeAudit, FakeFanout, FakeSocket, silent } from './fakes';

afterEach(() => vi.useRealTimers());

function hub(): { hub: ViewerHub; revocations: AccessRevocations } {
  const principal = { userId: 'u1', username: 'operator', role: 'operator' as const, orgId: 'kvk', sessionId: 's1' };
  const session: SessionLookup = { state: 'valid', principal, session: { id: 's1', userId: 'u1', csrfToken: 'x', address: null, createdAt: 0, lastSeenAt: 0, expiresAt: 0 } };
  const audit = new FakeAudit();
  const liveViews = new LiveViews(new FakeFanout(), audit, { perUser: 10, total: 10 }, silent);
  const revocations = new AccessRevocations();
  const h = new ViewerHub(
    { liveViews, policy: new AccessPolicy(), cameras: { get: () => undefined, list: () => [] }, openAlarms: () => [], audit, lookupSession: () => session, onRefused: () => undefined, limits: { tilesPerSocket: 4, answerTimeoutMs: 1000 }, log: silent },
    liveViews,
    revocations,
    { pushIntervalMs: 250, heartbeatMs: 60_000 },
  );
  return { hub: h, revocations };
}

describe('viewer hub', () => {
  it('coalesces a burst of camera changes into at most one push per interval per socket', async () => {
    vi.useFakeTimers();
    const { hub: h } = hub();
    const sockets = [new FakeSocket(), new FakeSocket()];
    for (const s of sockets) h.accept(s as unknown as WebSocket, 's1', 'u1', '10.0.0.1');
    for (let i = 0; i < 50; i++) h.camerasChanged();
    await vi.advanceTimersByTimeAsync(300);
    for (let i = 0; i < 50; i++) h.camerasChanged();
    await vi.advanceTimersByTimeAsync(300);
    for (const s of sockets) expect(s.ofType('cameras')).toHaveLength(3); // on accept, then one per burst
    h.close();
  });

  it('closes the sockets of a session that signed out, and only those', () => {
    const { hub: h, revocations } = hub();
    const mine = new FakeSocket();
    const other = new FakeSocket();
    h.accept(mine as unknown as WebSocket, 's1', 'u1', '10.0.0.1');
    h.accept(other as unknown as WebSocket, 's2', 'u2', '10.0.0.2');
    revocations.revoke({ session: 's1' }, { kind: 'logout' });
    expect(mine.closedWith).toBe(4401);
    expect(other.closedWith).toBeUndefined();
    expect(h.size).toBe(1);
    h.close();
  });

  it('pushes a grant change only to the sockets whose account is in its audience, judged on the live session', () => {
    const principals: Record<string, Principal> = {
      s1: { userId: 'u1', username: 'police-sokolov', role: 'police', orgId: 'mp-sokolov', sessionId: 's1' },
      s2: { userId: 'u2', username: 'police-cheb', role: 'police', orgId: 'mp-cheb', sessionId: 's2' },
    };
    const lookup = (id: string): SessionLookup =>
      principals[id] ? { state: 'valid', principal: principals[id], session: { id, userId: principals[id].userId, csrfToken: 'x', address: null, createdAt: 0, lastSeenAt: 0, expiresAt: 0 } } : { state: 'absent' };
    const audit = new FakeAudit();
    const liveViews = new LiveViews(new FakeFanout(), audit, { perUser: 10, total: 10 }, silent);
    const h = new ViewerHub(
      { liveViews, policy: new AccessPolicy(), cameras: { get: () => undefined, list: () => [] }, audit, lookupSession: lookup, openAlarms: () => [], onRefused: () => undefined, limits: { tilesPerSocket: 4, answerTimeoutMs: 1000 }, log: silent },
      liveViews,
      new AccessRevocations(),
      { heartbeatMs: 60_000 },
    );
    const sokolov = new FakeSocket();
    const cheb = new FakeSocket();
    h.accept(sokolov as unknown as WebSocket, 's1', 'u1', '10.0.0.1');
    h.accept(cheb as unknown as WebSocket, 's2', 'u2', '10.0.0.2');
    const grant = { id: 'g1', forceId: 'mp-sokolov' } as unknown as GrantView;
    h.push({ type: 'grant', change: 'emergency', grant }, (p) => p.orgId === 'mp-sokolov');
    expect(sokolov.ofType('grant')).toEqual([{ type: 'grant', change: 'emergency', grant }]);
    expect(cheb.ofType('grant')).toEqual([]);
    delete principals.s1; // signed out meanwhile: nothing more reaches that socket
    h.push({ type: 'grant', change: 'ended', grant }, () => true);
    expect(sokolov.ofType('grant')).toHaveLength(1);
    expect(cheb.ofType('grant')).toHaveLength(1);
    h.close();
  });
});
