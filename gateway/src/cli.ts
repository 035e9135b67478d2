import { parseArgs } from 'node:util';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';
import { runEnrolCommand } from './link/enrolment';

/** `npm run gateway -- --config gateway.yaml`, or `npm run gateway -- enroll <centre-url> <token> …` */
function main(): void {
  if (process.argv[2] === 'enroll') {
    runEnrolCommand(process.argv.slice(3)).then(
      (code) => process.exit(code),
      (err: Error) => {
        console.error(`ERR: ${err.message}`);
        process.exit(1);
      },
    );
    return;
  }
  let config;
  try {
    const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
    if (!values.config) throw new Error('--config <file> is required');
    config = loadGatewayConfig(values.config);
  } catch (err) {
    console.error(`ERR: ${(err as Error).message}`);
    process.exit(1);
  }
  let gateway: Gateway;
  try {
    gateway = Gateway.create(config);
  } catch (err) {
    console.error(`ERR: ${(err as Error).message}`);
    process.exit(1);
  }
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();
