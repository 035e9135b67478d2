import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  basicAuthorization,
  computeDigestResponse,
  DigestClientState,
  digestHa1,
  parseAuthHeader,
  parseWwwAuthenticate,
  ServerAuth,
} from '../../src/rtsp/digest-auth';

describe('computeDigestResponse', () => {
  it('matches the RFC 2617 §3.5 example (Mufasa / Circle Of Life)', () => {
    expect(
      computeDigestResponse({
        username: 'Mufasa',
        password: 'Circle Of Life',
        realm: 'testrealm@host.com',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('computes the RFC 2069 form without qop', () => {
    // Reference: ha1=$(printf 'u:r:p'|md5sum); ha2=$(printf 'DESCRIBE:rtsp://h/s'|md5sum); printf "$ha1:n:$ha2"|md5sum
    const r = computeDigestResponse({ username: 'u', password: 'p', realm: 'r', method: 'DESCRIBE', uri: 'rtsp://h/s', nonce: 'n' });
    expect(r).toBe('607d88858b86ffea4761dc877df0f9a6');
  });
});

describe('parseAuthHeader', () => {
  it('parses quoted values with commas and escapes', () => {
    const p = parseAuthHeader('Digest realm="a, b", nonce="x\\"y", qop="auth,auth-int", algorithm=MD5, stale=TRUE');
    expect(p?.scheme).toBe('Digest');
    expect({ ...p?.params }).toEqual({ realm: 'a, b', nonce: 'x"y', qop: 'auth,auth-int', algorithm: 'MD5', stale: 'TRUE' });
  });

  it('terminates on the inputs that looped gortsplib (#521) and never throws on random input', () => {
    expect(parseAuthHeader('Digest ="')).toBeDefined();
    expect(parseAuthHeader('Digest =\x84')).toBeDefined();
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void parseAuthHeader(`Digest ${s}`)), { numRuns: 3000 });
  });

  it('does not let a parameter named __proto__ reach the prototype', () => {
    const p = parseAuthHeader('Digest __proto__="x", realm="r"');
    expect(p?.params.realm).toBe('r');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('ServerAuth + DigestClientState', () => {
  it('verifies Digest against a stored HA1 (no password kept), refuses Basic then, and refuses a user the lookup stops knowing', () => {
    const stored = new Map([['g1', digestHa1('g1', 'schoolcam', 's3cret pass')]]);
    const server = new ServerAuth({ mode: 'any', realm: 'schoolcam', users: {}, ha1Of: (u) => stored.get(u) });
    const client = DigestClientState.fromChallenges(parseWwwAuthenticate(server.challenge()), 'g1', 's3cret pass')!;
    expect(server.verify('DESCRIBE', client.authorization('DESCRIBE', 'rtsp://h/grant/a/b'))).toEqual({ ok: true, username: 'g1' });
    expect(server.verify('DESCRIBE', basicAuthorization('g1', 's3cret pass'))).toMatchObject({ ok: false });
    const wrong = DigestClientState.fromChallenges(parseWwwAuthenticate(server.challenge()), 'g1', 'guess')!;
    expect(server.verify('DESCRIBE', wrong.authorization('DESCRIBE', 'rtsp://h/grant/a/b'))).toMatchObject({ ok: false, reason: 'credentials' });
    stored.delete('g1');
    expect(server.verify('SETUP', client.authorization('SETUP', 'rtsp://h/grant/a/b'))).toMatchObject({ ok: false, reason: 'credentials' });
  });

  const users = { alice: 'wonder land' };

  it('accepts a Digest response computed by the client from the challenge', () => {
    const server = new ServerAuth({ mode: 'digest', realm: 'cams', users });
    const client = DigestClientState.fromChallenges(parseWwwAuthenticate(server.challenge()), 'alice', 'wonder land')!;
    expect(client.scheme).toBe('Digest');
    const header = client.authorization('DESCRIBE', 'rtsp://127.0.0.1/cam');
    expect(server.verify('DESCRIBE', header)).toEqual({ ok: true, username: 'alice' });
    // The response binds the method.
    expect(server.verify('PLAY', header)).toMatchObject({ ok: false, reason: 'credentials' });
  });

  it('accepts the legacy no-qop Digest form', () => {
    const server = new ServerAuth({ mode: 'digest', realm: 'cams', users });
    const nonce = parseWwwAuthenticate(server.challenge())[0].params.nonce;
    const response = computeDigestResponse({ username: 'alice', password: 'wonder land', realm: 'cams', method: 'SETUP', uri: 'rtsp://h/c', nonce });
    const header = `Digest username="alice", realm="cams", nonce="${nonce}", uri="rtsp://h/c", response="${response}"`;
    expect(server.verify('SETUP', header)).toEqual({ ok: true, username: 'alice' });
  });

  it('rejects a wrong password, an unknown user, a forged nonce and another realm', () => {
    const server = new ServerAuth({ mode: 'digest', realm: 'cams', users });
    const challenges = parseWwwAuthenticate(server.challenge());
    const wrong = DigestClientState.fromChallenges(challenges, 'alice', 'nope')!.authorization('DESCRIBE', 'rtsp://h/c');
    expect(server.verify('DESCRIBE', wrong)).toMatchObject({ ok: false, stale: false, reason: 'credentials' });
    const unknown = DigestClientState.fromChallenges(challenges, 'bob', 'wonder land')!.authorization('DESCRIBE', 'rtsp://h/c');
    expect(server.verify('DESCRIBE', unknown)).toMatchObject({ ok: false, reason: 'credentials' });
    const forged = DigestClientState.fromChallenges([{ scheme: 'Digest', params: { realm: 'cams', nonce: 'ab'.repeat(32) } }], 'alice', 'wonder land')!;
    expect(server.verify('DESCRIBE', forged.authorization('DESCRIBE', 'rtsp://h/c'))).toMatchObject({ ok: false, reason: 'nonce' });
    const otherRealm = DigestClientState.fromChallenges([{ scheme: 'Digest', params: { ...challenges[0].params, realm: 'x' } }], 'alice', 'wonder land')!;
    expect(server.verify('DESCRIBE', otherRealm.authorization('DESCRIBE', 'rtsp://h/c'))).toMatchObject({ ok: false, reason: 'realm' });
    expect(server.verify('DESCRIBE', undefined)).toMatchObject({ ok: false, reason: 'missing' });
    expect(server.verify('DESCRIBE', basicAuthorization('alice', 'wonder land'))).toMatchObject({ ok: false, reason: 'scheme' });
  });

  it('reports stale=true for right credentials on an expired nonce', () => {
    let now = 1_000_000;
    const server = new ServerAuth({ mode: 'digest', realm: 'cams', users, nonceTtlMs: 1000, now: () => now });
    const challenge = server.challenge();
    expect(challenge[0]).not.toContain('stale');
    const client = DigestClientState.fromChallenges(parseWwwAuthenticate(challenge), 'alice', 'wonder land')!;
    now += 5000;
    expect(server.verify('PLAY', client.authorization('PLAY', 'rtsp://h/c'))).toEqual({ ok: false, stale: true, reason: 'nonce' });
    expect(server.challenge(true)[0]).toContain('stale=true');
  });

  it('Basic mode accepts Basic only; any mode offers both with Digest first', () => {
    const basic = new ServerAuth({ mode: 'basic', realm: 'cams', users });
    expect(basic.challenge()).toEqual(['Basic realm="cams"']);
    expect(basic.verify('DESCRIBE', basicAuthorization('alice', 'wonder land'))).toEqual({ ok: true, username: 'alice' });
    expect(basic.verify('DESCRIBE', basicAuthorization('alice', 'wonder'))).toMatchObject({ ok: false, reason: 'credentials' });
    expect(basic.verify('DESCRIBE', 'Basic !!!')).toMatchObject({ ok: false, reason: 'malformed' });
    const any = new ServerAuth({ mode: 'any', realm: 'cams', users });
    const offered = parseWwwAuthenticate(any.challenge());
    expect(offered.map((c) => c.scheme)).toEqual(['Digest', 'Basic']);
    expect(DigestClientState.fromChallenges(offered, 'alice', 'wonder land')!.scheme).toBe('Digest');
    expect(any.verify('DESCRIBE', basicAuthorization('alice', 'wonder land'))).toMatchObject({ ok: true });
  });

  it('reads the user table on every request (credentials revoked take effect)', () => {
    const live: Record<string, string> = { alice: 'pw' };
    const server = new ServerAuth({ mode: 'basic', realm: 'cams', users: live });
    expect(server.verify('PLAY', basicAuthorization('alice', 'pw')).ok).toBe(true);
    delete live.alice;
    expect(server.verify('PLAY', basicAuthorization('alice', 'pw')).ok).toBe(false);
  });

  it('never throws when verifying arbitrary Authorization values (fuzz)', () => {
    const server = new ServerAuth({ mode: 'any', realm: 'cams', users });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((s) => `Digest ${s}`), fc.string().map((s) => `Basic ${s}`)), (h) => {
        expect(server.verify('DESCRIBE', h).ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });
});
