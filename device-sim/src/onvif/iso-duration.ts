/**
 * xsd:duration (ISO 8601 `PnYnMnWnDTnHnMnS`) as ONVIF uses it for PullMessages `Timeout`,
 * ContinuousMove `Timeout` and WS-BaseNotification termination times (`PT60S`, `PT1M`, `PT0.5S`).
 *
 * Months and years have no fixed length; a camera only ever sees them from odd clients, so they
 * count as 30 and 365 days. Negative durations are refused (nothing here can go back in time).
 */

export type DurationError = 'empty' | 'too-long' | 'syntax' | 'negative' | 'out-of-range';

export type DurationResult = { ok: true; ms: number } | { ok: false; error: DurationError };

/** Longest duration text accepted; real ones are under 20 characters. */
const MAX_DURATION_CHARS = 64;

// Each number at most 12 digits (plus up to 9 fraction digits on seconds): no precision games.
const DURATION =
  /^(-)?P(?:(\d{1,12})Y)?(?:(\d{1,12})M)?(?:(\d{1,12})W)?(?:(\d{1,12})D)?(?:T(?:(\d{1,12})H)?(?:(\d{1,12})M)?(?:(\d{1,12}(?:\.\d{1,9})?)S)?)?$/;

const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000] as const;

/**
 * Parse an xsd:duration into milliseconds (rounded). `maxMs` (default one year) bounds the result:
 * longer durations are `out-of-range`, not clamped, so the caller decides whether to clamp.
 */
export function parseDuration(input: string, maxMs = 365 * 86_400_000): DurationResult {
  const s = input.trim();
  if (s === '') return { ok: false, error: 'empty' };
  if (s.length > MAX_DURATION_CHARS) return { ok: false, error: 'too-long' };
  const m = DURATION.exec(s);
  // "P" and "PT" alone match the pattern but name no quantity: invalid per XML Schema Part 2 §3.2.6.
  if (m === null || s.endsWith('P') || s.endsWith('T')) return { ok: false, error: 'syntax' };
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 2];
    if (part !== undefined) ms += Number(part) * (UNIT_MS[i] ?? 0);
  }
  if (!Number.isFinite(ms) || ms > maxMs) return { ok: false, error: 'out-of-range' };
  if (m[1] === '-' && ms > 0) return { ok: false, error: 'negative' };
  return { ok: true, ms: Math.round(ms) };
}

const XSD_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

/** xsd:dateTime → ms since the epoch; a missing zone is read as UTC. */
export function parseDateTime(input: string): number | undefined {
  const m = XSD_DATETIME.exec(input.trim());
  if (m === null) return undefined;
  const frac = m[7] === undefined ? '' : m[7].slice(0, 4);
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${m[8] ?? 'Z'}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * WS-BaseNotification `AbsoluteOrRelativeTimeType` (InitialTerminationTime, Renew's
 * TerminationTime): a duration from now, or a dateTime on the camera's clock. Returns the time to
 * live in ms, clamped to `maxMs`; undefined when unparseable or not in the future.
 */
export function parseTerminationTime(input: string, cameraNowMs: number, maxMs: number): number | undefined {
  const s = input.trim();
  if (s.startsWith('P') || s.startsWith('-P')) {
    const d = parseDuration(s);
    if (!d.ok) return d.error === 'out-of-range' ? maxMs : undefined;
    return d.ms > 0 ? Math.min(d.ms, maxMs) : undefined;
  }
  const at = parseDateTime(s);
  if (at === undefined || at <= cameraNowMs) return undefined;
  return Math.min(at - cameraNowMs, maxMs);
}
