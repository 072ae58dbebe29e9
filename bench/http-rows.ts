/**
 * The HTTP/1.1 rows: claimcheck's `/forward-auth` (--authz-http-addr) and the no-op
 * node:http server (bench/noop-http1-server.mjs), both loaded by bench/http1-load.ts with
 * the same requests, connections and phases. Like the gRPC rows, each claimcheck row runs
 * beside its own no-op, the two loaded in turn, and its ratios are against that one.
 */
import type { Alg } from './fixtures.js';
import { forwardAuthRequest, runHttp1, writeHttpRequests, type Http1Files } from './http1-run.js';
import { TOKEN_MARK, type Http1Run } from './http1-load.js';
import { cpuSeconds, peakRssMiB } from './proc-stats.js';
import { measuredRow, perSec, type Row } from './report.js';
import { fixedRateFor, tokenSet, type Phases, type RunLength, type Scenario } from './scenarios.js';
import { startNoopHttp1, type ServerUnderTest } from './servers.js';

export interface HttpRowsCtx {
  phases: Phases;
  /** keep-alive connections, one request in flight on each */
  connections: number;
  work: string;
  /** by tokenSet() */
  pools: Map<string, string[]>;
  repeated: Map<string, string>;
  start(s: Scenario): Promise<ServerUnderTest>;
  log(m: string): void;
}

/** The max phase in this many parts, alternating with the baseline beside the row. */
const SEGMENTS = 3;

interface Totals {
  count: number;
  sec: number;
  cpu: number;
  /** answers other than 200 */
  bad: number;
  clientBusy: number;
  statuses: Record<string, number>;
}


/** Runs the rows in order; the first must be the baseline, which sets the fixed rate. */
export async function runHttpRows(scenarios: readonly Scenario[], ctx: HttpRowsCtx): Promise<{ rows: Row[]; fixedRate: number }> {
  const rows: Row[] = [];
  let rate = 0;
  for (const s of scenarios) {
    const pairServer = s.server.kind === 'noop-http1' ? undefined : await startNoopHttp1();
    let server: ServerUnderTest | undefined;
    try {
      server = await ctx.start(s);
      const row = await measureHttp(s, server, ctx, rate, pairServer);
      if (rate === 0) rate = fixedRateFor(row.rps);
      row.fixedRate = rate;
      rows.push(row);
      const pair = row.pair ? ` (no-op beside it: ${row.pair.rps.toFixed(0)} req/s, ${row.pair.cpuPer10k.toFixed(2)} CPU s/10k, busy ${row.pair.serverBusy?.toFixed(2)}/${row.pair.clientBusy?.toFixed(2)})` : '';
      ctx.log(`${s.id}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms?.toFixed(2)} ms, p99 ${row.p99Ms?.toFixed(2)} ms, ${row.cpuPer10k.toFixed(2)} CPU s/10k, server busy ${row.serverBusy?.toFixed(2)}, client busy ${row.clientBusy?.toFixed(2)}${pair}`);
    } finally {
      await server?.stop();
      await pairServer?.stop();
    }
  }
  return { rows, fixedRate: rate };
}

/** The row means nothing if claimcheck answers otherwise than allowed with the policy's identity header. */
async function precheck(target: string, token: string, path: string): Promise<void> {
  const headers: Record<string, string> = {};
  for (const line of forwardAuthRequest(path).split('\r\n').slice(2)) {
    const i = line.indexOf(': ');
    if (i > 0) headers[line.slice(0, i)] = line.slice(i + 2).replace(TOKEN_MARK, token);
  }
  const res = await fetch(`http://${target}/forward-auth`, { headers });
  const body = await res.text();
  if (res.status !== 200 || !res.headers.get('x-user-id')) throw new Error(`forward-auth answered ${res.status} (x-user-id: ${res.headers.get('x-user-id')}) ${body}`);
}

async function segment(server: ServerUnderTest, files: Http1Files, connections: number, how: RunLength, into: Totals): Promise<Http1Run> {
  const cpu0 = cpuSeconds(server.pid);
  const run = await runHttp1(server.authzHttp!, files, connections, how);
  into.cpu += cpuSeconds(server.pid) - cpu0;
  into.count += run.count;
  into.sec += run.sec;
  into.bad += run.count - (run.statuses['200'] ?? 0);
  into.clientBusy = Math.max(into.clientBusy, run.clientBusy);
  for (const [code, n] of Object.entries(run.statuses)) into.statuses[code] = (into.statuses[code] ?? 0) + n;
  return run;
}

