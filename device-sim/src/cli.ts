import { parseArgs } from 'node:util';
import pino from 'pino';
import { Fleet } from './fleet';
import { generatedFleet, loadFleetFile, type FleetSpec } from './fleet-config';
import { runControlCommand } from './control/control-client';
import { isNetnsChild, runNetnsChild, startNetnsFleet } from './netns/netns-fleet';

const USAGE = `usage:
  npm run sim -- [--cameras N [--schools S] | --fleet config/fleet.example.yaml]
                 [--width W --height H --fps F --gop S --bitrate KBPS] [--host 127.0.0.1]
                 [--discovery-interface <address>|none [--discovery-per-school] | --netns] [--json] [--log-level info]
  npm run sim -- ctl <control-url> state | fault <name> [key=value …] | event <motion|tamper> [key=value …] | clear`;

/**
 * The camera simulator. With --json, stdout carries exactly one JSON line once every
 * camera is ready: {"cameras":[{"id","name","school","onvif","rtsp","snapshot","username","password","control"}]};
 * logs go to stderr.
 */
async function main(argv: string[]): Promise<void> {
  if (isNetnsChild()) return runNetnsChild();
  if (argv[0] === 'ctl') {
    process.exitCode = await runControlCommand(argv.slice(1), (line) => console.log(line));
    return;
  }
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        cameras: { type: 'string' },
        schools: { type: 'string' },
        fleet: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        fps: { type: 'string' },
        gop: { type: 'string' },
        bitrate: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        'discovery-interface': { type: 'string' },
        'discovery-per-school': { type: 'boolean', default: false },
        netns: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) fail(`--${name} ${v} is not a positive number`);
    return n;
  };
  const overrides = Object.fromEntries(
    Object.entries({ width: num('width', values.width), height: num('height', values.height), fps: num('fps', values.fps), gopSeconds: num('gop', values.gop), bitrateKbps: num('bitrate', values.bitrate) }).filter(([, v]) => v !== undefined),
  );
  let spec: FleetSpec;
  try {
    if (values.fleet && values.cameras) throw new Error('give --fleet or --cameras, not both');
    if (values.fleet) spec = loadFleetFile(values.fleet, overrides);
    else {
      const cameras = num('cameras', values.cameras) ?? 4;
      spec = generatedFleet(cameras, num('schools', values.schools) ?? Math.min(cameras, 2), overrides);
    }
  } catch (err) {
    fail((err as Error).message);
  }
  const logger = pino({ name: 'device-sim', level: values['log-level'] }, pino.destination(2));
  if (values.netns) {
    if (values['discovery-interface'] !== undefined) fail('--netns gives every camera its own address; --discovery-interface does not apply');
    const lan = await startNetnsFleet(spec, { logLevel: values['log-level'], logger }).catch((err: Error) => fail(err.message));
    if (values.json) process.stdout.write(`${JSON.stringify({ cameras: lan.cameras, netns: lan.netns })}\n`);
    else {
      for (const c of lan.cameras) console.log(`${c.id}\t${c.name}\t${c.school}\t${c.onvif}\t${c.rtsp}\t${c.control}`);
      console.log(`Run clients inside the LAN: ip netns exec ${lan.netns.client} <command>`);
    }
    logger.info({ cameras: lan.cameras.length, control: lan.controlUrl, netns: lan.netns }, 'namespace fleet ready');
    const stopLan = (): void => {
      void lan.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stopLan);
    process.once('SIGTERM', stopLan);
    return;
  }
  let fleet: Fleet;
  try {
    if (values['discovery-per-school'] && values['discovery-interface'] !== 'none') fail('--discovery-per-school needs --discovery-interface none');
    fleet = await Fleet.create({ spec, host: values.host, logger, discoveryInterface: values['discovery-interface'], discoveryPerSchool: values['discovery-per-school'] });
  } catch (err) {
    fail((err as Error).message);
  }
  const info = values['discovery-per-school'] ? { ...fleet.info(), discoveryPorts: fleet.schoolDiscoveryPorts } : fleet.info();
  if (values.json) process.stdout.write(`${JSON.stringify(info)}\n`);
  else for (const c of info.cameras) console.log(`${c.id}\t${c.name}\t${c.school}\t${c.onvif}\t${c.rtsp}\t${c.control}`);
  logger.info({ cameras: info.cameras.length, control: fleet.controlUrl }, 'fleet ready');
  const stop = (): void => {
    void fleet.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  console.error(`ERR: ${message}`);
  process.exit(1);
}

void main(process.argv.slice(2));
