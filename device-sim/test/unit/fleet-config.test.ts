import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FleetConfigError, generatedFleet, loadFleetFile, resolveFleet } from '../../src/fleet-config';

const example = fileURLToPath(new URL('../../../config/fleet.example.yaml', import.meta.url));

describe('fleet configuration', () => {
  it('expands the example fleet file: named and counted cameras, defaults, PTZ, schedule', () => {
    const spec = loadFleetFile(example);
    expect(spec.cameras).toHaveLength(9);
    expect(new Set(spec.cameras.map((c) => c.school))).toEqual(new Set(['zs-karlovy-vary', 'zs-sokolov', 'gym-cheb', 'zs-marianske-lazne']));
    const hd = spec.cameras.find((c) => c.id === 'zs-sokolov-cam1')!;
    expect([hd.width, hd.height, hd.fps]).toEqual([1280, 720, 15]);
    expect(spec.cameras.find((c) => c.id === 'zs-karlovy-vary-cam3')!.ptz).toBe(true);
    expect(spec.cameras.filter((c) => c.school === 'gym-cheb').map((c) => c.name)).toEqual(['Vchod', 'Chodba']);
    expect(spec.schedule.map((s) => s.fault ?? s.event)).toEqual(['motion', 'stall', 'reboot']);
  });

  it('--cameras N spreads cameras round robin over the schools, command-line sizes win', () => {
    const spec = generatedFleet(5, 2, { fps: 10 });
    expect(spec.cameras.map((c) => c.id)).toEqual(['zs-karlovy-vary-cam1', 'zs-karlovy-vary-cam2', 'zs-karlovy-vary-cam3', 'zs-sokolov-cam1', 'zs-sokolov-cam2']);
    expect(spec.cameras.every((c) => c.fps === 10 && c.width === 640)).toBe(true);
    expect(() => generatedFleet(0, 1)).toThrow(FleetConfigError);
    expect(() => generatedFleet(2, 3)).toThrow(FleetConfigError);
  });

  it('rejects unknown keys, duplicate ids, unknown cameras and bad parameters in the schedule, naming the path', () => {
    const school = { id: 'a', name: 'A', count: 1 };
    expect(() => resolveFleet({ schools: [school], colour: 'red' })).toThrow(/colour|additional/i);
    expect(() => resolveFleet({ schools: [{ ...school, cameras: [{ id: 'x', name: 'one' }, { id: 'x', name: 'two' }], count: undefined }] })).toThrow(/duplicate camera id x/);
    expect(() => resolveFleet({ schools: [school], schedule: [{ camera: 'nope', at: 1, fault: 'stall' }] })).toThrow(/schedule\/0\/camera/);
    expect(() => resolveFleet({ schools: [school], schedule: [{ camera: 'a-cam1', at: 1, fault: 'stall', params: { seconds: 'soon' } }] })).toThrow(/schedule\/0\/params\/seconds/);
    expect(() => resolveFleet({ schools: [school], schedule: [{ camera: 'a-cam1', at: 1 }] })).toThrow(/exactly one of fault or event/);
    expect(() => resolveFleet({ schools: [{ id: 'a', name: 'A' }] })).toThrow(/no cameras/);
    expect(() => resolveFleet({ schools: [{ ...school }], defaults: { width: 641 } })).toThrow(/width/);
  });
});
