import { signal } from '@preact/signals';
import type { SessionBody } from '../../auth/auth-schemas';
import type { Prefs } from '../../prefs/prefs-schemas';
import { ApiError, api, onUnauthorized, setCsrfToken } from './api';
import { type StringKey, lang, setLang } from './i18n';

/** The signed-in account, or null. */
export const session = signal<SessionBody | null>(null);
/** Whether the page has asked the centre who is signed in yet. */
export const sessionChecked = signal(false);
/** Why the sign-in form is showing (signed out, expired…), when it is not the first visit. */
export const loginNotice = signal<{ key: StringKey; vars?: Record<string, string | number> } | null>(null);

/** Listeners told when a session starts or ends (the viewer socket, the data stores). */
const listeners = new Set<(s: SessionBody | null) => void>();
export function onSessionChange(cb: (s: SessionBody | null) => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

function set(next: SessionBody | null): void {
  const changed = session.value?.user.username !== next?.user.username || (session.value === null) !== (next === null);
  session.value = next;
  setCsrfToken(next?.csrfToken ?? '');
  if (changed) for (const l of listeners) l(next);
}

onUnauthorized((code) => {
  if (session.value) ended(code === 'SESSION_EXPIRED' ? { key: 'login.expired' } : { key: 'login.expired' });
});

/** The session ended without the user asking (expired, ended by an admin, signed out elsewhere). */
export function ended(notice: { key: StringKey; vars?: Record<string, string | number> }): void {
  loginNotice.value = notice;
  set(null);
}

/** Asks the centre who is signed in (the cookie is httpOnly: the page cannot read it). */
export async function resumeSession(): Promise<'signed-in' | 'signed-out' | 'unreachable'> {
  try {
    const body = await api<SessionBody>('GET', '/api/session');
    set(body);
    void loadPrefs();
    return 'signed-in';
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      if (session.value) ended({ key: 'login.expired' });
      return 'signed-out';
    }
    return 'unreachable';
  } finally {
    sessionChecked.value = true;
  }
}

/** Signs in; returns the message to show when it fails. */
export async function signIn(username: string, password: string, totp: string): Promise<{ key: StringKey; vars?: Record<string, string | number> } | null> {
  try {
    const body = await api<SessionBody>('POST', '/api/session', { username, password, ...(totp ? { totp } : {}) });
    loginNotice.value = null;
    set(body);
    void loadPrefs();
    return null;
  } catch (err) {
    if (!(err instanceof ApiError)) return { key: 'login.failed' };
    switch (err.code) {
      case 'TOTP_REQUIRED':
        return { key: 'login.totpNeeded' };
      case 'TOTP_NOT_SET_UP':
        return { key: 'login.totpSetup' };
      case 'LOCKED': {
        return { key: 'login.locked', vars: { minutes: Math.max(1, Math.ceil((err.retryAfterS ?? 60) / 60)) } };
      }
      case 'THROTTLED':
      case 'RATE_LIMITED':
        return { key: 'login.throttled' };
      case 'NETWORK':
        return { key: 'common.networkError' };
    }
    return err.status === 401 ? { key: 'login.bad' } : { key: 'login.failed' };
  }
}

export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/api/session');
  } catch {
    // Signed out locally whatever the centre said: the cookie is cleared by the next sign-in.
  }
  loginNotice.value = { key: 'login.signedOut' };
  set(null);
}

/** The account's saved preferences (language) from the centre. */
async function loadPrefs(): Promise<void> {
  try {
    const prefs = await api<Prefs>('GET', '/api/me/prefs');
    if (prefs.lang && prefs.lang !== lang.value) setLang(prefs.lang);
  } catch {
    // Preferences are a convenience: the page works without them.
  }
}

/** Switches the language, and remembers it for this account on the centre. */
export function chooseLang(next: 'cs' | 'en'): void {
  setLang(next);
  if (session.value) void api('PUT', '/api/me/prefs', { lang: next }).catch(() => undefined);
}
