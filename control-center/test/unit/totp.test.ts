import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, newTotpSecret, otpauthUri, totpCode, totpStep, verifyTotp } from '../../src/auth/totp';

// RFC 6238 Appendix B (SHA-1 rows): the secret is ASCII "12345678901234567890", 8 digits.
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890'));
const VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC 6238 test vectors', () => {
    for (const [t, code] of VECTORS) expect(totpCode(RFC_SECRET, t * 1000, 8)).toBe(code);
  });

  it('matches RFC 4226 Appendix D HOTP values', () => {
    const key = Buffer.from('12345678901234567890');
    expect([0, 1, 2, 9].map((c) => hotp(key, c))).toEqual(['755224', '287082', '359152', '520489']);
  });

  it('accepts the current code and one step of drift, and returns the matched step', () => {
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    expect(verifyTotp(secret, totpCode(secret, now), now)).toBe(totpStep(now));
    expect(verifyTotp(secret, totpCode(secret, now - 30_000), now)).toBe(totpStep(now) - 1);
    expect(verifyTotp(secret, totpCode(secret, now + 30_000), now)).toBe(totpStep(now) + 1);
    expect(verifyTotp(secret, totpCode(secret, now - 90_000), now)).toBeUndefined();
  });

  it('refuses malformed codes without throwing', () => {
    const secret = newTotpSecret();
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 456', '١٢٣٤٥٦']) expect(verifyTotp(secret, bad, Date.now())).toBeUndefined();
  });

  it('round-trips base32 and builds an otpauth URI authenticator apps read', () => {
    const buf = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 7]);
    expect(base32Decode(base32Encode(buf))).toEqual(buf);
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri(secret, 'police-sokolov')).toBe(`otpauth://totp/schoolcam:police-sokolov?secret=${secret}&issuer=schoolcam&algorithm=SHA1&digits=6&period=30`);
  });
});
