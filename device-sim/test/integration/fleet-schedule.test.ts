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
        { camera: 'zs-test-cam2', at: 2, event: 'motion' },
        { camera: 'zs-test-cam1', at: 2, fault: 'stall', params: { seconds: 1.5 } },
      ],
    });
    fleet = await Fleet.create({ spec, discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
    const started = Date.now();
    const state = async (i: number) => (await (await fetch(`${fleet!.info().cameras[i].control}/state`)).json()) as { faults: { stall: boolean }; events: { motion: boolean } };
    // Polls rather than sleeps: on a loaded machine a timer may fire late, never early.
    const until = async (what: string, check: () => Promise<boolean>): Promise<number> => {
      while (!(await check())) {
        if (Date.now() - started > 15_000) throw new Error(`timed out waiting until ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return Date.now() - started;
    };
    expect((await state(0)).faults.stall).toBe(false);
    expect((await state(1)).events.motion).toBe(false);
    const stalledAt = await until('the stall begins', async () => (await state(0)).faults.stall);
    expect(stalledAt).toBeGreaterThanOrEqual(2000 - 50);
    await until('motion is raised', async () => (await state(1)).events.motion);
    const recoveredAt = await until('the stall ends by itself', async () => !(await state(0)).faults.stall);
    expect(recoveredAt - stalledAt).toBeGreaterThanOrEqual(1500 - 100);
  });
});
