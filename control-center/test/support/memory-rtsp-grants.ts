import { createHash, randomBytes } from 'node:crypto';
import type { RtspGrantAccess } from '../../src/grants/rtsp-credentials';
import { RTSP_EXPORT_REALM } from '../../src/rtsp-export/rtsp-export-server';

interface Entry {
  grantId: string;
  caseRef: string;
  forceId: string;
  ha1: string;
  cameraIds: readonly string[];
}

/**
 * Grant credentials in memory, for tests of the RTSP re-export (the grant module's store is the
 * real implementation): `issue` a user for a grant, `end` the grant (expired or revoked).
 */
export class MemoryRtspGrants implements RtspGrantAccess {
  private readonly byUser = new Map<string, Entry>();

  issue(grant: { grantId: string; caseRef?: string; forceId?: string; cameraIds: readonly string[] }): { username: string; password: string } {
    const username = `g${randomBytes(6).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    const ha1 = createHash('md5').update(`${username}:${RTSP_EXPORT_REALM}:${password}`).digest('hex');
    this.byUser.set(username, { grantId: grant.grantId, caseRef: grant.caseRef ?? 'KV-2026-001', forceId: grant.forceId ?? 'mp-karlovy-vary', ha1, cameraIds: grant.cameraIds });
    return { username, password };
  }

  /** The grant ended: its users are unknown from now on. */
  end(grantId: string): void {
    for (const [user, e] of this.byUser) if (e.grantId === grantId) this.byUser.delete(user);
  }

  lookup(username: string): Entry | undefined {
    return this.byUser.get(username);
  }
}
