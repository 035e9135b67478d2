import { request as httpsRequest } from 'node:https';

export interface ApiReply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A signed-in HTTP client of the centre, as the dashboard is: the session cookie on every
 * request, the CSRF token on every state change.
 */
export class CentreClient {
  private constructor(
    readonly url: string,
    readonly cookie: string,
    readonly csrfToken: string,
    readonly user: { username: string; role: string; org: string },
  ) {}

  /** Signs in; throws with the centre's answer when refused. */
  static async signIn(url: string, username: string, password: string, totp?: string): Promise<CentreClient> {
    const res = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, ...(totp ? { totp } : {}) }),
    });
    const body = (await res.json()) as { csrfToken: string; user: { username: string; role: string; org: string }; error?: string; message?: string };
    if (res.status !== 200) throw new Error(`sign-in of ${username} refused: ${res.status} ${body.error} ${body.message}`);
    const cookie = sessionCookie(res.headers);
    return new CentreClient(url, cookie, body.csrfToken, body.user);
  }

  get<T = unknown>(path: string): Promise<ApiReply<T>> {
    return this.call<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<ApiReply<T>> {
    return this.call<T>('POST', path, body);
  }

  patch<T = unknown>(path: string, body: unknown): Promise<ApiReply<T>> {
    return this.call<T>('PATCH', path, body);
  }

  delete<T = unknown>(path: string): Promise<ApiReply<T>> {
    return this.call<T>('DELETE', path);
  }

  async call<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiReply<T>> {
    const headers: Record<string, string> = { cookie: this.cookie, ...extraHeaders };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrfToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const send = (): Promise<Response> => fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let res: Response;
    try {
      res = await send();
    } catch (err) {
      // A kept-alive connection the server closed (a centre restarted in the test) fails the next
      // request before it is answered; a GET is sent again once on a fresh one, as browsers do.
      if (method !== 'GET' || (err as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw err;
      res = await send();
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (CSV export, metrics)
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
}

/** `name=value` of the session cookie a sign-in set. */
export function sessionCookie(headers: Headers): string {
  const set = headers.getSetCookie().find((c) => c.startsWith('schoolcam_session='));
  if (!set) throw new Error('no session cookie was set');
  return set.split(';')[0];
}

/** An HTTPS request trusting a given CA (Node's fetch cannot take one). */
export function httpsJson(url: string, opts: { method?: string; ca: string; headers?: Record<string, string>; body?: unknown }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpsRequest(
      url,
      { method: opts.method ?? 'GET', ca: opts.ca, headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // keep text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
