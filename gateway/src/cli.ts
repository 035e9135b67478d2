import { parseArgs } from 'node:util';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';

/** `npm run gateway -- --config gateway.yaml` */
function main(): void {
  let config;
  try {
    const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
    if (!values.config) throw new Error('--config <file> is required');
    config = loadGatewayConfig(values.config);
  } catch (err) {
    console.error(`ERR: ${(err as Error).message}`);
    process.exit(1);
  }
  const gateway = Gateway.create(config);
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();
