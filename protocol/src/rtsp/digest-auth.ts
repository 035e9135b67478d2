/**
 * HTTP authentication as RTSP uses it (RFC 2326 §D.2 → RFC 2617): Digest with MD5
 * (and MD5-sess) with `qop=auth` or the legacy RFC 2069 form without qop, and Basic.
 *
 * Server side: {@link ServerAuth} issues challenges and verifies `Authorization`
 * headers. Nonces are stateless (timestamp + random + HMAC under a per-process key),
 * so a flood of unauthenticated requests costs no memory; expiry is checked from the
 * timestamp and reported as `stale=true` (RFC 2617 §3.2.1).
 *
 * Client side: {@link parseWwwAuthenticate} and {@link DigestClientState}.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One `WWW-Authenticate` challenge or `Authorization` credential, params keyed in lower case. */
export interface AuthParams {
  scheme: string;
  params: Record<string, string>;
  /** For Basic: the token after the scheme (base64 of `user:pass`). */
  token?: string;
}

const MAX_AUTH_HEADER = 4096;

/**
 * Parses `Scheme k=v, k2="quoted, value"`. Never throws and always advances, so
 * inputs such as `="` or `=\x84` (gortsplib #521) terminate.
 */
export function parseAuthHeader(value: string): AuthParams | undefined {
  if (value.length > MAX_AUTH_HEADER) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)(?:\s+([\s\S]*))?$/.exec(value);
  if (!m) return undefined;
  const scheme = m[1];
  const rest = m[2] ?? '';
  // Object.create(null): a param named __proto__ must not reach the prototype.
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (scheme.toLowerCase() === 'basic') return { scheme, params, token: rest.trim() };
  let i = 0;
  const n = rest.length;
  while (i < n) {
    while (i < n && (rest[i] === ' ' || rest[i] === ',' || rest[i] === '\t')) i++;
    const keyStart = i;
    while (i < n && rest[i] !== '=' && rest[i] !== ',') i++;
    const key = rest.slice(keyStart, i).trim().toLowerCase();
    if (i >= n || rest[i] === ',') {
      if (key) params[key] = '';
      continue;
    }
    i++; // '='
    while (i < n && rest[i] === ' ') i++;
    let val = '';
    if (rest[i] === '"') {
      i++;
      while (i < n && rest[i] !== '"') {
        if (rest[i] === '\\' && i + 1 < n) i++;
        val += rest[i];
        i++;
      }
      i++; // closing quote (or past end)
    } else {
      const valStart = i;
      while (i < n && rest[i] !== ',') i++;
      val = rest.slice(valStart, i).trim();
    }
    if (key) params[key] = val;
  }
  return { scheme, params };
}

/** Parses all WWW-Authenticate values of a 401, keeping the ones we can parse. */
export function parseWwwAuthenticate(values: readonly string[]): AuthParams[] {
  return values.map(parseAuthHeader).filter((c): c is AuthParams => c !== undefined);
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** Inputs of the Digest computation of RFC 2617 §3.2.2. */
export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  method: string;
  uri: string;
  nonce: string;
  /** `auth`, or undefined for the RFC 2069 form. `auth-int` is not supported. */
  qop?: string;
  /** 8 hex digits, required with qop. */
  nc?: string;
  cnonce?: string;
  /** `MD5` (default) or `MD5-sess`. */
  algorithm?: string;
}

/** The `response` value of RFC 2617 §3.2.2.1, lower-case hex. */
export function computeDigestResponse(d: DigestInput): string {
  return digestResponseFromHa1(md5(`${d.username}:${d.realm}:${d.password}`), d);
}

/** RFC 2617 §3.2.2.2 A1 of a user: MD5(`username:realm:password`), what a server may store instead of the password. */
export function digestHa1(username: string, realm: string, password: string): string {
  return md5(`${username}:${realm}:${password}`);
}

