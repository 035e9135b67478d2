import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { ControlCenter } from '../../control-center/src/server';
import { Gateway } from '../../gateway/src/gateway';
import { type CameraConfig, resolveGatewayConfig } from '../../gateway/src/config';

export interface InProcessStack {
  fleet: Fleet;
  centre: ControlCenter;
  gateway: Gateway;
  close(): Promise<void>;
}

/**
 * Simulator, one gateway and the centre in the test's own process, so a test can look
 * at their counters and at the process's open handles. `extraCameras` adds cameras that
 * are not in the simulator (broken ones, say).
 */
export async function startInProcessStack(opts: { cameras: number; extraCameras?: CameraConfig[]; lingerMs?: number }): Promise<InProcessStack> {
  const logger = pino({ level: process.env.SCHOOLCAM_TEST_LOG ?? 'silent' });
  const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-inproc-'));
  const fleet = await Fleet.create({ spec: generatedFleet(opts.cameras, 1), discoveryInterface: 'none', logger });
  const sims = fleet.info().cameras;
  const school = sims[0].school;
  const secret = 'test-gateway-secret';
  const centre = await ControlCenter.create({
    dataDir,
    loopbackOnly: true,
    logger,
    upstreamLingerMs: opts.lingerMs ?? 200,
    gateways: [{ id: 'gw-test', schoolId: school, name: 'Test gateway', secret }],
  });
  const gateway = await Gateway.create(
    resolveGatewayConfig({
      gatewayId: 'gw-test',
      schoolId: school,
      centerUrl: centre.url,
      secret,
      dataDir,
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
