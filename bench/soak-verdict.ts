/** The soak's targets (issue: hardening), computed from its samples and segments; pure, so it is unit-tested. */
export interface Sample {
  atSec: number;
  rssMiB: number;
  heapMiB: number;
}

export interface Segment {
  minute: number;
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SoakVerdict {
  met: boolean;
  rssGrowthPct: number;
  errors: number;
  /** the worst segment's p99 over the median segment's */
  p99Spread: number;
  lines: string[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * RSS growth: the median of the last minute's samples against the median of the minute after
 * the first ten (the last 50 minutes of an hour; for a smoke, after the first third). p99: every
 * segment but the first (warm-up) within 1.5 times their median.
 */
export function soakVerdict(samples: readonly Sample[], segments: readonly Segment[], smoke = false): SoakVerdict {
  const end = samples.at(-1)?.atSec ?? 0;
  const from = smoke ? end / 3 : 600;
  const window = smoke ? Math.max(1, end / 6) : 60;
  const base = median(samples.filter((s) => s.atSec >= from && s.atSec < from + window).map((s) => s.rssMiB));
  const last = median(samples.filter((s) => s.atSec >= end - window).map((s) => s.rssMiB));
  const rssGrowthPct = ((last - base) / base) * 100;
  const errors = segments.reduce((n, s) => n + s.errors, 0);
  const steady = segments.slice(1).map((s) => s.p99Ms);
  const p99Spread = Math.max(...steady) / median(steady);
  const checks: [string, string, boolean][] = [
    ['RSS growth after the first ten minutes', `${rssGrowthPct.toFixed(1)}% (${base.toFixed(0)} → ${last.toFixed(0)} MiB)`, rssGrowthPct < 5],
    ['errors (any answer but OK)', String(errors), errors === 0],
    ['worst minute p99 / median minute p99', `${p99Spread.toFixed(2)} (median ${median(steady).toFixed(2)} ms)`, p99Spread <= 1.5],
  ];
  const lines = ['| target | measured | goal | met |', '|---|---:|---:|:---:|'];
  const goals = ['< 5%', '0', '≤ 1.5'];
  checks.forEach(([what, measured, ok], i) => lines.push(`| ${what} | ${measured} | ${goals[i]} | ${ok ? 'yes' : 'NO'} |`));
  return { met: checks.every(([, , ok]) => ok), rssGrowthPct, errors, p99Spread, lines };
}
