/** The table (Markdown, so docs/performance.md can take it as printed) and the targets check. */
import { loadavg } from 'node:os';

export interface Row {
  id: string;
  title: string;
  /** max throughput at fixed concurrency */
  rps: number;
  count: number;
  errors: number;
  /** at the fixed rate */
  p50Ms?: number;
  p99Ms?: number;
  fixedRate?: number;
  achievedRate?: number;
  cpuPer10k: number;
  peakRssMiB: number;
  loadavg: number;
  note?: string;
  /** the no-op baseline measured just before this row (max throughput phase only) */
  pair?: { rps: number; cpuPer10k: number; serverBusy?: number; clientBusy?: number };
  /** scenario.against, loaded in turn with this row's max segments */
  against?: { rps: number; cpuPer10k: number };
  /** HTTP rows: the server's CPU seconds per wall second, and the load driver's (the busiest segment) */
  serverBusy?: number;
  clientBusy?: number;
  /** HTTP rows: the max phase's answers by status code */
  statuses?: Record<string, number>;
}

/** What a load phase added up to on one server: requests, their wall time, the server's CPU seconds. */
export interface LoadTotals {
  count: number;
  sec: number;
  cpu: number;
}

/** requests per second over the phase */
export const perSec = (t: LoadTotals) => (t.sec > 0 ? t.count / t.sec : 0);
export const per10k = (t: LoadTotals) => (t.cpu / Math.max(1, t.count)) * 10_000;

/**
 * The fields every row has, from its max phase (`top`), its fixed-rate phase and, when a
 * no-op ran beside it, that one's max phase (`base`); the row kind adds its own.
 */
export function measuredRow(s: { id: string; title: string }, serverRssMiB: number, top: LoadTotals, errors: number, atRate: { p50Ms?: number; p99Ms?: number; rps?: number } | undefined, base: LoadTotals | undefined): Row {
  return {
    id: s.id,
    title: s.title,
    rps: perSec(top),
    count: top.count,
    errors,
    p50Ms: atRate?.p50Ms,
    p99Ms: atRate?.p99Ms,
    achievedRate: atRate?.rps,
    cpuPer10k: per10k(top),
    peakRssMiB: serverRssMiB,
    loadavg: loadavg()[0]!,
    ...(base ? { pair: { rps: perSec(base), cpuPer10k: per10k(base) } } : {}),
  };
}

export const f = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));

