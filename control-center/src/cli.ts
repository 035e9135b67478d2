import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ROLES, type Role } from './access/principal';
import { importRegionInto, setUser } from './admin/bootstrap';
import { loadRegionFile } from './admin/region-file';
import { AuditLog, auditCsvHeader, auditCsvLine } from './audit/audit-log';
import { loadCenterConfig } from './config';
import { LOG_REDACT } from './logging';
import { ControlCenter } from './server';
import { openDatabase, openDatabaseReadOnly } from './storage/database';

const USAGE = `usage:
  npm run center -- [--config centre.yaml] [--json]            run the centre
  npm run center -- audit verify [--data DIR]                  check the audit log's hash chain
  npm run center -- audit export --format csv|json [--data DIR] [--out FILE]
  npm run center -- orgs import <region.yaml> [--data DIR]     add/update the region's organisations
  npm run center -- users add --username U --role R --org O [--password-stdin] [--data DIR]
(--config FILE is accepted everywhere; --data overrides its dataDir)`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  if (command === undefined || command.startsWith('--')) return serve(argv);
  if (command === 'audit' && sub === 'verify') return auditVerify(argv.slice(2));
  if (command === 'audit' && sub === 'export') return auditExport(argv.slice(2));
  if (command === 'orgs' && sub === 'import') return orgsImport(argv.slice(2));
  if (command === 'users' && sub === 'add') return usersAdd(argv.slice(2));
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

async function serve(argv: string[]): Promise<number> {
  const args = parseArgs({ args: argv, options: { config: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true }).values;
  const config = loadCenterConfig(args.config);
  const logger = pino({ name: 'control-center', level: config.logLevel, redact: LOG_REDACT }, pino.destination(2));
  const centre = await ControlCenter.create(config, { logger });
  if (args.json) process.stdout.write(`${JSON.stringify({ url: centre.url, metricsUrl: centre.metricsUrl })}\n`);
  else console.log(`Control centre: ${centre.url}\nDashboard: ${centre.url}/`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await centre.close();
  return 0;
}

/** `--data DIR` or `--config FILE` (its dataDir, env included) → the database file. */
function databaseFile(values: { data?: string; config?: string }): string {
  const dir = values.data ?? loadCenterConfig(values.config).dataDir;
  return join(dir, 'centre.sqlite');
}

const DATA_OPTIONS = { data: { type: 'string' }, config: { type: 'string' } } as const;

function auditVerify(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: DATA_OPTIONS, strict: true });
  const file = databaseFile(values);
  if (!existsSync(file)) throw new Error(`no centre database at ${file}`);
  const db = openDatabaseReadOnly(file);
  try {
    const result = new AuditLog(db, Date.now, { readOnly: true }).verify();
    if (!result.ok) console.log(`audit log damaged at entry ${result.firstBad.seq} (${result.firstBad.problem}); ${result.entries} entries before it verify`);
    console.log(JSON.stringify(result));
    return result.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

async function auditExport(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...DATA_OPTIONS, format: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (values.format !== 'csv' && values.format !== 'json') throw new UsageError('--format csv|json is required');
  const file = databaseFile(values);
  if (!existsSync(file)) throw new Error(`no centre database at ${file}`);
  const db = openDatabaseReadOnly(file);
  const out = values.out ? createWriteStream(values.out, { mode: 0o600 }) : process.stdout;
  const write = (s: string): Promise<void> => new Promise((resolve, reject) => out.write(s, (err) => (err ? reject(err) : resolve())));
  try {
    const log = new AuditLog(db, Date.now, { readOnly: true });
    if (values.format === 'csv') {
      await write(auditCsvHeader());
      for (const e of log.all()) await write(auditCsvLine(e));
    } else {
      let first = true;
      await write('{"entries":[\n');
      for (const e of log.all()) {
        await write(`${first ? '' : ',\n'}${JSON.stringify(e)}`);
        first = false;
      }
      await write('\n]}\n');
    }
  } finally {
    db.close();
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
  }
  return 0;
}

function orgsImport(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: DATA_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('orgs import needs one region file');
  const region = loadRegionFile(positionals[0]);
  const db = openDatabase(databaseFile(values));
  try {
    const n = importRegionInto(db, region, `center orgs import ${positionals[0]}`);
    console.log(JSON.stringify({ ok: true, organisations: n }));
    return 0;
  } finally {
    db.close();
  }
}

async function usersAdd(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...DATA_OPTIONS, username: { type: 'string' }, role: { type: 'string' }, org: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } },
    strict: true,
  });
  const { username, role, org } = values;
  if (!username || !/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username)) throw new UsageError('--username: 3-64 characters a-z 0-9 . _ -');
  if (!role || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
  if (!org) throw new UsageError('--org <organisation id> is required');
  let password: string;
  let generated = false;
  if (values['password-stdin']) {
    password = (await readStdin()).split(/\r?\n/)[0];
    if (password.length < 10 || password.length > 256) throw new Error('the password must be 10-256 characters');
  } else {
    password = randomBytes(12).toString('base64url');
    generated = true;
  }
  const db = openDatabase(databaseFile(values));
  try {
    const what = await setUser(db, { username, role: role as Role, orgId: org, password }, 'center users add');
    console.log(JSON.stringify({ ok: true, username, role, org, [what]: true, ...(generated ? { password } : {}) }));
    return 0;
  } finally {
    db.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`ERR: ${err.message}`);
    if (err instanceof UsageError) console.error(USAGE);
    process.exit(1);
  },
);