async function measureHttp(s: Scenario, server: ServerUnderTest, ctx: HttpRowsCtx, fixedRate: number, pairServer?: ServerUnderTest): Promise<Row> {
  const r = s.requests;
  if (r.tokens === 'forged' || r.tokens === 'dpop') throw new Error(`${s.id}: the HTTP rows send valid bearer tokens only`);
  const P = ctx.phases;
  const pool = r.tokens === 'pool' ? ctx.pools.get(tokenSet(r))! : undefined;
  const firstToken = pool ? pool[0]! : ctx.repeated.get(tokenSet(r))!;
  if (s.server.kind !== 'noop-http1') await precheck(server.authzHttp!, firstToken, r.path);

  const parts = pairServer ? SEGMENTS : 1;
  const file = (name: string, tokens: readonly string[]) => writeHttpRequests(ctx.work, `${s.id}-${name}`, tokens, r.path);
  let warm: Http1Files, fixed: Http1Files;
  let warmHow: RunLength, fixedHow: RunLength;
  const max: { files: Http1Files; how: RunLength }[] = [];
  if (pool) {
    // Every token is sent once: disjoint slices for warm-up, each max segment and the fixed rate.
    const a = P.poolWarm, b = a + P.poolMax;
    const c = b + Math.min(P.poolFixedCap, Math.ceil((fixedRate || 1000) * P.fixedSec));
    warm = file('warm', pool.slice(0, a));
    warmHow = { total: a };
    for (let i = 0; i < parts; i++) {
      const slice = pool.slice(a + Math.floor((i * P.poolMax) / parts), a + Math.floor(((i + 1) * P.poolMax) / parts));
      max.push({ files: file(`max-${i}`, slice), how: { total: slice.length } });
    }
    fixed = file('fixed', pool.slice(b, c));
    fixedHow = { total: c - b };
  } else {
    warm = fixed = file('one', [firstToken]);
    warmHow = { durationSec: P.warmSec };
    fixedHow = { durationSec: P.fixedSec };
    for (let i = 0; i < parts; i++) max.push({ files: warm, how: { durationSec: P.maxSec / parts } });
  }

  // The no-op gets the very bytes of the repeated-token row.
  const pairFiles = pairServer ? writeHttpRequests(ctx.work, 'http-pair', [ctx.repeated.get('RS256')!], '/api/orders') : undefined;
  if (pairServer) await runHttp1(pairServer.authzHttp!, pairFiles!, ctx.connections, { durationSec: P.warmSec });
  const warmRun = await runHttp1(server.authzHttp!, warm, ctx.connections, warmHow);
  const top: Totals = { count: 0, sec: 0, cpu: 0, bad: warmRun.count - (warmRun.statuses['200'] ?? 0), clientBusy: 0, statuses: {} };
  const base: Totals = { count: 0, sec: 0, cpu: 0, bad: 0, clientBusy: 0, statuses: {} };
  for (let i = 0; i < parts; i++) {
    if (pairServer) await segment(pairServer, pairFiles!, ctx.connections, { durationSec: P.maxSec / parts }, base);
    await segment(server, max[i]!.files, ctx.connections, max[i]!.how, top);
  }
  const rps = perSec(top);
  const atRate = await runHttp1(server.authzHttp!, fixed, ctx.connections, fixedHow, fixedRate || fixedRateFor(rps));
  const row = measuredRow(s, peakRssMiB(server.pid), top, top.bad + base.bad + atRate.count - (atRate.statuses['200'] ?? 0), atRate, pairServer ? base : undefined);
  const busy = (t: Totals) => (t.sec > 0 ? t.cpu / t.sec : 0);
  return {
    ...row,
    serverBusy: busy(top),
    clientBusy: top.clientBusy,
    statuses: top.statuses,
    ...(row.pair ? { pair: { ...row.pair, serverBusy: busy(base), clientBusy: base.clientBusy } } : {}),
  };
}
