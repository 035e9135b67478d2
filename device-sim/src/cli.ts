import { parseArgs } from 'node:util';
import pino from 'pino';
import { Fleet } from './fleet';

/**
 * `npm run sim -- --cameras N [--schools S] [--width W --height H --fps F --gop S] [--json]`
 * With --json, stdout carries exactly one JSON line once every camera is ready; logs go to stderr.
 */
async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        cameras: { type: 'string', default: '4' },
        schools: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        fps: { type: 'string' },
        gop: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        json: { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`ERR: ${(err as Error).message}`);
    process.exit(1);
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`ERR: --${name} ${v} is not a positive number`);
      process.exit(1);
    }
    return n;
  };
  const logger = pino({ name: 'device-sim', level: args['log-level'] }, pino.destination(2));
  let fleet: Fleet;
  try {
    fleet = await Fleet.create({
      cameras: num('cameras', args.cameras)!,
      schools: num('schools', args.schools),
      width: num('width', args.width),
      height: num('height', args.height),
      fps: num('fps', args.fps),
      gopSeconds: num('gop', args.gop),
      host: args.host,
      logger,
    });
  } catch (err) {
    console.error(`ERR: ${(err as Error).message}`);
    process.exit(1);
  }
  const info = fleet.info();
  if (args.json) process.stdout.write(`${JSON.stringify(info)}\n`);
  else for (const c of info.cameras) console.log(`${c.id}\t${c.name}\t${c.school}\t${c.onvif}\t${c.rtsp}`);
  logger.info({ cameras: info.cameras.length, control: fleet.controlUrl }, 'fleet ready');
  const stop = (): void => {
    void fleet.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