export function printReport(rows: Row[], meta: Record<string, unknown> & { fixedRate: number; load: { concurrency: number; connections: number } }): void {
  const starts = rows.find((r) => r.id === 'baseline');
  const ends = rows.find((r) => r.id === 'baseline-end');
  const mean = starts && ends ? { rps: (starts.rps + ends.rps) / 2, cpuPer10k: (starts.cpuPer10k + ends.cpuPer10k) / 2 } : starts;
  // Each row against the baseline measured beside it; the baseline rows against their mean.
  const against = (r: Row) => r.pair ?? mean;
  const ratio = (r?: Row) => (r && against(r) ? r.rps / against(r)!.rps : undefined);
  const cpuRatio = (r?: Row) => (r && against(r) ? against(r)!.cpuPer10k / r.cpuPer10k : undefined);
  const out: string[] = [];
  out.push('');
  out.push(`| scenario | max req/s | × baseline | p50 ms | p99 ms | CPU s / 10k req | × baseline (CPU) | baseline beside it: req/s, CPU s / 10k | peak RSS MiB |`);
  out.push(`|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of rows) {
    const err = r.errors > 0 ? ` (${r.errors} errors)` : '';
    const pair = r.pair ? `${f(r.pair.rps, 0)}, ${f(r.pair.cpuPer10k)}` : '–';
    out.push(`| ${r.title}${r.note ? ` (${r.note})` : ''}${err} | ${f(r.rps, 0)} | ${f(ratio(r))} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.cpuPer10k)} | ${f(cpuRatio(r))} | ${pair} | ${f(r.peakRssMiB, 0)} |`);
  }
  out.push('');
  out.push(
    `max req/s: ${meta.load.concurrency} concurrent calls on ${meta.load.connections} HTTP/2 connection(s); p50/p99: at a fixed ${meta.fixedRate} req/s (half the baseline's maximum); ` +
      `× baseline: against the no-op baseline measured just before the row (the baseline rows: against the mean of the first and last); ` +
      `× baseline (CPU): the baseline's CPU per request divided by the row's, i.e. the throughput ratio one fully busy core would give.`,
  );
  out.push('');
  const by = (id: string) => rows.find((r) => r.id === id);
  // Two rows compared with each other: each first divided by its own baseline, so drift between them cancels.
  const between = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a / b : undefined);
  const targets: [string, number | undefined, number, string][] = [];
  targets.push(['repeated valid token vs baseline', ratio(by('repeated')), 0.85, '≥']);
  targets.push(['repeated valid token vs baseline (CPU per request)', cpuRatio(by('repeated')), 0.85, '≥']);
  targets.push(['new RS256 token every request vs baseline', ratio(by('distinct')), 0.6, '≥']);
  targets.push(['new RS256 token every request vs baseline (CPU per request)', cpuRatio(by('distinct')), 0.6, '≥']);
  targets.push(['DPoP, repeated token and a new ES256 proof every request vs baseline', ratio(by('dpop')), 0.5, '≥']);
  targets.push(['DPoP as above with the Redis replay store vs baseline', ratio(by('dpop-redis')), 0.35, '≥']);
  // measured against a server without the feature, loaded in turn in the same minute
  const versus = (r: Row | undefined) => (r?.against ? r.rps / r.against.rps : undefined);
  targets.push(['identity.token, repeated token vs the same server without it', versus(by('identity-repeated')), 0.9, '≥']);
  targets.push(['identity.token, new RS256 token every request vs the same server without it', versus(by('identity-distinct')), 0.75, '≥']);
  targets.push(['10,000 policies vs 10 policies', between(ratio(by('policies10k')), ratio(by('repeated'))), 0.95, '≥']);
  targets.push(['throughput vs peer (OPA)', between(ratio(by('repeated')), ratio(by('peer'))), 1.5, '≥']);
  targets.push(['throughput vs peer (OPA), CPU per request', between(cpuRatio(by('repeated')), cpuRatio(by('peer'))), 1.5, '≥']);
  const rp = by('repeated')?.p99Ms, pp = by('peer')?.p99Ms;
  targets.push(['p99 at fixed rate vs peer (ratio)', rp !== undefined && pp !== undefined ? rp / pp : undefined, 1, '≤']);
  targets.push(['peak RSS MiB, 10,000 policies + cached pool', by('memory')?.peakRssMiB, 150, '≤']);
  targets.push(['peak RSS MiB, the same as the chart runs it', by('memory-chart')?.peakRssMiB, 150, '≤']);
  out.push('| target | measured | goal | met |');
  out.push('|---|---:|---:|:---:|');
  for (const [name, v, goal, op] of targets) {
    const met = v === undefined ? '–' : (op === '≥' ? v >= goal : v <= goal) ? 'yes' : 'NO';
    out.push(`| ${name} | ${f(v)} | ${op} ${goal} | ${met} |`);
  }
  out.push('');
  const floor = by('transport');
  if (floor) {
    // Not a target: how much of each row is claimcheck's own work, with the transport's saving taken out.
    const own = (id: string) => f(between(ratio(by(id)), ratio(floor)));
    out.push(`against the no-op on claimcheck's own transport (${f(ratio(floor))} × the grpc-js baseline): repeated token ${own('repeated')}, new RS256 token ${own('distinct')}`);
    out.push('');
  }
  out.push(`${meta.pinned ? 'pinned: server on CPU 0, ghz and the runner on CPU 1; ' : ''}machine: ${String(meta.nproc)} CPUs, ${String(meta.cpu)}, ${String(meta.memGiB)} GiB; node ${String(meta.node)}; load average at end ${(meta.loadavgEnd as number[]).map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(out.join('\n') + '\n');
}
