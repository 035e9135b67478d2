import { describe, expect, it } from 'vitest';
import { AccessPolicy, type AccessExtension } from '../../src/access/policy';
import type { Principal, Role } from '../../src/access/principal';

const who = (role: Role, orgId: string): Principal => ({ userId: `u-${role}`, username: role, role, orgId, sessionId: `s-${role}` });
const sokolovCam = { schoolId: 'zs-sokolov', cameraId: 'gw-sok:vchod' };
const chebCam = { schoolId: 'gym-cheb', cameraId: 'gw-cheb:vchod' };

describe('access policy: camera decisions per role', () => {
  const policy = new AccessPolicy();

  it('lets an operator watch every school', () => {
    for (const cam of [sokolovCam, chebCam]) expect(policy.decide(who('operator', 'kvk'), 'camera.view', cam)).toEqual({ allowed: true, basis: { kind: 'role' } });
  });

  it('lets school IT watch its own school and makes every other school\'s camera not exist (NOT_FOUND)', () => {
    const it_ = who('school_it', 'zs-sokolov');
    expect(policy.decide(it_, 'camera.view', sokolovCam).allowed).toBe(true);
    expect(policy.decide(it_, 'camera.view', chebCam)).toEqual({ allowed: false, code: 'NOT_FOUND', reason: 'out_of_scope' });
    expect(policy.decide(it_, 'camera.read', chebCam)).toEqual({ allowed: false, code: 'NOT_FOUND', reason: 'out_of_scope' });
  });

  it('shows admins and auditors camera health but refuses them live video (FORBIDDEN: separation of duties)', () => {
    for (const role of ['admin', 'auditor'] as const) {
      expect(policy.decide(who(role, 'kvk'), 'camera.read', chebCam).allowed).toBe(true);
      expect(policy.decide(who(role, 'kvk'), 'camera.view', chebCam)).toEqual({ allowed: false, code: 'FORBIDDEN', reason: 'role_not_permitted' });
    }
  });

  it('gives police nothing of their own: every camera is NOT_FOUND without a grant', () => {
    const officer = who('police', 'mp-sokolov');
    expect(policy.decide(officer, 'camera.view', sokolovCam)).toEqual({ allowed: false, code: 'NOT_FOUND', reason: 'out_of_scope' });
    expect(policy.filterByScope(officer, [sokolovCam, chebCam])).toEqual([]);
  });

  it('answers NOT_FOUND (unknown_resource) for a camera that does not exist, whatever the role', () => {
    expect(policy.decide(who('operator', 'kvk'), 'camera.view', undefined)).toEqual({ allowed: false, code: 'NOT_FOUND', reason: 'unknown_resource' });
  });

  it('grants role permissions for management to the right roles only', () => {
    expect(policy.permits(who('admin', 'kvk'), 'user.manage').allowed).toBe(true);
    expect(policy.permits(who('admin', 'kvk'), 'audit.read')).toEqual({ allowed: false, code: 'FORBIDDEN', reason: 'role_not_permitted' });
    expect(policy.permits(who('auditor', 'kvk'), 'audit.read').allowed).toBe(true);
    for (const role of ['operator', 'police', 'school_it', 'auditor'] as const) {
      expect(policy.permits(who(role, 'x'), 'gateway.manage').allowed).toBe(false);
      expect(policy.permits(who(role, 'x'), 'user.manage').allowed).toBe(false);
    }
  });
});

describe('access policy: one scope filter for any school-bound record', () => {
  const policy = new AccessPolicy();
  const alarms = [
    { id: 1, schoolId: 'zs-sokolov', cameraId: 'gw-sok:vchod' },
    { id: 2, schoolId: 'gym-cheb', cameraId: 'gw-cheb:vchod' },
    { id: 3, schoolId: 'zs-sokolov' },
  ];

  it('keeps a school IT account to its school and the region\'s roles to everything', () => {
    expect(policy.filterByScope(who('school_it', 'zs-sokolov'), alarms).map((a) => a.id)).toEqual([1, 3]);
    expect(policy.filterByScope(who('operator', 'kvk'), alarms).map((a) => a.id)).toEqual([1, 2, 3]);
  });

  it('shows organisations outside the region\'s roles only along their own lineage', () => {
    const orgs = [{ id: 'kvk' }, { id: 'sokolov' }, { id: 'zs-sokolov' }, { id: 'cheb' }, { id: 'gym-cheb' }];
    expect(policy.visibleOrgs(who('school_it', 'zs-sokolov'), orgs, new Set(['zs-sokolov', 'sokolov', 'kvk'])).map((o) => o.id)).toEqual(['kvk', 'sokolov', 'zs-sokolov']);
    expect(policy.visibleOrgs(who('auditor', 'kvk'), orgs, new Set(['kvk']))).toHaveLength(5);
  });
});

describe('access policy: extensions (police grants) add access with their basis', () => {
  it('allows a police officer one granted camera, with the grant as the basis, and nothing else', () => {
    const policy = new AccessPolicy();
    const grants: AccessExtension = {
      extraAccess: (p) =>
        p.orgId === 'mp-sokolov'
          ? [{ basis: { kind: 'grant', grantId: 'g-1' }, schoolIds: new Set(), cameraIds: new Set(['gw-sok:vchod']), permissions: new Set(['camera.read', 'camera.view'] as const) }]
          : [],
    };
    policy.extend(grants);
    const officer = who('police', 'mp-sokolov');
    expect(policy.decide(officer, 'camera.view', sokolovCam)).toEqual({ allowed: true, basis: { kind: 'grant', grantId: 'g-1' } });
    expect(policy.decide(officer, 'camera.view', chebCam).allowed).toBe(false);
    expect(policy.decide(who('police', 'mp-cheb'), 'camera.view', sokolovCam).allowed).toBe(false);
    expect(policy.filterByScope(officer, [sokolovCam, chebCam])).toEqual([sokolovCam]);
  });

  it('makes a read-only grant FORBIDDEN for live view, not NOT_FOUND', () => {
    const policy = new AccessPolicy();
    policy.extend({
      extraAccess: () => [{ basis: { kind: 'grant', grantId: 'g-2' }, schoolIds: new Set(['gym-cheb']), cameraIds: new Set(), permissions: new Set(['camera.read'] as const) }],
    });
    expect(policy.decide(who('police', 'mp-cheb'), 'camera.view', chebCam)).toEqual({ allowed: false, code: 'FORBIDDEN', reason: 'role_not_permitted' });
  });
});
