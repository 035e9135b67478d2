/** Pan and tilt in the generic space [-1, 1], zoom in [0, 1] (ONVIF PTZ §5.7, generic spaces). */
export interface PtzVector {
  pan: number;
  tilt: number;
  zoom: number;
}

export interface PtzPreset {
  token: string;
  name: string;
  position: PtzVector;
}

/** What {@link PtzHead.status} reports (and the simulator shows). */
export interface PtzStatus {
  position: PtzVector;
  moving: { panTilt: boolean; zoom: boolean };
  presets: PtzPreset[];
}

export interface PtzHeadOptions {
  /** monotonic clock in ms; default `performance.now` */
  now?: () => number;
  /** generic-space units per second at velocity 1 (or preset/absolute moves); default 0.5 */
  unitsPerSecond?: number;
  /** default 32 (ONVIF lets the node advertise its own MaximumNumberOfPresets) */
  maxPresets?: number;
}

export type SetPresetResult =
  | { ok: true; token: string }
  | { ok: false; error: 'no-token' | 'too-many' | 'name-exists' | 'bad-name' };

const AXES = ['pan', 'tilt', 'zoom'] as const;
type Axis = (typeof AXES)[number];
const LIMITS: Record<Axis, [number, number]> = { pan: [-1, 1], tilt: [-1, 1], zoom: [0, 1] };
const MAX_PRESET_NAME = 64;

/** One axis moving at a constant rate from `from` (at `since`) until `until`, clamped to its range. */
interface AxisMotion {
  from: number;
  since: number;
  perMs: number;
  until: number;
}

/**
 * The mechanical state of a simulated PTZ head. Movements are stored as (start, rate, end) per
 * axis and positions computed on read, so a moving camera costs no timer and leaves none behind.
 */
export class PtzHead {
  readonly #now: () => number;
  readonly #unitsPerMs: number;
  readonly #maxPresets: number;
  readonly #axes: Record<Axis, AxisMotion>;
  readonly #presets = new Map<string, PtzPreset>();
  #nextPreset = 1;

  constructor(opts: PtzHeadOptions = {}) {
    this.#now = opts.now ?? (() => performance.now());
    this.#unitsPerMs = (opts.unitsPerSecond ?? 0.5) / 1000;
    this.#maxPresets = opts.maxPresets ?? 32;
    const t = this.#now();
    this.#axes = { pan: still(0, t), tilt: still(0, t), zoom: still(0, t) };
  }

  get maxPresets(): number {
    return this.#maxPresets;
  }

  status(): PtzStatus {
    const t = this.#now();
    return {
      position: this.position(),
      moving: { panTilt: this.#moving('pan', t) || this.#moving('tilt', t), zoom: this.#moving('zoom', t) },
      presets: [...this.#presets.values()].map((p) => ({ ...p, position: { ...p.position } })),
    };
  }

  position(): PtzVector {
    const t = this.#now();
    return { pan: this.#at('pan', t), tilt: this.#at('tilt', t), zoom: this.#at('zoom', t) };
  }

  /**
   * ONVIF ContinuousMove: velocities in [-1, 1] (clamped); an axis left undefined keeps what it was
   * doing. Movement ends after `timeoutMs` or at the end of the range.
   */
  continuousMove(velocity: Partial<PtzVector>, timeoutMs: number): void {
    const t = this.#now();
    for (const axis of AXES) {
      const v = velocity[axis];
      if (v === undefined) continue;
      const rate = clamp(v, -1, 1) * this.#unitsPerMs;
      this.#axes[axis] = { from: this.#at(axis, t), since: t, perMs: rate, until: rate === 0 ? t : t + timeoutMs };
    }
  }

  /** Move in a straight line per axis to `target` (AbsoluteMove, GotoPreset), at full speed. */
  moveTo(target: Partial<PtzVector>): void {
    const t = this.#now();
    for (const axis of AXES) {
      const goal = target[axis];
      if (goal === undefined) continue;
      const [lo, hi] = LIMITS[axis];
      const from = this.#at(axis, t);
      const distance = clamp(goal, lo, hi) - from;
      const duration = Math.abs(distance) / this.#unitsPerMs;
      this.#axes[axis] = { from, since: t, perMs: duration === 0 ? 0 : distance / duration, until: t + duration };
    }
  }

  stop(panTilt = true, zoom = true): void {
    const t = this.#now();
    const axes: Axis[] = [...(panTilt ? (['pan', 'tilt'] as const) : []), ...(zoom ? (['zoom'] as const) : [])];
    for (const axis of axes) this.#axes[axis] = still(this.#at(axis, t), t);
  }

  /** ONVIF SetPreset: store the current position, as a new preset or over `token`. */
  setPreset(name: string | undefined, token: string | undefined): SetPresetResult {
    if (name !== undefined && (name.length > MAX_PRESET_NAME || name.trim() === '')) return { ok: false, error: 'bad-name' };
    if (token !== undefined && !this.#presets.has(token)) return { ok: false, error: 'no-token' };
    if (name !== undefined && [...this.#presets.values()].some((p) => p.name === name && p.token !== token)) return { ok: false, error: 'name-exists' };
    if (token === undefined && this.#presets.size >= this.#maxPresets) return { ok: false, error: 'too-many' };
    let id = token;
    while (id === undefined || (token === undefined && this.#presets.has(id))) id = String(this.#nextPreset++);
    const previous = this.#presets.get(id);
    this.#presets.set(id, { token: id, name: name ?? previous?.name ?? `Preset ${id}`, position: this.position() });
    return { ok: true, token: id };
  }

  removePreset(token: string): boolean {
    return this.#presets.delete(token);
  }

  /** Start moving to a preset; false when the token is unknown. */
  gotoPreset(token: string): boolean {
    const preset = this.#presets.get(token);
    if (preset === undefined) return false;
    this.moveTo(preset.position);
    return true;
  }

  #at(axis: Axis, t: number): number {
    const m = this.#axes[axis];
    const [lo, hi] = LIMITS[axis];
    return round(clamp(m.from + m.perMs * (Math.min(t, m.until) - m.since), lo, hi));
  }

  #moving(axis: Axis, t: number): boolean {
    const m = this.#axes[axis];
    if (m.perMs === 0 || t >= m.until) return false;
    const [lo, hi] = LIMITS[axis];
    const p = m.from + m.perMs * (t - m.since);
    return m.perMs > 0 ? p < hi : p > lo;
  }
}

function still(at: number, t: number): AxisMotion {
  return { from: at, since: t, perMs: 0, until: t };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Six decimals: enough for any client, and no `1e-17` in the XML. */
function round(v: number): number {
  return Math.round(v * 1e6) / 1e6 || 0;
}
