import { computed, signal } from '@preact/signals';
import type { CreateGrantBody, CreatedGrant } from '../../../grants/grant-routes';
import type { GrantChange } from '../../../grants/grant-service';
import type { GrantView } from '../../../grants/grant-view';
import type { WatcherView } from '../../../viewer/watching-routes';
import { api } from '../api';

/**
 * The grants (police sharing) the account may see, kept live: loaded when the viewer socket
 * opens, then every change the centre pushes (`{type:'grant'}`: created, active, ended,
 * emergency, extended). The centre decides who sees which grant; the page only shows them.
 */
export const grants = signal<GrantView[]>([]);

/** Why the last police view was cut or the last emergency was raised: stays on screen until replaced. */
export const grantNotice = signal<{ key: 'expired' | 'revoked' | 'emergency'; caseRef: string; schoolIds: string[]; forceId: string } | null>(null);

/** Grants that are running or waiting (approval, a police request), soonest expiry first. */
export const openGrants = computed(() =>
  grants.value.filter((g) => g.state === 'active' || g.state === 'pending' || g.state === 'requested').sort((a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity)),
);
export const activeGrants = computed(() => openGrants.value.filter((g) => g.state === 'active'));

/** Grants that ended while this page was open (their tiles say why). */
export const endedGrants = computed(() => grants.value.filter((g) => (g.state === 'expired' || g.state === 'revoked') && g.endedAt !== null && g.endedAt >= openedAt));
const openedAt = Date.now();

/** The case reference of the active grant covering a camera, if any. */
export function caseRefFor(cameraId: string): string | undefined {
  return activeGrants.value.find((g) => g.cameraIds.includes(cameraId))?.caseRef;
}

export async function loadGrants(): Promise<void> {
  const fresh = (await api<{ grants: GrantView[] }>('GET', '/api/grants')).grants;
  // A push that came while the list was on its way is newer than the list.
  const known = new Map(grants.value.map((g) => [g.id, g]));
  grants.value = fresh.map((g) => known.get(g.id) ?? g).concat(grants.value.filter((g) => !fresh.some((f) => f.id === g.id)));
}

/** The socket's `grant` event. */
export function applyGrant(change: GrantChange, grant: GrantView): void {
  grants.value = [...grants.value.filter((g) => g.id !== grant.id), grant];
  if (change === 'ended' && (grant.state === 'expired' || grant.state === 'revoked')) {
    grantNotice.value = { key: grant.state, caseRef: grant.caseRef, schoolIds: grant.schoolIds, forceId: grant.forceId };
  } else if (change === 'emergency') {
    grantNotice.value = { key: 'emergency', caseRef: grant.caseRef, schoolIds: grant.schoolIds, forceId: grant.forceId };
  }
}

export function clearGrants(): void {
  grants.value = [];
  grantNotice.value = null;
}

/** Stores an answer of the centre about one grant (the push follows, and says the same). */
function remember(g: GrantView): GrantView {
  grants.value = [...grants.value.filter((x) => x.id !== g.id), g];
  return g;
}

const path = (id: string, action: string): string => `/api/grants/${encodeURIComponent(id)}/${action}`;

export async function createGrant(body: CreateGrantBody): Promise<CreatedGrant> {
  const created = await api<CreatedGrant>('POST', '/api/grants', body);
  const { rtsp: _rtsp, ...view } = created;
  remember(view);
  return created;
}

export const approveGrant = async (id: string): Promise<GrantView> => remember(await api<GrantView>('POST', path(id, 'approve')));
export const revokeGrant = async (id: string): Promise<GrantView> => remember(await api<GrantView>('POST', path(id, 'revoke')));
export const extendGrant = async (id: string, minutes: number, reason: string): Promise<GrantView> => remember(await api<GrantView>('POST', path(id, 'extend'), { minutes, reason }));
export const raiseEmergency = async (schoolId: string, reason?: string): Promise<GrantView> =>
  remember(await api<GrantView>('POST', `/api/schools/${encodeURIComponent(schoolId)}/emergency`, reason ? { reason } : {}));

/** Who is watching a school's cameras, or one camera's, now. */
export async function watchers(of: { schoolId: string } | { cameraId: string }): Promise<WatcherView[]> {
  const url = 'schoolId' in of ? `/api/schools/${encodeURIComponent(of.schoolId)}/viewers` : `/api/cameras/${encodeURIComponent(of.cameraId)}/viewers`;
  return (await api<{ viewers: WatcherView[] }>('GET', url)).viewers;
}
