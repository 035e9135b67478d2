import { describe, expect, it } from 'vitest';
import { LiveViews, type ViewOwner } from '../../src/viewer/live-views';
import { FakeAudit, FakeFanout, flush, silent } from './fakes';

const owner = (userId: string, sessionId = `s-${userId}`): ViewOwner => ({ userId, sessionId, username: userId, role: 'operator', orgId: 'kvk', address: '10.0.0.1' });
const cam = (id: string, gatewayId = 'gw-a', schoolId = 'zs-sokolov') => ({ id: `${gatewayId}:${id}`, gatewayId, schoolId });
const ROLE = { kind: 'role' } as const;

function setup(limits = { perUser: 3, total: 5 }): { views: LiveViews; fanout: FakeFanout; audit: FakeAudit; clock: { t: number } } {
  const fanout = new FakeFanout();
  const audit = new FakeAudit();
  const clock = { t: 1000 };
  return { views: new LiveViews(fanout, audit, limits, silent, () => undefined, () => clock.t), fanout, audit, clock };
}

describe('live views', () => {
  it('audits the start before any media moves, and the stop with the duration and a typed cause', async () => {
    const { views, fanout, audit, clock } = setup();
    const view = await views.open(owner('u1'), cam('c1'), ROLE);
    expect(audit.kinds()).toEqual(['view.start']);
    expect(fanout.calls).toHaveLength(1);
    clock.t += 4200;
    view.end({ kind: 'viewer_left' });
    view.end({ kind: 'logout' }); // once only
    expect(audit.entries[1]).toMatchObject({ kind: 'view.stop', actor: { username: 'u1' }, address: '10.0.0.1', cameraId: 'gw-a:c1', schoolId: 'zs-sokolov', detail: { durationMs: 4200, cause: 'viewer_left' } });
    expect(audit.entries).toHaveLength(2);
    expect(fanout.calls[0].lease.released).toBe(1);
  });

  it('runs a raw-tap view (MSE, RTSP) under the same audit, caps and grant cut as a WebRTC one, and names its transport', async () => {
    const { views, fanout, audit } = setup({ perUser: 2, total: 5 });
    const web = await views.open(owner('u1'), cam('c1'), ROLE);
    const mse = await views.openTap(owner('u1'), cam('c2'), { kind: 'grant', grantId: 'g-1' }, 'mse');
    await expect(views.openTap(owner('u1'), cam('c3'), ROLE, 'rtsp')).rejects.toMatchObject({ code: 'TOO_MANY_VIEWERS' });
    expect(fanout.taps.map((t) => t.cameraId)).toEqual(['gw-a:c2']);
    expect(views.list().map((v) => v.transport)).toEqual(['webrtc', 'mse']);
    expect(audit.entries[1]).toMatchObject({ kind: 'view.start', cameraId: 'gw-a:c2', detail: { transport: 'mse', basis: { kind: 'grant', grantId: 'g-1' } } });
    expect(views.cut({ grant: 'g-1' }, { kind: 'access_revoked', grantId: 'g-1' })).toBe(1);
    expect(mse.isEnded).toBe(true);
    expect(web.isEnded).toBe(false);
    expect(fanout.taps[0].lease.released).toBe(1);
    expect(audit.entries.at(-1)).toMatchObject({ kind: 'view.stop', cameraId: 'gw-a:c2', detail: { cause: 'access_revoked', grantId: 'g-1' } });
  });

  it('fails closed: when the start cannot be audited, the fan-out is never asked', async () => {
    const { views, fanout, audit } = setup();
    audit.failing = true;
    await expect(views.open(owner('u1'), cam('c1'), ROLE)).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(fanout.calls).toHaveLength(0);
    expect(views.size).toBe(0);
  });

  it('holds the per-account and global caps, counting views still starting', async () => {
    const { views, fanout } = setup({ perUser: 2, total: 3 });
    fanout.auto = false;
    const a = views.open(owner('u1'), cam('c1'), ROLE);
    const b = views.open(owner('u1'), cam('c2'), ROLE);
    await expect(views.open(owner('u1'), cam('c3'), ROLE)).rejects.toMatchObject({ code: 'TOO_MANY_VIEWERS' });
    const c = views.open(owner('u2'), cam('c1'), ROLE);
    await expect(views.open(owner('u3'), cam('c1'), ROLE)).rejects.toMatchObject({ code: 'TOO_MANY_VIEWERS' });
    for (const call of fanout.calls) call.resolve(call.lease);
    await Promise.all([a, b, c]);
    expect(views.size).toBe(3);
  });

  it('cuts by session, user, gateway or grant with the cause given, and audits each cut', async () => {
    const { views, audit } = setup({ perUser: 10, total: 10 });
    const v1 = await views.open(owner('u1', 's1'), cam('c1', 'gw-a'), ROLE);
    const v2 = await views.open(owner('u1', 's2'), cam('c2', 'gw-b'), ROLE);
    const v3 = await views.open(owner('u2', 's3'), cam('c3', 'gw-a'), { kind: 'grant', grantId: 'g-7' });
    const causes: string[] = [];
    for (const v of [v1, v2, v3]) v.onEnd((c) => causes.push(`${v.camera.id}:${c.kind}`));
    expect(views.cut({ session: 's1' }, { kind: 'logout' })).toBe(1);
    expect(views.cut({ grant: 'g-7' }, { kind: 'access_revoked', grantId: 'g-7' })).toBe(1);
    expect(views.cut({ gateway: 'gw-b' }, { kind: 'gateway_revoked', gatewayId: 'gw-b' })).toBe(1);
    expect(views.cut({ user: 'u1' }, { kind: 'user_disabled' })).toBe(0);
    expect(causes).toEqual(['gw-a:c1:logout', 'gw-a:c3:access_revoked', 'gw-b:c2:gateway_revoked']);
    const stops = audit.entries.filter((e) => e.kind === 'view.stop').map((e) => e.detail);
    expect(stops).toEqual([
      expect.objectContaining({ cause: 'logout' }),
      expect.objectContaining({ cause: 'access_revoked', grantId: 'g-7' }),
      expect.objectContaining({ cause: 'gateway_revoked' }),
    ]);
    expect(views.size).toBe(0);
  });

  it('cuts a view that was still starting when its access was withdrawn: it never reaches the viewer', async () => {
    const { views, fanout, audit } = setup();
    fanout.auto = false;
    const starting = views.open(owner('u1', 's1'), cam('c1'), ROLE);
    await flush();
    expect(views.cut({ session: 's1' }, { kind: 'logout' })).toBe(1);
    fanout.calls[0].resolve(fanout.calls[0].lease);
    await expect(starting).rejects.toMatchObject({ code: 'STREAM_ENDED' });
    expect(fanout.calls[0].lease.released).toBe(1);
    expect(audit.kinds()).toEqual(['view.start', 'view.stop']);
  });

  it('ends a view when its stream ends under it, and records a failed start', async () => {
    const { views, fanout, audit } = setup();
    const view = await views.open(owner('u1'), cam('c1'), ROLE);
    let cause: unknown;
    view.onEnd((c) => (cause = c));
    fanout.calls[0].lease.endFromFeed('gateway offline');
    expect(cause).toEqual({ kind: 'stream_ended', detail: 'gateway offline' });
    fanout.auto = false;
    const failing = views.open(owner('u1'), cam('c2'), ROLE);
    await flush();
    fanout.calls[1].reject(new Error('the school gateway of this camera is offline'));
    await expect(failing).rejects.toThrow(/offline/);
    expect(audit.entries.at(-1)).toMatchObject({ kind: 'view.stop', outcome: 'failed', detail: { cause: 'start_failed' } });
  });
});
