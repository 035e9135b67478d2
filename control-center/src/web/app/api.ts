import type { ErrorBody } from '../../auth/auth-schemas';

/** A refused or failed API call: `code` is the centre's typed error (`UNAUTHORIZED`, `LOCKED`…), or `NETWORK`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (429), from `retry-after`. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onSessionLost: (code: string) => void = () => undefined;

/** The session's CSRF token, sent as `x-csrf-token` on every state-changing request. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the centre answers 401 to a signed-in page (expired or ended elsewhere). */
export function onUnauthorized(cb: (code: string) => void): void {
  onSessionLost = cb;
}

/** One call to the centre's API, with the session cookie and, for changes, the CSRF header. */
export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the control centre cannot be reached');
  }
  if (res.status === 204) return undefined as T;
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = (data ?? {}) as Partial<ErrorBody>;
    const code = err.error ?? `HTTP_${res.status}`;
    if (res.status === 401 && path !== '/api/session') onSessionLost(code);
    throw new ApiError(res.status, code, err.message ?? res.statusText, Number(res.headers.get('retry-after')) || undefined);
  }
  return data as T;
}
