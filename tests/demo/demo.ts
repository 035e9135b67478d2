import { join } from 'node:path';
import { startStack } from './demo-stack';

/**
 * `npm start`: the whole system on this machine — 2 schools × 2 simulated cameras, one
 * gateway per school, the control centre with its SQLite file under data/ — and the URL
 * of the live page. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  console.log('Starting the simulator, the control centre and two school gateways…');
  const stack = await startStack({ cameras: 4, schools: 2, dataDir: join(process.cwd(), 'data'), port: Number(process.env.SCHOOLCAM_CENTER_PORT ?? 8080), logs: 'ignore' });
  console.log(`Cameras: ${stack.cameras.map((c) => `${c.name} (${c.school})`).join(', ')}`);
  console.log(`Dashboard: ${stack.pageUrl}`);
  console.log(`Simulator: ${stack.simulatorUrl}`);
  console.log('Press Ctrl-C to stop.');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping…');
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`ERR: ${err.message}`);
  process.exit(1);
});
