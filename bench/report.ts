/** The table (Markdown, so docs/performance.md can take it as printed) and the targets check. */
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
}

const f = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));

export function printReport(rows: Row[], meta: Record<string, unknown> & { fixedRate: number; load: { concurrency: number; connections: number } }): void {
  const starts = rows.find((r) => r.id === 'baseline');
  const ends = rows.find((r) => r.id === 'baseline-end');
  const base = starts && ends ? { ...starts, rps: (starts.rps + ends.rps) / 2, cpuPer10k: (starts.cpuPer10k + ends.cpuPer10k) / 2 } : starts;
  const out: string[] = [];
  out.push('');
  out.push(`| scenario | max req/s | × baseline | p50 ms | p99 ms | CPU s / 10k req | × baseline (CPU) | peak RSS MiB |`);
  out.push(`|---|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of rows) {
    const ratio = base ? r.rps / base.rps : NaN;
    const cpuRatio = base ? base.cpuPer10k / r.cpuPer10k : NaN;
    const err = r.errors > 0 ? ` (${r.errors} errors)` : '';
    out.push(`| ${r.title}${r.note ? ` (${r.note})` : ''}${err} | ${f(r.rps, 0)} | ${f(ratio)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.cpuPer10k)} | ${f(cpuRatio)} | ${f(r.peakRssMiB, 0)} |`);
  }
  out.push('');
  out.push(
    `max req/s: ${meta.load.concurrency} concurrent calls on ${meta.load.connections} HTTP/2 connection(s); p50/p99: at a fixed ${meta.fixedRate} req/s (half the baseline's maximum); ` +
      `× baseline (CPU): the baseline's CPU per request divided by the row's, i.e. the throughput ratio one fully busy core would give. ` +
      (ends ? 'Ratios are against the mean of the two baseline rows (first and last), so drift in the machine\'s load over the run shows instead of skewing them.' : ''),
  );
  out.push('');
  const by = (id: string) => rows.find((r) => r.id === id);
  const targets: [string, number | undefined, number, string][] = [];
  const ratio = (a?: Row, b?: Row) => (a && b ? a.rps / b.rps : undefined);
  const cpuRatio = (a?: Row, b?: Row) => (a && b ? b.cpuPer10k / a.cpuPer10k : undefined);
  targets.push(['repeated valid token vs baseline', ratio(by('repeated'), base), 0.85, '≥']);
  targets.push(['repeated valid token vs baseline (CPU per request)', cpuRatio(by('repeated'), base), 0.85, '≥']);
  targets.push(['new RS256 token every request vs baseline', ratio(by('distinct'), base), 0.6, '≥']);
  targets.push(['new RS256 token every request vs baseline (CPU per request)', cpuRatio(by('distinct'), base), 0.6, '≥']);
  targets.push(['10,000 policies vs 10 policies', ratio(by('policies10k'), by('repeated')), 0.95, '≥']);
  targets.push(['throughput vs peer (OPA)', ratio(by('repeated'), by('peer')), 1.5, '≥']);
  targets.push(['throughput vs peer (OPA), CPU per request', cpuRatio(by('repeated'), by('peer')), 1.5, '≥']);
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
  out.push(`${meta.pinned ? 'pinned: server on CPU 0, ghz on CPU 1; ' : ''}machine: ${String(meta.nproc)} CPUs, ${String(meta.cpu)}, ${String(meta.memGiB)} GiB; node ${String(meta.node)}; load average at end ${(meta.loadavgEnd as number[]).map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(out.join('\n') + '\n');
}
