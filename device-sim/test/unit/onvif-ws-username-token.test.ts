import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSoapRequest, type XmlNode } from '../../src/onvif/soap-envelope';
import { passwordDigest, UsernameTokenVerifier } from '../../src/onvif/ws-username-token';

const USER = { username: 'admin', password: 'secret' };
const T0 = Date.parse('2024-05-06T07:08:09Z');

function header(opts: { password?: string; nonce?: Buffer | null; created?: string | null; type?: 'Digest' | 'Text'; username?: string } = {}): XmlNode | undefined {
  const nonce = opts.nonce === undefined ? randomBytes(16) : opts.nonce;
  const created = opts.created === undefined ? new Date(T0).toISOString() : opts.created;
  const type = opts.type ?? 'Digest';
  const password = opts.password ?? USER.password;
  const value =
    type === 'Text'
      ? password
      : createHash('sha1').update(Buffer.concat([nonce ?? Buffer.alloc(0), Buffer.from(created ?? ''), Buffer.from(password)])).digest('base64');
  const xml =
    '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header>' +
    '<w:Security xmlns:w="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><w:UsernameToken>' +
    `<w:Username>${opts.username ?? USER.username}</w:Username>` +
    `<w:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#Password${type}">${value}</w:Password>` +
    (nonce === null ? '' : `<w:Nonce>${nonce.toString('base64')}</w:Nonce>`) +
    (created === null ? '' : `<u:Created xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</u:Created>`) +
    '</w:UsernameToken></w:Security></e:Header><e:Body><GetProfiles/></e:Body></e:Envelope>';
  const parsed = parseSoapRequest(xml);
  if (!parsed.ok) throw new Error('test envelope did not parse');
  return parsed.request.header;
}

describe('passwordDigest', () => {
  it('matches the worked example of the ONVIF Application Programmer\'s Guide', () => {
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    expect(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword')).toBe('tuOSpGlFlIXsozq4HFNeeGeFLEI=');
  });

  it('hashes nonce bytes, not their base64 text', () => {
    const nonce = Buffer.from([0, 1, 2, 255]);
    const expected = createHash('sha1').update(Buffer.from([0, 1, 2, 255, ...Buffer.from('2020-01-01T00:00:00Z'), ...Buffer.from('pw')])).digest('base64');
    expect(passwordDigest(nonce, '2020-01-01T00:00:00Z', 'pw')).toBe(expected);
  });

  it('encodes a non-ASCII password as UTF-8', () => {
    const nonce = Buffer.from('abcd');
    const expected = createHash('sha1').update(Buffer.concat([nonce, Buffer.from('c'), Buffer.from('pässwörd', 'utf8')])).digest('base64');
    expect(passwordDigest(nonce, 'c', 'pässwörd')).toBe(expected);
  });
});

describe('UsernameTokenVerifier', () => {
  it('accepts a correct digest and refuses a wrong password or user', () => {
    const v = new UsernameTokenVerifier();
    expect(v.verify(header(), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ password: 'guess' }), USER, T0)).toEqual({ ok: false, reason: 'bad-password' });
    expect(v.verify(header({ username: 'root' }), USER, T0)).toEqual({ ok: false, reason: 'unknown-user' });
  });

  it('refuses a Created outside ±5 min of the camera clock, accepts one just inside', () => {
    const v = new UsernameTokenVerifier();
    const at = (ms: number): string => new Date(ms).toISOString();
    expect(v.verify(header({ created: at(T0 - 5 * 60_000 - 1) }), USER, T0)).toEqual({ ok: false, reason: 'stale' });
    expect(v.verify(header({ created: at(T0 + 5 * 60_000 + 1) }), USER, T0)).toEqual({ ok: false, reason: 'future' });
    expect(v.verify(header({ created: at(T0 - 4 * 60_000) }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ created: at(T0 + 4 * 60_000) }), USER, T0)).toEqual({ ok: true });
  });

  it('reads Created with fractional seconds, offsets and no zone (as UTC)', () => {
    const v = new UsernameTokenVerifier();
    expect(v.verify(header({ created: '2024-05-06T07:08:09.123456Z' }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ created: '2024-05-06T09:08:09+02:00' }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ created: '2024-05-06T07:08:09' }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ created: 'yesterday' }), USER, T0)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a replayed nonce while its Created is fresh, and forgets it afterwards', () => {
    const v = new UsernameTokenVerifier();
    const nonce = randomBytes(16);
    expect(v.verify(header({ nonce }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ nonce }), USER, T0 + 1000)).toEqual({ ok: false, reason: 'replay' });
    // A new Created with the same nonce is still a replay of the nonce.
    expect(v.verify(header({ nonce, created: new Date(T0 + 1000).toISOString() }), USER, T0 + 1000)).toEqual({ ok: false, reason: 'replay' });
    // After the window the old token is stale anyway.
    expect(v.verify(header({ nonce }), USER, T0 + 5 * 60_000 + 1)).toEqual({ ok: false, reason: 'stale' });
  });

  it('does not remember nonces of refused tokens', () => {
    const v = new UsernameTokenVerifier();
    const nonce = randomBytes(16);
    expect(v.verify(header({ nonce, password: 'wrong' }), USER, T0).ok).toBe(false);
    expect(v.verify(header({ nonce }), USER, T0)).toEqual({ ok: true });
  });

  it('keeps the nonce set bounded', () => {
    const v = new UsernameTokenVerifier({ maxNonces: 3 });
    for (let i = 0; i < 10; i++) expect(v.verify(header(), USER, T0)).toEqual({ ok: true });
    expect(v.rememberedNonces).toBe(3);
  });

  it('drops expired nonces before evicting live ones', () => {
    const v = new UsernameTokenVerifier({ maxNonces: 2, windowMs: 1000 });
    const old = randomBytes(16);
    expect(v.verify(header({ nonce: old }), USER, T0).ok).toBe(true);
    const later = T0 + 900;
    const created = new Date(later).toISOString();
    const live = randomBytes(16);
    expect(v.verify(header({ nonce: live, created }), USER, later).ok).toBe(true);
    // At T0 + 1500 `old` has expired; inserting a third nonce must keep `live`.
    const now = T0 + 1500;
    expect(v.verify(header({ created: new Date(now).toISOString() }), USER, now).ok).toBe(true);
    expect(v.verify(header({ nonce: live, created }), USER, now)).toEqual({ ok: false, reason: 'replay' });
  });

  it('accepts PasswordText, with or without nonce and created', () => {
    const v = new UsernameTokenVerifier();
    expect(v.verify(header({ type: 'Text', nonce: null, created: null }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ type: 'Text' }), USER, T0)).toEqual({ ok: true });
    expect(v.verify(header({ type: 'Text', password: 'nope', nonce: null, created: null }), USER, T0)).toEqual({ ok: false, reason: 'bad-password' });
  });

  it('refuses a digest without nonce or created, and a missing token', () => {
    const v = new UsernameTokenVerifier();
    expect(v.verify(header({ nonce: null }), USER, T0)).toEqual({ ok: false, reason: 'malformed' });
    expect(v.verify(header({ created: null }), USER, T0)).toEqual({ ok: false, reason: 'malformed' });
    expect(v.verify(undefined, USER, T0)).toEqual({ ok: false, reason: 'missing' });
  });
});
