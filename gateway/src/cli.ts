import { parseArgs } from 'node:util';
import pino from 'pino';
import type { CheckResult } from '@schoolcam/protocol/link/link-messages';
import { checkCamera } from './check/camera-check';
import { GRADE_WORDS } from './check/grade';
import { loadGatewayConfig, storagePaths, type CameraConfig } from './config';
import { discoverDevices, parseAddressRange } from './discovery/discovery-client';
import { Gateway } from './gateway';
import { runEnrolCommand } from './link/enrolment';
import { CameraRegistry } from './storage/camera-registry';
import { openDatabase } from './storage/database';
import { SecretBox } from './storage/secret-box';

const USAGE = `usage:
  npm run gateway -- --config gateway.yaml                      run the gateway (also: start --config …)
  npm run gateway -- enroll <centre-url> <token> [--config gateway.yaml] [--secret-file F] [--ca ca.pem]
  npm run gateway -- check <rtsp-url | onvif-url> [--user U --password P] [--allow-basic] [--lang cs|en] [--timeout ms]
  npm run gateway -- discover [--interface <address>] [--range 10.0.0.1-10.0.0.254] [--user U --password P] [--timeout ms] [--json]
  npm run gateway -- cameras list --config gateway.yaml [--json]
  npm run gateway -- cameras add --config gateway.yaml --id ID --name NAME (--onvif URL | --rtsp URL)
                     [--user U --password P] [--profile main|sub] [--transport tcp|udp] [--allow-basic]
  npm run gateway -- cameras remove --config gateway.yaml ID`;

