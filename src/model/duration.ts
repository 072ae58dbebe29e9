import { ClaimcheckError } from '../errors.js';

/**
 * Go `time.ParseDuration` units (also what Kubernetes uses for `format: duration`),
 * so the same strings work in CRDs and in the file source.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;

/** True when `text` is a non-negative Go-style duration such as `500ms`, `30s` or `1h30m`. */
export function isDuration(text: string): boolean {
  return tryParseDuration(text) !== undefined;
}

/** Milliseconds, or undefined when `text` is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  if (text === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Parse a duration to milliseconds; throws ClaimcheckError `invalid_duration`. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw new ClaimcheckError(
      'invalid_duration',
      `invalid duration ${JSON.stringify(text)}: use a number with a unit (ms, s, m, h), e.g. "30s", "10m" or "1h30m"`,
    );
  }
  return ms;
}
