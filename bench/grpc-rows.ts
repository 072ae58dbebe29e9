/** One gRPC row: its server beside a no-op baseline, loaded in turn by ghz (bench/run.ts runs the rows). */
import { createEnvoyClient } from '../test/helpers/envoy-client.js';
import type { Alg } from './fixtures.js';
import { runGhz, type GhzRun, type LoadSettings } from './ghz.js';
import { cpuSeconds, peakRssMiB } from './proc-stats.js';
import { measuredRow, per10k, perSec, type Row } from './report.js';
import { fixedRateFor, tokenSet, type Phases, type RunLength, type Scenario } from './scenarios.js';
import type { ServerUnderTest } from './servers.js';
import type { DpopSet } from './dpop-fixtures.js';

export interface GrpcCtx {
  ghz: string;
  /** concurrency and connections of every row (a row may ask for more connections) */
  load: LoadSettings;
  phases: Phases;
  rate: number;
  dataFile(name: string, tokens: readonly string[], path: string): string;
  /** by tokenSet() */
  pools: Map<string, string[]>;
  repeated: Map<string, string>;
  forged: string;
  fixedNeed(rate: number): number;
  request(token: string, path: string): object;
  /** the DPoP row: a bound token and `count` fresh proofs, signed now */
  dpopSet(count: number, path: string): Promise<DpopSet>;
  /** requests sending `token` with the DPoP scheme and one proof each */
  dpopFile(name: string, token: string, proofs: readonly string[], path: string): string;
  dpopRequest(token: string, proof: string, path: string): object;
}

/** Max-throughput segments of the row and of its baseline, loaded in turn: each loaded alone, drift shared. */
const SEGMENTS = 3;

interface Totals {
  count: number;
  sec: number;
  cpu: number;
  errors: number;
}

async function segment(ctx: GrpcCtx, server: ServerUnderTest, file: string, settings: LoadSettings, how: RunLength, into: Totals): Promise<void> {
  const cpu0 = cpuSeconds(server.pid);
  const run = await runGhz(ctx.ghz, server.address, file, settings, how);
  into.cpu += cpuSeconds(server.pid) - cpu0;
  into.count += run.count;
  into.sec += run.rps > 0 ? run.count / run.rps : 0;
  into.errors += run.errors;
}

