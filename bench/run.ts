/**
 * `npm run bench [-- --quick | --smoke] [-- --only id,id] [-- --concurrency N] [-- --connections N] [-- --http-connections N] [-- --json FILE] [-- --profile DIR] [-- --node-args="--flag ..."]`
 *
 * Starts every server under test as its own process, drives it with ghz (pre-encoded
 * CheckRequests in a count-delimited binary file, sent round-robin), and prints one table
 * (then the HTTP/1.1 forward-auth rows' own, bench/http-rows.ts):
 * max throughput at fixed concurrency, p50/p99 at a fixed rate (half the baseline's
 * maximum), CPU seconds per 10,000 requests (/proc/PID/stat) and peak RSS (VmHWM), with each
 * row's ratio to the no-op baseline measured in the same run.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCheckRequest } from '../test/helpers/envoy-client.js';
import { AUDIENCE, DATA_DIR, HOST, ISSUER, encryptTokens, forgedToken, opaqueTokens, peerData, tokenPool, writeConfig, type Alg } from './fixtures.js';
import { dpopSet } from './dpop-fixtures.js';
import { writeRequests, type LoadSettings } from './ghz.js';
import { measure, type GrpcCtx } from './grpc-rows.js';
import { HTTP_SCENARIOS, SCENARIOS, fixedRateFor, tokenSet, type Scenario } from './scenarios.js';
import { startClaimcheck, startNoop, startNoopAuthzHttp, startNoopH2, startNoopHttp1, startIntrospectionEndpoint, startOtlpSink, startPeer, startRedis, type ServerUnderTest } from './servers.js';
import { runHttpRows } from './http-rows.js';
import { printHttpReport } from './http-report.js';
import { ghzPath, peerPath, GHZ_VERSION, OPA_VERSION } from './tools.js';
import { printReport, type Row } from './report.js';
import { MACHINE_CPUS, pinSelf, pinningEnabled, unpinServer } from './pin.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    smoke: { type: 'boolean' },
    only: { type: 'string' },
    concurrency: { type: 'string' },
    connections: { type: 'string' },
    'http-connections': { type: 'string' },
    json: { type: 'string' },
    profile: { type: 'string' },
    'node-args': { type: 'string' },
  },
});
const smoke = values.smoke === true;
const quick = values.quick === true || smoke;
// --smoke: a few hundred requests per phase, only to prove every part still runs (npm test).
const P = smoke
  ? { warmSec: 0.5, maxSec: 1, fixedSec: 1, poolWarm: 50, poolMax: 300, poolFixedCap: 200, memoryPool: 600 }
  : quick
    ? { warmSec: 1, maxSec: 2, fixedSec: 2, poolWarm: 300, poolMax: 3000, poolFixedCap: 2000, memoryPool: 6000 }
    : { warmSec: 3, maxSec: 10, fixedSec: 8, poolWarm: 5000, poolMax: 50000, poolFixedCap: 30000, memoryPool: 100000 };
const load: LoadSettings = { concurrency: Number(values.concurrency ?? 32), connections: Number(values.connections ?? 1) };
const httpConnections = Number(values['http-connections'] ?? 32);
const only = values.only ? new Set(values.only.split(',')) : undefined;
// --only with HTTP ids alone runs no gRPC row (and needs no ghz); either table starts with its own baseline.
const grpcWanted = !only || SCENARIOS.some((s) => only.has(s.id));
const httpWanted = HTTP_SCENARIOS.filter((s) => !only || only.has(s.id));
const httpScenarios = httpWanted.length === 0 ? [] : [HTTP_SCENARIOS[0]!, ...httpWanted.filter((s) => s !== HTTP_SCENARIOS[0])];

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function main(): Promise<number> {
  const ghz = ghzPath();
  if (!ghz && grpcWanted) log(`SKIP: the gRPC rows: ghz ${GHZ_VERSION} is not installed; run scripts/bench-tools.sh`);
  if (!ghz && httpScenarios.length === 0) return 0;
  const peer = peerPath();
  const scenarios = !ghz || !grpcWanted ? [] : SCENARIOS.filter((s) => (!only || only.has(s.id) || s.id === 'baseline') && (s.server.kind !== 'peer' || peer));
  // The baseline also runs last: the first sets the fixed rate, and the two show the drift over the run.
  const first = scenarios[0];
  if (first && scenarios.length > 2) scenarios.push({ ...first, id: 'baseline-end', title: `${first.title}, again at the end` });
  if (!peer && scenarios.length > 0) log(`peer rows skipped: the OPA peer (${OPA_VERSION}) is not built; run scripts/bench-tools.sh`);

  const work = mkdtempSync(join(tmpdir(), 'claimcheck-bench-'));
  try {
    const configs: Configs = { 10: join(work, 'config-10'), 10000: join(work, 'config-10000'), identity: join(work, 'config-identity'), identityKeys: join(work, 'identity-keys'), jwe: join(work, 'config-jwe'), opaque: join(work, 'config-opaque') };
    writeConfig(configs[10], 10);
    if (scenarios.some((s) => s.server.kind === 'claimcheck' && s.server.decryption)) writeConfig(configs.jwe, 10, { decryption: true });
    if (scenarios.some((s) => s.server.kind === 'claimcheck' && s.server.identityToken)) {
      writeConfig(configs.identity, 10, { identityToken: true });
      mkdirSync(configs.identityKeys);
      writeFileSync(join(configs.identityKeys, 'bench-1.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    }
    if (scenarios.some((s) => s.server.kind === 'claimcheck' && s.server.policies === 10000)) writeConfig(configs[10000], 10000);
    const peerDir = join(work, 'peer');
    mkdirSync(peerDir);
    copyFileSync(fileURLToPath(new URL('./peer-opa/policy.rego', import.meta.url)), join(peerDir, 'policy.rego'));
    writeFileSync(join(peerDir, 'data.json'), peerData());

    const fixedNeed = (rate: number) => Math.min(P.poolFixedCap, Math.ceil(rate * P.fixedSec));
    const poolSize = (alg: Alg) => {
      const need = P.poolWarm + P.poolMax + P.poolFixedCap;
      return alg === 'RS256' && scenarios.some((s) => s.memoryOnly) ? Math.max(need, P.memoryPool) : need;
    };
    // by tokenSet(): encrypted sets are the signed ones as JWEs, encrypted at every run
    const pools = new Map<string, string[]>();
    const repeated = new Map<string, string>();
    for (const s of [...scenarios, ...httpScenarios, HTTP_SCENARIOS[0]!]) {
      const r = s.requests;
      if (r.tokens !== 'pool' && r.tokens !== 'repeated') continue;
      const into = r.tokens === 'pool' ? pools : repeated;
      if (into.has(tokenSet(r))) continue;
      const count = r.tokens === 'pool' ? poolSize(r.alg) : 1;
      const signed = r.opaque ? opaqueTokens(count) : await tokenPool(r.alg, count, log);
      const tokens = r.encrypted ? await encryptTokens(signed) : signed;
      if (r.tokens === 'pool') pools.set(tokenSet(r), tokens);
      else repeated.set(tokenSet(r), tokens[0]!);
    }
    const forged = await forgedToken();

    const request = (token: string, path: string) => buildCheckRequest({ host: HOST, path, method: 'GET', headers: { authorization: `Bearer ${token}`, 'user-agent': 'bench/1.0', accept: 'application/json' }, requestId: 'b1d6e2a4-7f55-4c3a-9a39-3f1c2f8e0c11' });
    const dataFile = (name: string, tokens: readonly string[], path: string) => {
      const f = join(work, `${name}.bin`);
      writeRequests(f, tokens.map((t) => request(t, path)));
      return f;
    };
    const dpopRequest = (token: string, proof: string, path: string) => buildCheckRequest({ host: HOST, path, method: 'GET', headers: { authorization: `DPoP ${token}`, dpop: proof, 'user-agent': 'bench/1.0', accept: 'application/json' }, requestId: 'b1d6e2a4-7f55-4c3a-9a39-3f1c2f8e0c11' });
    const dpopFile = (name: string, token: string, proofs: readonly string[], path: string) => {
      const f = join(work, `${name}.bin`);
      writeRequests(f, proofs.map((p) => dpopRequest(token, p, path)));
      return f;
    };

    log(`machine: ${MACHINE_CPUS} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    log(`load: ghz ${GHZ_VERSION}, ${load.concurrency} concurrent calls on ${load.connections} connection(s); HTTP/1.1: ${httpConnections} keep-alive connections; ${quick ? 'QUICK (numbers are not meaningful)' : 'full'} run`);
    pinSelf();
    log(pinningEnabled() ? 'pinning: server on CPU 0, ghz and this runner on CPU 1 (--workers rows unpinned)' : 'pinning: off');
    const rows: Row[] = [];
    let rate = 0;
    for (const s of scenarios) {
      const ctx: GrpcCtx = { ghz: ghz!, load, phases: P, rate, dataFile, pools, repeated, forged, fixedNeed, request, dpopSet, dpopFile, dpopRequest };
      // The machine's speed drifts by tens of percent within a minute: every row runs beside
      // its own no-op baseline, the two loaded in turn (measure()), and its ratios are against that.
      unpinServer(false);
      const pairServer = s.server.kind === 'noop' ? undefined : await startNoop();
      unpinServer(s.server.kind === 'claimcheck' && (s.server.workers ?? 1) > 1);
      let server: ServerUnderTest | undefined;
      let against: ServerUnderTest | undefined;
      try {
        server = await start(s, configs, peerDir, peer);
        // its own id: with --profile, its own profile file
        if (s.against) against = await start({ ...s, id: `${s.id}-against`, server: s.against }, configs, peerDir, peer);
        const row = await measure(s, server, ctx, pairServer, against);
        if (s.id === 'baseline') rate = fixedRateFor(row.rps);
        row.fixedRate = s.memoryOnly ? undefined : rate;
        rows.push(row);
        const pair = row.pair;
        log(`${s.id}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms?.toFixed(2) ?? '-'} ms, p99 ${row.p99Ms?.toFixed(2) ?? '-'} ms, ${row.cpuPer10k.toFixed(2)} CPU s/10k, ${row.peakRssMiB.toFixed(0)} MiB${pair ? ` (baseline beside it: ${pair.rps.toFixed(0)} req/s, ${pair.cpuPer10k.toFixed(2)} CPU s/10k)` : ''}${row.against ? ` (against: ${row.against.rps.toFixed(0)} req/s, ${row.against.cpuPer10k.toFixed(2)} CPU s/10k)` : ''}`);
      } finally {
        await server?.stop();
        await against?.stop();
        await pairServer?.stop();
      }
    }
    unpinServer(false);
    const http = await runHttpRows(httpScenarios, { phases: P, connections: httpConnections, work, pools, repeated, start: (s) => start(s, configs, peerDir, peer), log });
    const meta = {
      date: new Date().toISOString(),
      quick,
      nproc: MACHINE_CPUS,
      cpu: cpus()[0]?.model ?? 'unknown',
      memGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
      freeGiB: Number((freemem() / 2 ** 30).toFixed(1)),
      loadavgEnd: loadavg(),
      node: process.version,
      ghz: GHZ_VERSION,
      opa: OPA_VERSION,
      load,
      fixedRate: rate,
      httpConnections,
      httpFixedRate: http.fixedRate,
      pinned: pinningEnabled(),
    };
    if (rows.length > 0) printReport(rows, meta);
    if (http.rows.length > 0) printHttpReport(http.rows, { connections: httpConnections, fixedRate: http.fixedRate });
    rows.push(...http.rows);
    const out = values.json ?? join(DATA_DIR, '..', '..', 'bench-results', `${meta.date.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ meta, rows }, null, 2));
    log(`results: ${out}`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Configs {
  10: string;
  10000: string;
  /** 10 policies, the first with identity.token, and its key directory */
  identity: string;
  identityKeys: string;
  /** 10 policies, the issuer with decryption */
  jwe: string;
  /** 10 policies, the issuer with introspection (written when its endpoint starts) */
  opaque: string;
}

