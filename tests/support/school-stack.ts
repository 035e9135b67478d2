import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { CentreClient } from '../../control-center/test/support/api-client';
import { ControlCenter } from '../../control-center/src/server';
import { loadGatewayConfig, resolveGatewayConfig } from '../../gateway/src/config';
import { Gateway } from '../../gateway/src/gateway';
import { type Account, createAndEnrolGateway, seedCentre } from './centre-bootstrap';

/** One school of a {@link SchoolStack}: its gateway and the simulated cameras on its network. */
export interface StackSchool {
  id: string;
  gatewayId: string;
  gateway: Gateway;
  /** The cameras its gateway was set up with. */
  configured: SimCameraInfo[];
  /** Cameras on its network that nobody registered yet (for school IT to find). */
  spare: SimCameraInfo[];
}

export interface SchoolStack {
  centreUrl: string;
  fleet: Fleet;
  /** `own` is where school IT works; `other` is a second school it must never see. */
  schools: { own: StackSchool; other: StackSchool };
  accounts: Record<'admin' | 'operator' | 'it' | 'otherIt' | 'auditor', Account>;
  close(): Promise<void>;
}

/**
 * Two schools with their own gateways, the real centre and the simulator, all in this process
 * on loopback. The first school's network holds one camera its gateway does not know yet; its
 * gateway sends directed WS-Discovery probes to the simulator's unicast responder (never
 * multicast outside a namespace).
 */
export async function startSchoolStack(): Promise<SchoolStack> {
  const logger = pino({ level: process.env.SCHOOLCAM_TEST_LOG ?? 'silent' });
  const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-schools-'));
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // Three cameras over two schools: the first school gets cameras 0 and 2, the second camera 1.
    const fleet = await Fleet.create({ spec: generatedFleet(3, 2, { fps: 10 }), discoveryInterface: 'none', logger });
    closers.push(() => fleet.close());
    const sims = fleet.info().cameras;
    const [ownId, otherId] = [...new Set(sims.map((c) => c.school))];
    const accounts = {
      admin: { role: 'admin', username: 'admin', password: 'admin-password-1', org: 'kvk' },
      operator: { role: 'operator', username: 'operator', password: 'operator-password-1', org: 'kvk' },
      it: { role: 'school_it', username: 'it-own', password: 'school-it-password-1', org: ownId },
      otherIt: { role: 'school_it', username: 'it-other', password: 'school-it-password-2', org: otherId },
      auditor: { role: 'auditor', username: 'auditor', password: 'auditor-password-1', org: 'kvk' },
    } satisfies SchoolStack['accounts'];
    await seedCentre(dataDir, Object.values(accounts));
    const centre = await ControlCenter.create({ dataDir, port: 0, loopbackOnly: true, upstreamLingerMs: 500 }, { logger });
    closers.push(() => centre.close());
    const admin = await CentreClient.signIn(centre.url, accounts.admin.username, accounts.admin.password);

    const school = async (schoolId: string, spareCount: number): Promise<StackSchool> => {
      const cams = sims.filter((c) => c.school === schoolId);
      const configured = cams.slice(0, cams.length - spareCount);
      const configFile = join(dataDir, `gateway-${schoolId}.yaml`);
      const { gatewayId } = await createAndEnrolGateway(admin, { id: `gw-${schoolId}`, schoolId, name: `Brána ${schoolId}`, configFile });
      const { secretFile: _secretFile, ...enrolled } = loadGatewayConfig(configFile);
      const gateway = await Gateway.create(
        resolveGatewayConfig({
          ...enrolled,
          dataDir: join(dataDir, `gateway-${schoolId}`),
          loopbackOnly: true,
          lingerMs: 2000,
          cameras: configured.map((c) => ({ id: c.id, name: c.name, onvif: { xaddr: c.onvif, username: c.username, password: c.password } })),
        }),
        { logger, discoveryPort: fleet.discovery.port },
      );
      closers.push(() => gateway.close());
      return { id: schoolId, gatewayId, gateway, configured, spare: cams.slice(cams.length - spareCount) };
    };
    const own = await school(ownId, 1);
    const other = await school(otherId, 0);
    const deadline = Date.now() + 20_000;
    while (centre.stats().gatewaysOnline < 2) {
      if (Date.now() > deadline) throw new Error('the two school gateways did not link to the centre');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { centreUrl: centre.url, fleet, schools: { own, other }, accounts, close };
  } catch (err) {
    await close();
    throw err;
  }
}