export async function measure(s: Scenario, server: ServerUnderTest, ctx: GrpcCtx, pairServer?: ServerUnderTest, againstServer?: ServerUnderTest): Promise<Row> {
  const { load, phases: P } = ctx;
  const target = server.address;
  const loadFor: LoadSettings = { ...load, connections: s.connections ?? load.connections };
  const r = s.requests;
  // every proof is signed before the row starts: warm-up, max phase, fixed rate, and one for the check below
  const dpop = r.tokens === 'dpop' ? await ctx.dpopSet(1 + P.poolWarm + P.poolMax + ctx.fixedNeed(ctx.rate || 1000), r.path) : undefined;
  const firstToken = r.tokens === 'forged' ? ctx.forged : r.tokens === 'repeated' ? ctx.repeated.get(tokenSet(r))! : r.tokens === 'dpop' ? dpop!.token : ctx.pools.get(tokenSet(r))![0]!;

  // The row means nothing if the server answers differently than the scenario says.
  if (s.server.kind !== 'noop') {
    const client = createEnvoyClient(target);
    try {
      const out = await client.checkRaw(dpop ? ctx.dpopRequest(dpop.token, dpop.proofs.shift()!, r.path) : ctx.request(firstToken, r.path));
      const got = out.code === 0 ? 'allow' : 'deny';
      if (got !== s.expect) throw new Error(`${s.id}: expected ${s.expect}, got ${got} (${out.httpStatus ?? ''} ${out.body ?? ''})`);
      if (s.server.kind === 'claimcheck' && s.server.identityToken && !out.headers['x-claimcheck-identity']) throw new Error(`${s.id}: the allow carries no identity token`);
    } finally {
      client.close();
    }
  }

  // The max phase is split into SEGMENTS parts when a baseline runs beside the row: pool rows
  // get disjoint slices per part (ghz restarts its round-robin at the first message on every run).
  const parts = pairServer ? SEGMENTS : 1;
  let warm: string, fixed: string | undefined;
  let max: string[];
  let maxHow: RunLength[];
  let warmHow: RunLength;
  let fixedHow: RunLength = { durationSec: P.fixedSec };
  // a pool row's requests differ by token; the DPoP row's by proof
  const file = (name: string, items: readonly string[]) => (dpop ? ctx.dpopFile(name, dpop.token, items, r.path) : ctx.dataFile(name, items, r.path));
  const split = (tokens: readonly string[], name: string) => {
    const files: string[] = [];
    const hows: { total: number }[] = [];
    for (let i = 0; i < parts; i++) {
      const slice = tokens.slice(Math.floor((i * tokens.length) / parts), Math.floor(((i + 1) * tokens.length) / parts));
      files.push(file(`${name}-${i}`, slice));
      hows.push({ total: slice.length });
    }
    return { files, hows };
  };
  if (r.tokens === 'pool' || r.tokens === 'dpop') {
    const pool = dpop ? dpop.proofs : ctx.pools.get(r.tokens === 'pool' ? tokenSet(r) : 'RS256')!;
    if (s.memoryOnly) {
      warm = file(`${s.id}-warm`, pool.slice(0, 1));
      warmHow = { total: 1 };
      ({ files: max, hows: maxHow } = split(pool, `${s.id}-max`));
    } else {
      const a = P.poolWarm, b = a + P.poolMax, c = b + ctx.fixedNeed(ctx.rate);
      warm = file(`${s.id}-warm`, pool.slice(0, a));
      ({ files: max, hows: maxHow } = split(pool.slice(a, b), `${s.id}-max`));
      fixed = file(`${s.id}-fixed`, pool.slice(b, c));
      warmHow = { total: a };
      fixedHow = { total: c - b };
    }
  } else {
    warm = fixed = ctx.dataFile(s.id, [firstToken], r.path);
    max = Array.from({ length: parts }, () => warm);
    warmHow = { durationSec: P.warmSec };
    maxHow = Array.from({ length: parts }, () => ({ durationSec: P.maxSec / parts }));
  }

  const pairFile = pairServer ? ctx.dataFile('pair', [ctx.repeated.get('RS256')!], '/api/orders') : undefined;
  if (pairServer) await runGhz(ctx.ghz, pairServer.address, pairFile!, load, { durationSec: P.warmSec });
  await runGhz(ctx.ghz, target, warm, loadFor, warmHow);
  // the same requests: the other server has caches of its own
  if (againstServer) await runGhz(ctx.ghz, againstServer.address, warm, loadFor, warmHow);
  const top: Totals = { count: 0, sec: 0, cpu: 0, errors: 0 };
  const base: Totals = { count: 0, sec: 0, cpu: 0, errors: 0 };
  const vs: Totals = { count: 0, sec: 0, cpu: 0, errors: 0 };
  for (let i = 0; i < parts; i++) {
    if (pairServer) await segment(ctx, pairServer, pairFile!, load, { durationSec: P.maxSec / parts }, base);
    // alternate which of the two goes first, so neither always follows the baseline
    if (againstServer && i % 2 === 1) await segment(ctx, againstServer, max[i]!, loadFor, maxHow[i]!, vs);
    await segment(ctx, server, max[i]!, loadFor, maxHow[i]!, top);
    if (againstServer && i % 2 === 0) await segment(ctx, againstServer, max[i]!, loadFor, maxHow[i]!, vs);
  }
  const rps = perSec(top);
  let atRate: GhzRun | undefined;
  // The baseline runs first and sets the fixed rate for every row: half its maximum.
  const rate = ctx.rate || fixedRateFor(rps);
  if (!s.memoryOnly && fixed) atRate = await runGhz(ctx.ghz, target, fixed, loadFor, fixedHow, rate);
  const row = measuredRow(s, peakRssMiB(server.pid), top, top.errors + base.errors + vs.errors + (atRate?.errors ?? 0), atRate, pairServer ? base : undefined);
  if (againstServer) row.against = { rps: perSec(vs), cpuPer10k: per10k(vs) };
  return s.memoryOnly ? { ...row, note: `${top.count} distinct tokens sent` } : row;
}
