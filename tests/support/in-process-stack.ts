import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { ControlCenter, type ControlCenterOptions } from '../../control-center/src/server';
import type { CenterConfigInput } from '../../control-center/src/config';
import { Gateway } from '../../gateway/src/gateway';
import { type CameraConfig, loadGatewayConfig, resolveGatewayConfig } from '../../gateway/src/config';
import { type Account, createAndEnrolGateway, seedCentre } from './centre-bootstrap';
import { CentreClient } from '../../control-center/test/support/api-client';

export interface InProcessStack {
  fleet: Fleet;
  centre: ControlCenter;
  gateway: Gateway;
  /** The gateway's id at the centre; camera ids there are `<gatewayId>:<local id>`. */
  gatewayId: string;
  /** Accounts: `admin`, `operator` and `auditor` (region), `it` (the fleet's school), `police` (Karlovy Vary's force: sees only what grants give). */
  accounts: { admin: Account; operator: Account; auditor: Account; it: Account; police: Account };
  /** The centre's id of a camera the gateway knows by `localId`. */
  centreId(localId: string): string;
  close(): Promise<void>;
}

/**
 * Simulator, one enrolled gateway and the centre in the test's own process, so a test can
 * look at their counters and at the process's open handles. `extraCameras` adds cameras that
 * are not in the simulator (broken ones, say).
 */
export async function startInProcessStack(opts: {
  cameras: number;
  extraCameras?: CameraConfig[];
  lingerMs?: number;
  /** Centre settings (e.g. `fanoutShards`). */
  centre?: CenterConfigInput;
  /** Fan-out tuning and test hooks of the centre. */
  fanout?: ControlCenterOptions['fanout'];
  /** Simulated cameras' GOP, s. */
  gopSeconds?: number;
  /** Grant credentials for the centre's RTSP re-export (with `centre.rtspExport`). */
  rtspGrants?: ControlCenterOptions['rtspGrants'];
}): Promise<InProcessStack> {
  const logger = pino({ level: process.env.SCHOOLCAM_TEST_LOG ?? 'silent' });
  const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-inproc-'));
  const fleet = await Fleet.create({ spec: generatedFleet(opts.cameras, 1, opts.gopSeconds ? { gopSeconds: opts.gopSeconds } : {}), discoveryInterface: 'none', logger });
  const sims = fleet.info().cameras;
  const school = sims[0].school;
  const accounts = {
    admin: { role: 'admin', username: 'admin', password: 'admin-password-1', org: 'kvk' },
    operator: { role: 'operator', username: 'operator', password: 'operator-password-1', org: 'kvk' },
    auditor: { role: 'auditor', username: 'auditor', password: 'auditor-password-1', org: 'kvk' },
    police: { role: 'police', username: 'police', password: 'police-password-1', org: 'mp-karlovy-vary' },
    it: { role: 'school_it', username: 'it-school', password: 'school-it-password-1', org: school },
  } satisfies Record<string, Account>;
  await seedCentre(dataDir, Object.values(accounts));
  const centre = await ControlCenter.create({ dataDir, port: 0, loopbackOnly: true, upstreamLingerMs: opts.lingerMs ?? 200, ...opts.centre }, { logger, fanout: opts.fanout, rtspGrants: opts.rtspGrants });
  const admin = await CentreClient.signIn(centre.url, accounts.admin.username, accounts.admin.password);
  const configFile = join(dataDir, 'gateway.yaml');
  const { gatewayId } = await createAndEnrolGateway(admin, { id: 'gw-test', schoolId: school, name: 'Test gateway', configFile });
  const { secretFile: _secretFile, ...enrolled } = loadGatewayConfig(configFile);
  const gateway = await Gateway.create(
    resolveGatewayConfig({
      ...enrolled,
      loopbackOnly: true,
      lingerMs: opts.lingerMs ?? 200,
      cameras: [...sims.map((c) => ({ id: c.id, name: c.name, onvif: { xaddr: c.onvif, username: c.username, password: c.password } })), ...(opts.extraCameras ?? [])],
    }),
    { logger },
  );
  const deadline = Date.now() + 15_000;
  while (centre.stats().gatewaysOnline < 1) {
    if (Date.now() > deadline) throw new Error('gateway did not connect to the centre');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    fleet,
    centre,
    gateway,
    gatewayId,
    accounts,
    centreId: (localId) => `${gatewayId}:${localId}`,
    close: async () => {
      await gateway.close();
      await centre.close();
      await fleet.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Open handles of this process by kind (timers, sockets…), for leak checks. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