/** A failure the user caused or can act on: one line, exit 1. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check':
      return runCheck(rest);
    case 'discover':
      return runDiscover(rest);
    case 'cameras':
      return runCameras(rest);
    case 'start':
      return runGateway(rest);
    case 'enroll': {
      const code = await runEnrolCommand(rest);
      if (code !== 0) process.exit(code);
      return;
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      // `npm run gateway -- --config file`: the gateway itself, as before subcommands existed.
      if (command === undefined || command.startsWith('--')) return runGateway(argv);
      throw new UsageError(`unknown command ${command}\n${USAGE}`);
  }
}

async function runGateway(args: string[]): Promise<void> {
  const { values } = parse(args, { config: { type: 'string' } });
  if (!values.config) throw new UsageError('--config <file> is required');
  const config = loadGatewayConfig(values.config);
  const gateway = await Gateway.create(config);
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function runCheck(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    args,
    { user: { type: 'string' }, password: { type: 'string' }, 'allow-basic': { type: 'boolean', default: false }, lang: { type: 'string', default: 'cs' }, timeout: { type: 'string' } },
    true,
  );
  const url = positionals[0];
  if (!url || positionals.length > 1) throw new UsageError('check needs exactly one camera URL (rtsp://… or the ONVIF http://…/onvif/device_service)');
  const lang = values.lang === 'en' ? 'en' : 'cs';
  const result: CheckResult = await checkCamera({
    url,
    username: values.user,
    password: values.password,
    allowBasic: values['allow-basic'],
    timeoutMs: positiveInt('timeout', values.timeout),
    logger: pino({ level: 'silent' }),
  });
  const size = result.width && result.height ? `${result.width}×${result.height}` : '?';
  console.log(`${result.codec ?? '?'} ${result.profile ?? ''} ${size} ${result.fps ?? '?'} fps, GOP ${result.gopSeconds ?? '?'} s, ${result.bitrateKbps ?? '?'} kbit/s, audio ${result.audioCodec ?? '—'}`.replace(/\s+/g, ' '));
  console.log(`${lang === 'cs' ? 'Hodnocení' : 'Grade'}: ${GRADE_WORDS[result.grade][lang]}`);
  for (const r of result.reasons) console.log(`- ${r[lang]}`);
  console.log(JSON.stringify(result));
}

async function runDiscover(args: string[]): Promise<void> {
  const { values } = parse(args, {
    interface: { type: 'string' },
    range: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    timeout: { type: 'string' },
    port: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const devices = await discoverDevices({
    interfaceAddress: values.interface,
    targets: values.range === undefined ? [] : parseAddressRange(values.range),
    port: positiveInt('port', values.port),
    timeoutMs: positiveInt('timeout', values.timeout),
    username: values.user,
    password: values.password,
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
  if (values.json) {
    console.log(JSON.stringify({ devices }));
    return;
  }
  if (devices.length === 0) console.log('no cameras answered');
  for (const d of devices) {
    const profiles = d.profiles.map((p) => `${p.token} ${p.encoding ?? ''} ${p.width}×${p.height}`).join(', ');
    console.log(`${d.xaddr}\t${d.name ?? ''}\t${d.hardware ?? ''}\t${profiles || d.error || ''}`);
  }
}

function runCameras(args: string[]): void {
  const [action, ...rest] = args;
  const { values, positionals } = parse(
    rest,
    {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      id: { type: 'string' },
      name: { type: 'string' },
      onvif: { type: 'string' },
      rtsp: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      profile: { type: 'string' },
      transport: { type: 'string' },
      'allow-basic': { type: 'boolean', default: false },
    },
    true,
  );
  if (!values.config) throw new UsageError('--config <gateway config file> is required (it names the gateway and its data folder)');
  const config = loadGatewayConfig(values.config);
  const paths = storagePaths(config);
  const db = openDatabase(paths.database);
  try {
    const registry = new CameraRegistry(db, SecretBox.open(paths.keyFile, db));
    switch (action) {
      case 'list': {
        const cams = registry.summaries();
        if (values.json) console.log(JSON.stringify({ cameras: cams }));
        else if (cams.length === 0) console.log('no cameras registered');
        else for (const c of cams) console.log(`${c.id}\t${c.name}\t${c.source}\t${c.address}\t${c.origin}`);
        return;
      }
      case 'add': {
        if (!values.id || !values.name) throw new UsageError('cameras add needs --id and --name');
        if (!values.onvif === !values.rtsp) throw new UsageError('cameras add needs exactly one of --onvif <device service URL> or --rtsp <URL>');
        if (values.profile !== undefined && values.profile !== 'main' && values.profile !== 'sub') throw new UsageError('--profile is main or sub');
        if (values.transport !== undefined && values.transport !== 'tcp' && values.transport !== 'udp') throw new UsageError('--transport is tcp or udp');
        const camera: CameraConfig = { id: values.id, name: values.name };
        if (values.onvif) {
          camera.onvif = { xaddr: values.onvif, username: values.user ?? '', password: values.password ?? '' };
          if (values.profile) camera.onvif.profile = values.profile;
        } else {
          camera.rtsp = { url: values.rtsp! };
          if (values.user !== undefined) camera.rtsp.username = values.user;
          if (values.password !== undefined) camera.rtsp.password = values.password;
        }
        if (values.transport) camera.transport = values.transport;
        if (values['allow-basic']) camera.allowBasicAuth = true;
        if (config.cameras.some((c) => c.id === camera.id)) throw new UsageError(`camera ${camera.id} comes from ${values.config}; change it there`);
        const existed = registry.get(camera.id) !== undefined;
        registry.upsert(camera, 'cli');
        console.log(`${existed ? 'updated' : 'added'} camera ${camera.id} (${camera.name}); a running gateway picks it up within a second`);
        return;
      }
      case 'remove': {
        const id = positionals[0] ?? values.id;
        if (!id) throw new UsageError('cameras remove needs the camera id');
        if (config.cameras.some((c) => c.id === id)) throw new UsageError(`camera ${id} comes from ${values.config}; remove it there`);
        if (!registry.remove(id)) throw new UsageError(`no camera ${id} is registered`);
        console.log(`removed camera ${id}`);
        return;
      }
      default:
        throw new UsageError(`cameras needs list, add or remove\n${USAGE}`);
    }
  } finally {
    db.close();
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} ${v} is not a positive whole number`);
  return n;
}

// `… | head`: a reader that stops reading is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

main(process.argv.slice(2)).catch((err: unknown) => {
  // One line for people: what went wrong and, where it helps, what to do.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`ERR: ${message.split('\n')[0]}`);
  // Usage help follows only for a mistyped command line, never for a camera that failed.
  if (err instanceof UsageError && message.includes('\n')) console.error(message.split('\n').slice(1).join('\n'));
  process.exit(1);
});
