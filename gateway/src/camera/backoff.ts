/** Reconnect delays: 1 s, 2 s, 5 s, 10 s, 20 s, then 30 s for as long as it takes. */
export const DEFAULT_BACKOFF_STEPS_MS: readonly number[] = [1000, 2000, 5000, 10_000, 20_000, 30_000];

/**
 * Jittered reconnect delays for one camera. Each failure takes the next step (the last one
 * repeats); jitter (±20 % by default) keeps a school's cameras, all dropped by one switch reboot,
 * from coming back in lockstep. Reset only when the camera has proved itself again.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly steps: readonly number[] = DEFAULT_BACKOFF_STEPS_MS,
    private readonly jitter = 0.2,
    private readonly random: () => number = Math.random,
  ) {
    if (steps.length === 0) throw new RangeError('backoff needs at least one step');
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The wait before the next attempt, for one more failure. */
  next(): number {
    const base = this.steps[Math.min(this.failures, this.steps.length - 1)];
    this.failures++;
    return Math.round(base * (1 - this.jitter + 2 * this.jitter * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }
}
