import { computed, signal } from '@preact/signals';
import type { SessionBody } from '../../../auth/auth-schemas';
import type { CameraView } from '../../../cameras/camera-view';
import type { OrgView } from '../../../orgs/org-routes';
import { api } from '../api';
import { ended, onSessionChange, resumeSession } from '../session';
import { applyAlarm, clearAlarms, setOpenAlarms } from './alarms';
import { applyGrant, clearGrants, grants, loadGrants } from './grants';
import { ViewerSocket } from './viewer-socket';

/**
 * What the signed-in page knows of the region, kept live: the cameras the account may see
 * (pushed by the centre on every change) and the organisations. Everything is dropped at
 * sign-out.
 */
export const cameras = signal<CameraView[]>([]);
/** Whether the centre has sent this account's camera list yet. */
export const camerasReceived = signal(false);
export const orgs = signal<OrgView[]>([]);
/** The page's viewer socket while signed in. */
export const socket = signal<ViewerSocket | null>(null);

export const orgById = computed(() => new Map(orgs.value.map((o) => [o.id, o])));
/** Names of organisations this account cannot list but its grants name (a police officer's schools, school IT's force). */
const grantOrgNames = computed(() => new Map(grants.value.flatMap((g) => Object.entries(g.names))));
export const liveCameras = computed(() => cameras.value.filter((c) => c.live));

export function orgName(id: string | null | undefined): string {
  if (!id) return '';
  return orgById.value.get(id)?.name ?? grantOrgNames.value.get(id) ?? id;
}

export async function reloadOrgs(): Promise<void> {
  const body = await api<{ orgs: OrgView[] }>('GET', '/api/orgs');
  orgs.value = body.orgs;
}

function start(): void {
  const s = new ViewerSocket({
    event: (ev) => {
      switch (ev.type) {
        case 'cameras':
          cameras.value = ev.cameras;
          camerasReceived.value = true;
          return;
        case 'alarms':
          setOpenAlarms(ev.alarms);
          return;
        case 'alarm':
          applyAlarm(ev.change, ev.alarm);
          return;
        case 'grant':
          applyGrant(ev.change, ev.grant);
          return;
        case 'signed-out':
          ended(ev.cause.kind === 'logout' ? { key: 'login.signedOut' } : ev.cause.kind === 'session_expired' ? { key: 'login.expired' } : { key: 'login.ended', vars: { reason: ev.reason } });
          return;
        case 'error':
          return;
        case 'offer':
        case 'ended':
          return; // for tiles that are gone: nothing to do
      }
    },
    lost: (signedOut) => {
      // The socket closed for good (session over) or could not open: ask the centre who we are.
      void resumeSession().then((r) => {
        if (r === 'signed-in' && !signedOut) socket.value?.retryNow();
      });
    },
  });
  socket.value = s;
  // The grants list on every (re)connect; changes come pushed on the socket after that.
  s.onOpen(() => void loadGrants().catch(() => undefined));
  void reloadOrgs().catch(() => undefined);
}

function stop(): void {
  socket.value?.close();
  socket.value = null;
  cameras.value = [];
  camerasReceived.value = false;
  clearAlarms();
  clearGrants();
  orgs.value = [];
}

onSessionChange((s: SessionBody | null) => {
  stop();
  if (s) start();
});