/** The response digest from a stored {@link digestHa1} (the password itself is not needed). */
export function digestResponseFromHa1(ha1In: string, d: Omit<DigestInput, 'password'>): string {
  let ha1 = ha1In;
  if (d.algorithm?.toLowerCase() === 'md5-sess') ha1 = md5(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = md5(`${d.method}:${d.uri}`);
  if (d.qop) return md5(`${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${ha2}`);
  return md5(`${ha1}:${d.nonce}:${ha2}`);
}

/** Basic credentials header value (RFC 2617 §2). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * Client-side state for one server: remembers the chosen challenge and counts `nc`
 * so every request after the first 401 carries fresh credentials.
 */
export class DigestClientState {
  private nc = 0;
  private readonly cnonce = randomBytes(8).toString('hex');

  private constructor(
    private readonly challenge: AuthParams,
    private readonly username: string,
    private readonly password: string,
  ) {}

  /**
   * Picks the strongest challenge we support (Digest MD5 over Basic). Returns
   * undefined when none is usable (e.g. only SHA-256 Digest is offered).
   */
  static fromChallenges(challenges: readonly AuthParams[], username: string, password: string): DigestClientState | undefined {
    const digest = challenges.find((c) => {
      if (c.scheme.toLowerCase() !== 'digest' || c.params.nonce === undefined) return false;
      const alg = (c.params.algorithm ?? 'MD5').toLowerCase();
      return alg === 'md5' || alg === 'md5-sess';
    });
    const chosen = digest ?? challenges.find((c) => c.scheme.toLowerCase() === 'basic');
    return chosen ? new DigestClientState(chosen, username, password) : undefined;
  }

  get scheme(): 'Digest' | 'Basic' {
    return this.challenge.scheme.toLowerCase() === 'digest' ? 'Digest' : 'Basic';
  }

  /** `Authorization` header value for one request. */
  authorization(method: string, uri: string): string {
    if (this.scheme === 'Basic') return basicAuthorization(this.username, this.password);
    const p = this.challenge.params;
    const realm = p.realm ?? '';
    const nonce = p.nonce ?? '';
    // qop may list several options ("auth,auth-int"); we only do auth.
    const qop = p.qop?.split(',').map((q) => q.trim().toLowerCase()).includes('auth') ? 'auth' : undefined;
    const nc = (++this.nc).toString(16).padStart(8, '0');
    const response = computeDigestResponse({
      username: this.username,
      password: this.password,
      realm,
      method,
      uri,
      nonce,
      qop,
      nc,
      cnonce: this.cnonce,
      algorithm: p.algorithm,
    });
    const parts = [`username=${quote(this.username)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `uri=${quote(uri)}`, `response=${quote(response)}`];
    if (p.algorithm) parts.push(`algorithm=${p.algorithm}`);
    if (p.opaque !== undefined) parts.push(`opaque=${quote(p.opaque)}`);
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(this.cnonce)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

/** Which schemes a server accepts. `any` offers Digest and Basic; `none` disables auth. */
export type AuthMode = 'digest' | 'basic' | 'any' | 'none';

export interface ServerAuthOptions {
  mode: AuthMode;
  realm: string;
  /**
   * username → password. Read on every request, so credentials added or removed
   * later (per-grant users) take effect on the next request.
   */
  users: Readonly<Record<string, string>>;
  /**
   * Digest only: username → stored H(A1) (see {@link digestHa1}), asked on every request,
   * for servers that keep no passwords (per-grant credentials). When given, it replaces
   * `users`, and Basic is refused whatever the mode (it needs the password).
   */
  ha1Of?: (username: string) => string | undefined;
  /** How long a nonce is accepted before `stale=true`. Default 60 000 ms. */
  nonceTtlMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

export type AuthResult =
  | { ok: true; username: string | undefined }
  | { ok: false; stale: boolean; reason: 'missing' | 'malformed' | 'scheme' | 'realm' | 'nonce' | 'credentials' };

/** Server-side challenge and verification. */
export class ServerAuth {
  private readonly key = randomBytes(32);
  private readonly nonceTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: ServerAuthOptions) {
    this.nonceTtlMs = opts.nonceTtlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  get mode(): AuthMode {
    return this.opts.mode;
  }

  /** `WWW-Authenticate` values for a 401 (Digest first, the stronger one). */
  challenge(stale = false): string[] {
    const out: string[] = [];
    const realm = quote(this.opts.realm);
    if (this.opts.mode === 'digest' || this.opts.mode === 'any') {
      out.push(`Digest realm=${realm}, nonce=${quote(this.newNonce())}, algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`);
    }
    if (this.opts.mode === 'basic' || this.opts.mode === 'any') out.push(`Basic realm=${realm}`);
    return out;
  }

  /**
   * Verifies an `Authorization` header for `method`. The digest is computed over the
   * `uri` the client put in the header, as live555 and FFmpeg expect; clients differ
   * on whether that is the request URI or the base URL.
   */
  verify(method: string, authorization: string | undefined): AuthResult {
    if (this.opts.mode === 'none') return { ok: true, username: undefined };
    if (authorization === undefined) return { ok: false, stale: false, reason: 'missing' };
    const parsed = parseAuthHeader(authorization);
    if (!parsed) return { ok: false, stale: false, reason: 'malformed' };
    const scheme = parsed.scheme.toLowerCase();
    if (scheme === 'basic' && (this.opts.mode === 'basic' || this.opts.mode === 'any') && !this.opts.ha1Of) return this.verifyBasic(parsed.token ?? '');
    if (scheme === 'digest' && (this.opts.mode === 'digest' || this.opts.mode === 'any')) return this.verifyDigest(method, parsed.params);
    return { ok: false, stale: false, reason: 'scheme' };
  }

  private verifyBasic(token: string): AuthResult {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token)) return { ok: false, stale: false, reason: 'malformed' };
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, stale: false, reason: 'malformed' };
    const username = decoded.slice(0, colon);
    const expected = this.passwordOf(username);
    const match = safeEqual(decoded.slice(colon + 1), expected ?? '');
    return match && expected !== undefined ? { ok: true, username } : { ok: false, stale: false, reason: 'credentials' };
  }

  private verifyDigest(method: string, p: Record<string, string>): AuthResult {
    const { username, nonce, uri, response } = p;
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { ok: false, stale: false, reason: 'malformed' };
    }
    if (p.realm !== this.opts.realm) return { ok: false, stale: false, reason: 'realm' };
    const nonceState = this.checkNonce(nonce);
    if (nonceState === 'invalid') return { ok: false, stale: false, reason: 'nonce' };
    const qop = p.qop?.toLowerCase();
    if (qop !== undefined && qop !== 'auth') return { ok: false, stale: false, reason: 'malformed' };
    if (qop && (p.nc === undefined || p.cnonce === undefined)) return { ok: false, stale: false, reason: 'malformed' };
    const stored = this.ha1Of(username);
    // Compute even for unknown users so timing does not reveal which names exist.
    const expected = digestResponseFromHa1(stored ?? digestHa1(username, this.opts.realm, '\0unknown-user'), {
      username,
      realm: this.opts.realm,
      method,
      uri,
      nonce,
      qop,
      nc: p.nc,
      cnonce: p.cnonce,
      algorithm: p.algorithm,
    });
    const match = safeEqual(response.toLowerCase(), expected);
    if (!match || stored === undefined) return { ok: false, stale: false, reason: 'credentials' };
    // RFC 2617 §3.2.1: right credentials with an expired nonce → stale=true, no new password prompt.
    if (nonceState === 'expired') return { ok: false, stale: true, reason: 'nonce' };
    return { ok: true, username };
  }

  private ha1Of(username: string): string | undefined {
    if (this.opts.ha1Of) return this.opts.ha1Of(username)?.toLowerCase();
    const password = this.passwordOf(username);
    return password === undefined ? undefined : digestHa1(username, this.opts.realm, password);
  }

  private passwordOf(username: string): string | undefined {
    if (this.opts.ha1Of) return undefined;
    return Object.hasOwn(this.opts.users, username) ? this.opts.users[username] : undefined;
  }

  private newNonce(): string {
    const body = Buffer.alloc(16);
    body.writeDoubleBE(this.now(), 0);
    randomBytes(8).copy(body, 8);
    const mac = createHmac('sha256', this.key).update(body).digest().subarray(0, 16);
    return Buffer.concat([body, mac]).toString('hex');
  }

  private checkNonce(nonce: string): 'valid' | 'expired' | 'invalid' {
    if (!/^[0-9a-f]{64}$/.test(nonce)) return 'invalid';
    const raw = Buffer.from(nonce, 'hex');
    const body = raw.subarray(0, 16);
    const mac = createHmac('sha256', this.key).update(body).digest().subarray(0, 16);
    if (!timingSafeEqual(mac, raw.subarray(16))) return 'invalid';
    const age = this.now() - body.readDoubleBE(0);
    return age >= 0 && age <= this.nonceTtlMs ? 'valid' : 'expired';
  }
}

/** Constant-time string equality: hashes first so unequal lengths take the same path. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
