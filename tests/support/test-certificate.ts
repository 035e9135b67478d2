import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A self-signed certificate for 127.0.0.1 (P-256, one day), made with the `openssl` command.
 * Fails loudly when openssl is missing (`npm run test:deps` installs it).
 */
export function makeTestCertificate(dir: string): { cert: string; key: string } {
  if (!['/usr/bin/openssl', '/bin/openssl', '/usr/local/bin/openssl'].some((p) => existsSync(p))) {
    throw new Error('openssl is missing: run `npm run test:deps` (apt-get install openssl)');
  }
  const cert = join(dir, 'centre.crt');
  const key = join(dir, 'centre.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'pipe' });
  return { cert, key };
}
