import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EventParams, FaultParams, checkParams } from './control/fault-params';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });

const StreamSettings = {
  width: Type.Optional(Type.Integer({ minimum: 80, maximum: 3840, multipleOf: 2 })),
  height: Type.Optional(Type.Integer({ minimum: 32, maximum: 2160, multipleOf: 2 })),
  fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60 })),
  gopSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60 })),
  /** Average bitrate of the main profile, kbit/s (0: the bare picture). */
  bitrateKbps: Type.Optional(Type.Number({ minimum: 0, maximum: 50_000 })),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  ptz: Type.Optional(Type.Boolean()),
};

const CameraEntry = Type.Object({ id: Type.Optional(Id), name: Type.String({ minLength: 1, maxLength: 100 }), ...StreamSettings }, { additionalProperties: false });

const SchoolEntry = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** Named cameras. */
    cameras: Type.Optional(Type.Array(CameraEntry, { maxItems: 500 })),
    /** Or just a number of cameras with generated names. */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);

export const FAULT_NAMES = ['reboot', 'stall', 'drop', 'stream', 'clock-skew', 'auth', 'lose-subscriptions', 'malformed', 'discovery'] as const;
export const EVENT_NAMES = ['motion', 'tamper'] as const;

const ScheduledAction = Type.Object(
  {
    camera: Id,
    /** Seconds after the fleet is ready. */
    at: Type.Number({ minimum: 0, maximum: 86_400 }),
    fault: Type.Optional(Type.Union(FAULT_NAMES.map((f) => Type.Literal(f)))),
    event: Type.Optional(Type.Union(EVENT_NAMES.map((e) => Type.Literal(e)))),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const FleetFile = Type.Object(
  {
    defaults: Type.Optional(Type.Object(StreamSettings, { additionalProperties: false })),
    schools: Type.Array(SchoolEntry, { minItems: 1, maxItems: 200 }),
    schedule: Type.Optional(Type.Array(ScheduledAction, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type FleetFile = Static<typeof FleetFile>;
export type ScheduledAction = Static<typeof ScheduledAction>;

/** One camera to simulate, fully resolved. */
export interface CameraSpec {
  id: string;
  name: string;
  school: string;
  schoolName: string;
  width: number;
  height: number;
  fps: number;
  gopSeconds: number;
  bitrateKbps: number;
  username: string;
  password: string | undefined;
  ptz: boolean;
}

export interface FleetSpec {
  cameras: CameraSpec[];
  schedule: ScheduledAction[];
}

const checker = TypeCompiler.Compile(FleetFile);
const BASE = { width: 640, height: 360, fps: 15, gopSeconds: 2, bitrateKbps: 0, username: 'admin' };

/** Schools of the reference region (Karlovarský kraj), for `--cameras N`. */
export const REFERENCE_SCHOOLS = [
  { id: 'zs-karlovy-vary', name: 'ZŠ Karlovy Vary' },
  { id: 'zs-sokolov', name: 'ZŠ Sokolov' },
  { id: 'gym-cheb', name: 'Gymnázium Cheb' },
  { id: 'zs-marianske-lazne', name: 'ZŠ Mariánské Lázně' },
] as const;

const CAMERA_NAMES = ['Vchod', 'Chodba', 'Dvůr', 'Tělocvična', 'Jídelna', 'Parkoviště', 'Šatna', 'Knihovna'];

export class FleetConfigError extends Error {
  readonly code = 'FLEET_CONFIG';
}

/** Validates a fleet file's content (unknown keys rejected) and expands it into camera specs. */
export function resolveFleet(raw: unknown, overrides: Partial<typeof BASE> = {}): FleetSpec {
  if (!checker.Check(raw)) {
    const e = checker.Errors(raw).First();
    throw new FleetConfigError(`${e?.path || '/'} ${e?.message ?? 'invalid'}`);
  }
  const defaults = { ...BASE, ...raw.defaults, ...stripUndefined(overrides) };
  const cameras: CameraSpec[] = [];
  raw.schools.forEach((school, si) => {
    const entries = school.cameras ?? Array.from({ length: school.count ?? 0 }, (_, k) => ({ name: cameraName(k) }));
    if (entries.length === 0) throw new FleetConfigError(`/schools/${si} has no cameras (give cameras or count)`);
    entries.forEach((c, k) => {
      const cam = { ...defaults, ...stripUndefined(c as Record<string, unknown>) } as typeof defaults & { id?: string; name: string; password?: string; ptz?: boolean };
      cameras.push({
        id: cam.id ?? `${school.id}-cam${k + 1}`,
        name: cam.name,
        school: school.id,
        schoolName: school.name,
        width: cam.width,
        height: cam.height,
        fps: cam.fps,
        gopSeconds: cam.gopSeconds,
        bitrateKbps: cam.bitrateKbps,
        username: cam.username,
        password: cam.password,
        ptz: cam.ptz ?? false,
      });
    });
  });
  const ids = new Set<string>();
  for (const c of cameras) {
    if (ids.has(c.id)) throw new FleetConfigError(`duplicate camera id ${c.id}`);
    ids.add(c.id);
  }
  const schedule = raw.schedule ?? [];
  schedule.forEach((a, i) => {
    if (!ids.has(a.camera)) throw new FleetConfigError(`/schedule/${i}/camera ${a.camera} is not in the fleet`);
    if (!a.fault === !a.event) throw new FleetConfigError(`/schedule/${i} needs exactly one of fault or event`);
    const problem = checkParams(a.fault ? FaultParams[a.fault] : EventParams[a.event!], a.params ?? {});
    if (problem) throw new FleetConfigError(`/schedule/${i}/params${problem.startsWith('/') ? problem : ` ${problem}`}`);
  });
  return { cameras, schedule };
}

export function loadFleetFile(file: string, overrides: Partial<typeof BASE> = {}): FleetSpec {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FleetConfigError(`${file} cannot be read: ${(err as Error).message}`);
  }
  return resolveFleet(raw, overrides);
}

/** `--cameras N [--schools S]`: N cameras spread round robin over the reference schools. */
export function generatedFleet(cameras: number, schools: number, overrides: Partial<typeof BASE> = {}): FleetSpec {
  if (!Number.isInteger(cameras) || cameras < 1 || cameras > 1000) throw new FleetConfigError('cameras must be an integer 1..1000');
  if (!Number.isInteger(schools) || schools < 1 || schools > cameras) throw new FleetConfigError('schools must be an integer 1..cameras');
  const list = Array.from({ length: schools }, (_, s) => {
    const base = REFERENCE_SCHOOLS[s % REFERENCE_SCHOOLS.length];
    const round = Math.floor(s / REFERENCE_SCHOOLS.length);
    return { id: round === 0 ? base.id : `${base.id}-${round + 1}`, name: round === 0 ? base.name : `${base.name} ${round + 1}`, count: 0 };
  });
  for (let i = 0; i < cameras; i++) list[i % schools].count++;
  return resolveFleet({ schools: list }, overrides);
}

function cameraName(k: number): string {
  return CAMERA_NAMES[k % CAMERA_NAMES.length] + (k >= CAMERA_NAMES.length ? ` ${Math.floor(k / CAMERA_NAMES.length) + 1}` : '');
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
