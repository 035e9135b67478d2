import { join } from 'node:path';
import { startStack } from './demo-stack';

/**
 * `npm start`: the whole system on this machine — the reference region (Karlovy Vary,
 * Sokolov, Cheb, Mariánské Lázně: a municipal police force and a school with simulated
 * cameras in each town), one enrolled gateway per school, the control centre with its
 * SQLite file under data/ (or SCHOOLCAM_DATA_DIR) — and one sign-in per role. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  console.log('Starting the simulator, the control centre and the school gateways…');
  // Ten cameras: ZŠ Sokolov's third is on its network but not on its gateway, for its IT to add in the wizard.
  const stack = await startStack({
    cameras: 10,
    schools: 4,
    dataDir: process.env.SCHOOLCAM_DATA_DIR ?? join(process.cwd(), 'data'),
    port: Number(process.env.SCHOOLCAM_CENTER_PORT ?? 8080),
    logs: 'ignore',
    spare: { schoolId: 'zs-sokolov', count: 1 },
    // The RTSP re-export for police video systems, on a free port: grants hand out its URLs.
    centre: { rtspExport: { port: 0 } },
  });
  console.log(`Cameras: ${stack.cameras.map((c) => `${c.name} (${c.school})`).join(', ')}`);
  for (const c of stack.spareCameras) {
    console.log(`Not registered yet (sign in as school IT → Přidat kameru → find with the address range 127.0.0.1, or type the address): ${c.name} (${c.school}) ${c.onvif} user=${c.username} password=${c.password}`);
  }
  console.log(`Dashboard: ${stack.pageUrl}`);
  console.log(`Simulator: ${stack.simulatorUrl}`);
  for (const a of stack.accounts) console.log(`Login: role=${a.role} user=${a.username} password=${a.password} org=${a.org}`);
  const police = stack.account('police');
  console.log(`Police sharing: ${police.username} sees nothing until the operator shares a school with ${police.org} (operator → Sdílení s policií, or POST /api/grants); ${stack.account('school_it').username} can raise an emergency there, which police-sokolov sees at once.`);
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
