/** The HTTP/1.1 table (Markdown, like the gRPC one) and its target. */
import { f, type Row } from './report.js';

export function printHttpReport(rows: readonly Row[], meta: { connections: number; fixedRate: number }): void {
  const ratio = (r?: Row) => (r?.pair ? r.rps / r.pair.rps : undefined);
  const cpuRatio = (r?: Row) => (r?.pair ? r.pair.cpuPer10k / r.cpuPer10k : undefined);
  const out: string[] = [''];
  out.push('| scenario | max req/s | × no-op HTTP/1.1 | p50 ms | p99 ms | CPU s / 10k req | × no-op (CPU) | no-op beside it: req/s, CPU s / 10k | server busy (no-op) | client busy (no-op) | peak RSS MiB |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const err = r.errors > 0 ? ` (${r.errors} answers not 200)` : '';
    const pair = r.pair ? `${f(r.pair.rps, 0)}, ${f(r.pair.cpuPer10k)}` : '–';
    const busy = (row: number | undefined, pair: number | undefined) => `${f(row)}${r.pair ? ` (${f(pair)})` : ''}`;
    out.push(`| ${r.title}${err} | ${f(r.rps, 0)} | ${f(ratio(r))} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.cpuPer10k)} | ${f(cpuRatio(r))} | ${pair} | ${busy(r.serverBusy, r.pair?.serverBusy)} | ${busy(r.clientBusy, r.pair?.clientBusy)} | ${f(r.peakRssMiB, 0)} |`);
  }
  out.push('');
  out.push(
    `max req/s: ${meta.connections} keep-alive HTTP/1.1 connections, one request in flight on each, from bench/http1-load.ts; p50/p99: at a fixed ${meta.fixedRate} req/s (half the no-op's maximum); ` +
      `× no-op: against the no-op node:http server loaded in turn with the row; busy: CPU seconds per wall second of the server and of the load driver during the max phase, the no-op's beside it in brackets (a server below 1.00 with an idle driver was not given its core: load on the machine; a driver near 1.00 would be the bottleneck).`,
  );
  out.push('');
  const repeated = rows.find((r) => r.id === 'http-repeated');
  const targets: [string, number | undefined, number][] = [
    ['forward-auth repeated token vs no-op HTTP/1.1', ratio(repeated), 0.8],
    ['forward-auth repeated token vs no-op HTTP/1.1 (CPU per request)', cpuRatio(repeated), 0.8],
  ];
  const floor = rows.find((r) => r.id === 'http-listener');
  if (floor && ratio(floor) !== undefined) {
    // Not a target: the decision's share, with the listener's envelope taken out (each row first divided by its own no-op).
    const own = (id: string) => {
      const r = ratio(rows.find((x) => x.id === id));
      return r === undefined ? '–' : f(r / ratio(floor)!);
    };
    out.push(`against the no-op on claimcheck's HTTP listener (${f(ratio(floor))} × the node:http no-op, ${f(cpuRatio(floor))} per CPU): repeated token ${own('http-repeated')}, new RS256 token ${own('http-distinct')}`);
    out.push('');
  }
  out.push('| target | measured | goal | met |');
  out.push('|---|---:|---:|:---:|');
  for (const [name, v, goal] of targets) out.push(`| ${name} | ${f(v)} | ≥ ${goal} | ${v === undefined ? '–' : v >= goal ? 'yes' : 'NO'} |`);
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
}
