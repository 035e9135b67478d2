import { createHash, timingSafeEqual } from 'node:crypto';
import { attr, child, text, type XmlNode } from './soap-envelope';

/**
 * WS-Security UsernameToken (OASIS UsernameToken Profile 1.0 §3.1, ONVIF Core §5.12):
 * PasswordDigest = Base64(SHA-1(nonce + created + password)), nonce as raw bytes, created and
 * password as UTF-8.
 */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

const PASSWORD_TEXT = '#PasswordText';
const PASSWORD_DIGEST = '#PasswordDigest';

export type UsernameTokenFailure =
  | 'missing' // no Security/UsernameToken header
  | 'malformed' // Created unparseable, digest without nonce/created, unknown password type
  | 'unknown-user'
  | 'bad-password'
  | 'stale' // Created older than the window
  | 'future' // Created later than the window
  | 'replay'; // nonce already seen inside the window

export type UsernameTokenResult = { ok: true } | { ok: false; reason: UsernameTokenFailure };

export interface UsernameTokenVerifierOptions {
  /** how far `Created` may be from the camera clock, either way; default 5 min (Profile 1.0 §4 leaves it to the receiver) */
  windowMs?: number;
  /** nonces remembered at most; default 10 000 */
  maxNonces?: number;
}

/**
 * Checks UsernameTokens against one user and remembers nonces for replay detection. A nonce only
 * has to be remembered until its `Created` falls out of the window: after that the token is
 * refused as stale anyway.
 */
export class UsernameTokenVerifier {
  readonly #windowMs: number;
  readonly #maxNonces: number;
  /** nonce (hex) → camera time after which it may be forgotten; Map keeps insertion order */
  readonly #nonces = new Map<string, number>();

  constructor(opts: UsernameTokenVerifierOptions = {}) {
    this.#windowMs = opts.windowMs ?? 5 * 60_000;
    this.#maxNonces = opts.maxNonces ?? 10_000;
  }

  /** Number of nonces currently remembered (for tests). */
  get rememberedNonces(): number {
    return this.#nonces.size;
  }

  /**
   * @param header the SOAP `Header` element (any prefixes)
   * @param nowMs the camera's clock, ms since the epoch
   */
  verify(header: XmlNode | undefined, user: { username: string; password: string }, nowMs: number): UsernameTokenResult {
    const token = child(child(header, 'Security'), 'UsernameToken');
    if (token === undefined) return { ok: false, reason: 'missing' };
    const username = text(child(token, 'Username'));
    const passwordNode = child(token, 'Password');
    const password = text(passwordNode);
    const type = attr(passwordNode, 'Type') ?? PASSWORD_TEXT; // Profile 1.0 §3.1: default is PasswordText
    const nonceNode = child(token, 'Nonce');
    const createdText = text(child(token, 'Created'));

    let created: number | undefined;
    if (createdText !== '') {
      created = parseCreated(createdText);
      if (created === undefined) return { ok: false, reason: 'malformed' };
      if (created < nowMs - this.#windowMs) return { ok: false, reason: 'stale' };
      if (created > nowMs + this.#windowMs) return { ok: false, reason: 'future' };
    }
    const nonce = nonceNode === undefined ? undefined : decodeNonce(nonceNode);
    if (nonceNode !== undefined && nonce === undefined) return { ok: false, reason: 'malformed' };

    if (!safeEqual(username, user.username)) return { ok: false, reason: 'unknown-user' };
    if (type.endsWith(PASSWORD_DIGEST)) {
      if (nonce === undefined || created === undefined) return { ok: false, reason: 'malformed' };
      if (!safeEqual(password, passwordDigest(nonce, createdText, user.password))) return { ok: false, reason: 'bad-password' };
    } else if (type.endsWith(PASSWORD_TEXT)) {
      if (!safeEqual(password, user.password)) return { ok: false, reason: 'bad-password' };
    } else {
      return { ok: false, reason: 'malformed' };
    }

    if (nonce !== undefined) {
      const key = nonce.toString('hex');
      const known = this.#nonces.get(key);
      if (known !== undefined && known >= nowMs) return { ok: false, reason: 'replay' };
      // Without Created (PasswordText only) there is no expiry to go by: keep it one window.
      this.#remember(key, (created ?? nowMs) + this.#windowMs, nowMs);
    }
    return { ok: true };
  }

  #remember(key: string, forgetAfter: number, nowMs: number): void {
    this.#nonces.delete(key);
    if (this.#nonces.size >= this.#maxNonces) {
      for (const [k, until] of this.#nonces) if (until < nowMs) this.#nonces.delete(k);
      // Still full of live nonces (a flood of valid logins): drop the oldest. A replay of one of
      // those within its window then gets through; the bound matters more than that corner.
      while (this.#nonces.size >= this.#maxNonces) {
        const oldest = this.#nonces.keys().next();
        if (oldest.done === true) break;
        this.#nonces.delete(oldest.value);
      }
    }
    this.#nonces.set(key, forgetAfter);
  }
}

const XSD_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

/** xsd:dateTime → ms; a missing zone is read as UTC (WSS Core §10 recommends UTC). */
function parseCreated(s: string): number | undefined {
  const m = XSD_DATETIME.exec(s);
  if (m === null) return undefined;
  const frac = m[7] === undefined ? '' : m[7].slice(0, 4); // JS Dates hold milliseconds
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${m[8] ?? 'Z'}`);
  return Number.isNaN(ms) ? undefined : ms;
}

function decodeNonce(node: XmlNode): Buffer | undefined {
  const encoding = attr(node, 'EncodingType');
  // SOAP Message Security 1.0: Base64Binary is the default and the only type ONVIF clients send.
  if (encoding !== undefined && !encoding.endsWith('#Base64Binary')) return undefined;
  const s = text(node).replace(/\s+/g, '');
  if (s === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

/** Constant-time string comparison (hash first so lengths match). */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
