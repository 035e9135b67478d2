import type { AccessBasis, AccessPolicy } from '../access/policy';
import type { LiveViewInfo } from '../viewer/live-views';

/**
 * Overlapping grants. When the grant a live view runs under ends, the view is not cut if another
 * active grant still covers its camera for the same account: it continues under that grant.
 * The policy decides, exactly as it would for a new request now (the ended grant is already
 * forgotten), so the view is cut only when nothing covers it any more.
 *
 * RTSP re-export sessions never continue: a police video system authenticated with the ended
 * grant's own credentials, which stop working with it. It reconnects with the credentials of
 * the grant that still runs.
 */
export function continuingBasis(policy: AccessPolicy, view: LiveViewInfo): AccessBasis | undefined {
  if (view.transport === 'rtsp') return undefined;
  const { owner, camera } = view;
  const decision = policy.decide(
    { userId: owner.userId, username: owner.username, role: owner.role, orgId: owner.orgId, sessionId: owner.sessionId },
    'camera.view',
    { schoolId: camera.schoolId, cameraId: camera.id },
  );
  return decision.allowed ? decision.basis : undefined;
}
