import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/**
 * Property-based fuzzing of the parsers that read the network (RTSP, SDP, RTP, H.264, SOAP,
 * WS-Discovery, link messages). `npm test` runs each property `fallback` times; `npm run fuzz`
 * (the `fuzz` vitest project) sets SCHOOLCAM_FUZZ_RUNS to 100 000 or more.
 */
export function fuzzRuns(fallback: number): number {
  const n = Number(process.env.SCHOOLCAM_FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? Math.max(n, fallback) : fallback;
}

/** True under `npm run fuzz`. */
export const fuzzing = (): boolean => fuzzRuns(1) > 1;

/** The kept crash inputs of one parser: every file of `dir`, sorted by name. */
export function corpus(dir: string): { name: string; data: Buffer }[] {
  mkdirSync(dir, { recursive: true });
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}

export interface FuzzOptions<T> {
  /** cases in `npm test` (see {@link fuzzRuns}) */
  runs: number;
  /** where a failing input is kept (replayed by the test on every run from then on) */
  corpusDir: string;
  /** the bytes of an input, as the replay reads them back */
  encode: (input: T) => Buffer;
  /** a slower case than this fails the property: a parser must not be made to crawl; default 1000 ms */
  maxCaseMs?: number;
}

/**
 * Asserts `check` for random inputs. A failing input (after fast-check shrinks it) is written to
 * `corpusDir` as `crash-<sha1>.bin` before the test fails, so it is replayed from then on.
 */
export function fuzz<T>(arb: fc.Arbitrary<T>, check: (input: T) => void, opts: FuzzOptions<T>): void {
  const maxMs = opts.maxCaseMs ?? 1000;
  const timed = (input: T): void => {
    const t0 = performance.now();
    check(input);
    const ms = performance.now() - t0;
    if (ms > maxMs) throw new Error(`one case took ${ms.toFixed(0)} ms (limit ${maxMs} ms)`);
  };
  const out = fc.check(fc.property(arb, timed), { numRuns: fuzzRuns(opts.runs) });
  if (!out.failed) return;
  if (out.counterexample) {
    const data = opts.encode(out.counterexample[0]);
    mkdirSync(opts.corpusDir, { recursive: true });
    writeFileSync(join(opts.corpusDir, `crash-${createHash('sha1').update(data).digest('hex').slice(0, 16)}.bin`), data);
  }
  throw new Error(fc.defaultReportMessage(out) ?? 'property failed');
}

/** Runs `fn`; an error that is not an instance of `typed` is rethrown (a crash), a typed one returned. */
export function typedOrNone<E extends Error>(typed: abstract new (...args: never[]) => E, fn: () => void): E | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof typed) return err;
    throw err;
  }
}
