import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { centreUrlProblem } from './link-client';

export interface EnrolOptions {
  /** The centre's base URL (https://…; plain http only to a loopback centre). */
  centerUrl: string;
  /** The one-time token an admin got when creating this gateway. */
  token: string;
  /** Gateway config file to write (created, or updated keeping its cameras). */
  configFile: string;
  /** Where the secret goes (mode 0600). Default: next to the config, named like it (`gateway.yaml` → `gateway.secret`). */
  secretFile?: string;
  /** PEM file to trust for the centre's certificate (a private CA or a self-signed centre). */
  caFile?: string;
  timeoutMs?: number;
}

export interface Enrolment {
  gatewayId: string;
  schoolId: string;
  configFile: string;
  secretFile: string;
}

const MAX_REPLY_BYTES = 64 * 1024;

/**
 * Enrols this gateway: exchanges the one-time token for the gateway's long-lived secret
 * (`POST /api/gateways/enroll`), stores the secret in its own file readable by the owner
 * only, and writes the gateway's identity (id, school, centre URL, secret file) into its
 * config. The token works once; after this the gateway never needs it again.
 */
export async function enrolGateway(opts: EnrolOptions): Promise<Enrolment> {
  const problem = centreUrlProblem(opts.centerUrl);
  if (problem) throw new Error(`centre URL ${opts.centerUrl} ${problem}`);
  const base = opts.centerUrl.replace(/^ws/, 'http').replace(/\/+$/, '');
  const ca = opts.caFile ? readFileSync(opts.caFile, 'utf8') : undefined;
  const reply = await postJson(`${base}/api/gateways/enroll`, { token: opts.token }, ca, opts.timeoutMs ?? 15_000);
  if (reply.status !== 200) {
    const message = typeof reply.body?.message === 'string' ? reply.body.message : `HTTP ${reply.status}`;
    throw new Error(`the centre refused the enrolment: ${message}`);
  }
  const { gatewayId, schoolId, secret } = reply.body ?? {};
  if (typeof gatewayId !== 'string' || typeof schoolId !== 'string' || typeof secret !== 'string' || secret.length < 16) {
    throw new Error('the centre answered the enrolment with something unexpected');
  }
  const configFile = resolve(opts.configFile);
  const secretFile = resolve(opts.secretFile ?? join(dirname(configFile), `${basename(configFile).replace(/\.(ya?ml|json)$/i, '')}.secret`));
  writePrivate(secretFile, `${secret}\n`);

  let config: Record<string, unknown> = {};
  if (existsSync(configFile)) {
    const raw: unknown = parseYaml(readFileSync(configFile, 'utf8'));
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) config = raw as Record<string, unknown>;
  }
  delete config.secret; // the secret lives in its own file now, never in the config
  config.gatewayId = gatewayId;
  config.schoolId = schoolId;
  config.centerUrl = base;
  config.secretFile = relativeTo(configFile, secretFile);
  if (opts.caFile) config.centerCaFile = relativeTo(configFile, resolve(opts.caFile));
  config.cameras ??= [];
  writePrivate(configFile, stringifyYaml(config));
  return { gatewayId, schoolId, configFile, secretFile };
}

/** `npm run gateway -- enroll <centre-url> <token> [--config gateway.yaml] [--secret-file F] [--ca centre-ca.pem]` */
export async function runEnrolCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string', default: 'gateway.yaml' }, 'secret-file': { type: 'string' }, ca: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 2) throw new Error('usage: enroll <centre-url> <token> [--config gateway.yaml] [--secret-file F] [--ca centre-ca.pem]');
  const done = await enrolGateway({ centerUrl: positionals[0], token: positionals[1], configFile: values.config, secretFile: values['secret-file'], caFile: values.ca });
  console.log(`Enrolled gateway ${done.gatewayId} for school ${done.schoolId}. Config: ${done.configFile}; secret: ${done.secretFile} (mode 0600).`);
  console.log(JSON.stringify({ ok: true, ...done }));
  return 0;
}

/** Writes a file only its owner can read, atomically (a crash never leaves half a secret). */
function writePrivate(file: string, content: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function relativeTo(configFile: string, path: string): string {
  return dirname(path) === dirname(configFile) ? basename(path) : path;
}

function postJson(url: string, body: unknown, ca: string | undefined, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  return new Promise((resolvePromise, reject) => {
    const data = JSON.stringify(body);
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: timeoutMs, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REPLY_BYTES) {
          req.destroy(new Error('the centre\'s reply is too large'));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          parsed = undefined;
        }
        resolvePromise({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the centre within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`cannot reach the centre: ${err.message}`)));
    req.end(data);
  });
}
