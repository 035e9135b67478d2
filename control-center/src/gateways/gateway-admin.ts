import { randomBytes } from 'node:crypto';
import type { Principal } from '../access/principal';
import type { AccessRevocations } from '../access/revocation';
import type { AuditLog } from '../audit/audit-log';
import { hashSecret } from '../auth/secret-hash';
import { AppError, badRequest, conflict, notFound } from '../errors';
import type { CameraStore } from '../storage/camera-store';
import { type GatewayRecord, type GatewayStore, tokenHash } from '../storage/gateway-store';
import type { OrgStore } from '../storage/org-store';

/** What revoking needs of the gateway link: drop a gateway's connection now. */
export interface GatewayLinkControl {
  disconnect(gatewayId: string, reason: string): void;
  isOnline(gatewayId: string): boolean;
}

export type GatewayState = 'awaiting_enrolment' | 'enrolment_expired' | 'enrolled' | 'revoked';

export function gatewayState(g: GatewayRecord, now = Date.now()): GatewayState {
  if (g.revokedAt !== null) return 'revoked';
  if (g.enrolledAt !== null) return 'enrolled';
  return g.enrolmentExpiresAt !== null && g.enrolmentExpiresAt > now ? 'awaiting_enrolment' : 'enrolment_expired';
}

/**
 * Gateway lifecycle: an admin creates a gateway for a school and gets a one-time enrolment
 * token; the gateway exchanges the token for its long-lived secret (the token then stops
 * working); an admin can revoke the gateway, which cuts its link and its viewers at once
 * and keeps it out for good.
 */
export class GatewayAdmin {
  constructor(
    private readonly gateways: GatewayStore,
    private readonly orgs: OrgStore,
    private readonly cameras: CameraStore,
    private readonly link: GatewayLinkControl,
    private readonly revocations: AccessRevocations,
    private readonly audit: AuditLog,
    private readonly tokenLifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(by: Principal, address: string, g: { id?: string; schoolId: string; name: string }): { gateway: GatewayRecord; token: string; expiresAt: number } {
    const school = this.orgs.get(g.schoolId);
    if (school?.kind !== 'school') throw badRequest(`${g.schoolId} is not a school`);
    const id = g.id ?? `gw-${randomBytes(6).toString('hex')}`;
    if (this.gateways.get(id)) throw conflict(`gateway ${id} exists`);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.tokenLifetimeMs;
    this.audit.append({ kind: 'gateway.create', outcome: 'ok', actor: by, address, schoolId: g.schoolId, target: id, detail: { name: g.name, enrolmentExpiresAt: expiresAt } });
    if (!this.gateways.create({ id, schoolId: g.schoolId, name: g.name, enrolmentHash: tokenHash(token), enrolmentExpiresAt: expiresAt }, this.now())) {
      throw conflict(`gateway ${id} exists`);
    }
    return { gateway: this.gateways.get(id)!, token, expiresAt };
  }

  /** Exchanges a one-time token for the gateway's secret. The same answer for an unknown, used or expired token. */
  async enrol(token: string, address: string): Promise<{ gatewayId: string; schoolId: string; secret: string }> {
    const secret = randomBytes(32).toString('base64url');
    const hash = await hashSecret(secret);
    const gateway = this.gateways.redeem(tokenHash(token), hash, this.now());
    if (!gateway) {
      this.audit.record({ kind: 'gateway.enrol', outcome: 'refused', address, detail: { reason: 'unknown_used_or_expired_token' } });
      throw new AppError('UNAUTHORIZED', 'enrolment token unknown, already used or expired: ask an administrator for a new gateway', 401);
    }
    this.audit.record({ kind: 'gateway.enrol', outcome: 'ok', address, schoolId: gateway.schoolId, target: gateway.id });
    return { gatewayId: gateway.id, schoolId: gateway.schoolId, secret };
  }

  revoke(by: Principal, address: string, id: string): GatewayRecord {
    const gateway = this.gateways.get(id);
    if (!gateway) throw notFound('gateway');
    if (gateway.revokedAt !== null) return gateway;
    this.audit.append({ kind: 'gateway.revoke', outcome: 'ok', actor: by, address, schoolId: gateway.schoolId, target: id });
    this.gateways.revoke(id, this.now());
    // Viewers first, so their views end (and are audited) as revoked, not as a dropped link.
    this.revocations.revoke({ gateway: id }, { kind: 'gateway_revoked', gatewayId: id });
    this.link.disconnect(id, 'gateway revoked');
    this.cameras.markGatewayOffline(id, 'gateway revoked');
    return this.gateways.get(id)!;
  }
}