async function start(s: Scenario, configs: Configs, peerDir: string, peer: string | undefined): Promise<ServerUnderTest> {
  // --profile: a V8 CPU profile per Node row, the baseline too (summarise with bench/profile-summary.ts)
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile, '--cpu-prof-name', `${s.id}.cpuprofile`] : [];
  if (s.server.kind === 'noop') return startNoop(profile);
  if (s.server.kind === 'noop-h2') return startNoopH2(profile);
  if (s.server.kind === 'noop-http1') return startNoopHttp1(profile);
  if (s.server.kind === 'noop-authz-http') return startNoopAuthzHttp(profile);
  if (s.server.kind === 'peer') return startPeer(peer!, join(peerDir, 'policy.rego'), join(peerDir, 'data.json'), s.server.gomaxprocs);
  const nodeArgs = [...(s.nodeArgs ?? []), ...profile];
  // --node-args: V8/Node flags for the claimcheck rows only (experiments; the baseline runs without)
  if (values['node-args']) nodeArgs.push(...values['node-args'].split(' ').filter((a) => a !== ''));
  const extra = [...(s.server.grpcServer ? ['--grpc-server', s.server.grpcServer] : []), ...(s.server.authzHttp ? ['--authz-http-addr', '127.0.0.1:0'] : [])];
  if (s.server.identityToken) {
    return startClaimcheck(configs.identity, s.server.workers ?? 1, [...extra, '--identity-issuer', 'http://claimcheck.bench.example', '--identity-key-dir', configs.identityKeys], nodeArgs);
  }
  if (s.server.decryption) return startClaimcheck(configs.jwe, s.server.workers ?? 1, extra, nodeArgs);
  const workers = s.server.workers ?? 1;
  if (s.server.tracing) {
    const sink = await startOtlpSink();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: s.server.tracing.sampler, ...(s.server.tracing.arg ? { OTEL_TRACES_SAMPLER_ARG: s.server.tracing.arg } : {}) };
    const dir = configs[s.server.policies];
    return withHelper(sink, () => startClaimcheck(dir, workers, extra, nodeArgs, env));
  }
  if (s.server.introspection) {
    const endpoint = await startIntrospectionEndpoint(ISSUER, AUDIENCE);
    writeConfig(configs.opaque, 10, { introspection: endpoint.url });
    return withHelper(endpoint, () => startClaimcheck(configs.opaque, workers, extra, nodeArgs));
  }
  if (s.server.replayStore !== 'redis') return startClaimcheck(configs[s.server.policies], s.server.workers ?? 1, extra, nodeArgs);
  const redis = await startRedis();
  const dir = configs[s.server.policies];
  return withHelper(redis, () => startClaimcheck(dir, workers, [...extra, '--replay-store', redis.url], nodeArgs));
}

/** A server that needs a helper process (Redis, an introspection endpoint): both stop together. */
async function withHelper(helper: { stop(): Promise<void> }, startServer: () => Promise<ServerUnderTest>): Promise<ServerUnderTest> {
  const cc = await startServer().catch(async (err: unknown) => {
    await helper.stop();
    throw err;
  });
  return { ...cc, stop: async () => { await cc.stop(); await helper.stop(); } };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
