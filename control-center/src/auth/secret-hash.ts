import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Salted scrypt hashes for passwords and gateway secrets: `scrypt$<salt b64>$<hash b64>`,
 * N=16384, r=8, p=1, 32-byte key (Node's defaults, the format the first release stored
 * gateway secrets in, so those keep verifying). Hashing runs on libuv's thread pool, off
 * the event loop.
 */
const KEY_LENGTH = 32;

function scryptAsync(secret: string, salt: Buffer, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keylen, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison; false for a malformed stored value. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  if (expected.length < 16 || expected.length > 64) return false;
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;
/**
 * A hash to verify against when the account or gateway does not exist, so an unknown name
 * costs the same time as a wrong password and response times reveal nothing.
 */
export function dummyHash(): Promise<string> {
  return (dummy ??= hashSecret(randomBytes(24).toString('base64url')));
}
