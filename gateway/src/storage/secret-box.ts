import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { GatewayError } from '../errors';
import type { Db } from './database';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 1;
/** A known plaintext, sealed under the key when it is made: a different key file is noticed at once. */
const KEY_CHECK = 'schoolcam-gateway-key-check';

/**
 * Camera passwords at rest: AES-256-GCM under a 256-bit key kept in a file beside the database
 * (mode 0600), never in it — a copy of the database alone reveals no password. Each sealed value is
 * bound to its row (the camera id is the additional authenticated data), so ciphertexts cannot be
 * swapped between cameras.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /**
   * Reads the key file, or creates it (0600, exclusive) for a database that holds no secrets yet.
   * Throws GatewayError when the file is missing although secrets exist, is readable by other
   * users, is not a key, or is not the key the secrets were sealed with.
   */
  static open(keyFile: string, db: Db): SecretBox {
    const check = (db.prepare("SELECT value FROM meta WHERE key = 'key_check'").get() as { value: string } | undefined)?.value;
    let key: Buffer;
    try {
      const mode = statSync(keyFile).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new GatewayError('KEY_FILE', `${keyFile} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`);
      }
      key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
      if (key.length !== KEY_BYTES) throw new GatewayError('KEY_FILE', `${keyFile} does not hold a ${KEY_BYTES}-byte key`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (check !== undefined) {
        throw new GatewayError('KEY_FILE', `${keyFile} is missing, and the camera passwords in the database were encrypted with it; restore it from a backup or register the cameras again`);
      }
      key = randomBytes(KEY_BYTES);
      const fd = openSync(keyFile, 'wx', 0o600);
      try {
        writeSync(fd, `${key.toString('base64')}\n`);
      } finally {
        closeSync(fd);
      }
    }
    const box = new SecretBox(key);
    if (check === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('key_check', ?)").run(box.seal(Buffer.from(KEY_CHECK), 'meta').toString('base64'));
    } else if (box.open(Buffer.from(check, 'base64'), 'meta')?.toString() !== KEY_CHECK) {
      throw new GatewayError('KEY_FILE', `${keyFile} is not the key the camera passwords in the database were encrypted with`);
    }
    return box;
  }

  /** version ‖ IV ‖ tag ‖ ciphertext */
  seal(plain: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext, or undefined when the value was not sealed under this key for this context. */
  open(sealed: Buffer, context: string): Buffer | undefined {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}
