import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadCenterConfig } from './config';
import { ControlCenter } from './server';

/**
 * `npm run center -- [--config centre.yaml] [--json]`. With --json, stdout carries one
 * JSON line `{"url","pageUrl"}` once the centre listens; logs go to stderr.
 */
async function main(): Promise<void> {
  let args;
  let config;
  try {
    args = parseArgs({ options: { config: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true }).values;
    config = loadCenterConfig(args.config);
  } catch (err) {
    console.error(`ERR: ${(err as Error).message}`);
    process.exit(1);
  }
  const logger = pino({ name: 'control-center', level: config.logLevel }, pino.destination(2));
  const centre = await ControlCenter.create({ ...config, logger }).catch((err: Error) => {
    console.error(`ERR: ${err.message}`);
    process.exit(1);
  });
  if (args.json) process.stdout.write(`${JSON.stringify({ url: centre.url, pageUrl: centre.pageUrl })}\n`);
  else console.log(`Control centre: ${centre.url}\nLive page: ${centre.pageUrl}`);
  const stop = (): void => {
    void centre.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
