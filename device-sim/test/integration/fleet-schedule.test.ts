import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../src/fleet';
import { resolveFleet } from '../../src/fleet-config';

describe('scheduled faults from the fleet file', () => {
  let fleet: Fleet | undefined;
  afterAll(async () => {
    await fleet?.close();
  });

  it('plays events and faults at their time, and a timed fault ends by itself', async () => {
    const spec = resolveFleet({
      schools: [{ id: 'zs-test', name: 'ZŠ Test', count: 2 }],
      schedule: [
        { camera: 'zs-test-cam2', at: 0.2, event: 'motion' },
        { camera: 'zs-test-cam1', at: 0.2, fault: 'stall', params: { seconds: 0.6 } },
      ],
    });
    fleet = await Fleet.create({ spec, discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
    const state = async (i: number) => (await (await fetch(`${fleet!.info().cameras[i].control}/state`)).json()) as { faults: { stall: boolean }; events: { motion: boolean } };
    expect((await state(0)).faults.stall).toBe(false);
    await new Promise((r) => setTimeout(r, 450));
    expect((await state(0)).faults.stall).toBe(true);
    expect((await state(1)).events.motion).toBe(true);
    await new Promise((r) => setTimeout(r, 700));
    expect((await state(0)).faults.stall).toBe(false);
  });
});
