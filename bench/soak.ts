/**
 * `npm run soak [-- --minutes 60] [-- --smoke] [-- --json FILE] [-- --png FILE]`
 *
 * One claimcheck process under a steady load for a long time (docs/performance.md "Soak"):
 * ghz at a fixed rate (half the no-op baseline's maximum, measured first) in one-minute
 * segments, sending a mix of one repeated token, a pool of tokens larger than the token
 * cache (so misses and evictions never stop), forged tokens and requests without one; a
 * configuration reload every 30 s and a key rotation every 5 minutes. RSS and heap every
 * 10 s; calls, errors and p99 per segment. --smoke: the same in seconds, for npm test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCheckRequest } from '../test/helpers/envoy-client.js';
import { DATA_DIR, HOST, forgedToken, tokenPool, writeConfig } from './fixtures.js';
import { runGhz, writeRequests } from './ghz.js';
import { startClaimcheck, startNoop } from './servers.js';
import { ghzPath, GHZ_VERSION } from './tools.js';
import { plotPng } from './png-plot.js';
import { soakVerdict, type Sample, type Segment } from './soak-verdict.js';

const { values } = parseArgs({ options: { minutes: { type: 'string' }, smoke: { type: 'boolean' }, json: { type: 'string' }, png: { type: 'string' } } });
const smoke = values.smoke === true;
// smoke: every part once or twice, in about 20 s
const T = smoke
  ? { segments: 3, segmentSec: 4, reloadSec: 3, rotateSec: 7, sampleSec: 2, pool: 3000, cache: 1000, rate: 300 }
  : { segments: Number(values.minutes ?? 60), segmentSec: 60, reloadSec: 30, rotateSec: 300, sampleSec: 10, pool: 50_000, cache: 20_000, rate: 0 };
const log = (m: string) => process.stderr.write(`[soak] ${m}\n`);

async function main(): Promise<number> {
  const ghz = ghzPath();
  if (!ghz) throw new Error(`ghz ${GHZ_VERSION} is not installed; run scripts/bench-tools.sh`);
  const work = mkdtempSync(join(tmpdir(), 'claimcheck-soak-'));
  try {
    const config = join(work, 'config');
    writeConfig(config, 10);
    const [repeated] = await tokenPool('RS256', 1, log);
    const pool = await tokenPool('RS256', T.pool, log);
    const forged = await forgedToken();
    const request = (token: string | undefined) => buildCheckRequest({ host: HOST, path: '/api/orders', method: 'GET', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'user-agent': 'soak/1.0' }, requestId: 'soak' });
    // of every 20 calls: 12 the repeated token, 6 pool tokens, 1 forged, 1 without a token
    const mix: object[] = [];
    for (let i = 0; i < pool.length; i += 6) {
      for (let k = 0; k < 12; k++) mix.push(request(repeated));
      for (const t of pool.slice(i, i + 6)) mix.push(request(t));
      mix.push(request(forged), request(undefined));
    }
    const data = join(work, 'mix.bin');
    writeRequests(data, mix);
    const load = { concurrency: 32, connections: 1 };
    let rate = T.rate;
    if (!rate) {
      const noop = await startNoop();
      const max = await runGhz(ghz, noop.address, data, load, { durationSec: 5 });
      await noop.stop();
      rate = Math.max(100, Math.round(max.rps / 2 / 100) * 100);
    }
    log(`${T.segments} segments of ${T.segmentSec} s at ${rate} req/s; reload every ${T.reloadSec} s, rotation every ${T.rotateSec} s`);
    const cc = await startClaimcheck(config, 1, ['--token-cache-size', String(T.cache)]);
    const samples: Sample[] = [];
    const segments: Segment[] = [];
    const started = Date.now();
    const events = { reloads: 0, rotations: 0 };
    const sample = async () => {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
      const metrics = await fetch(`http://127.0.0.1:${cc.httpPort}/metrics`).then((r) => r.text(), () => '');
      const heap = Number(/^claimcheck_nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
      samples.push({ atSec: (Date.now() - started) / 1000, rssMiB: rss, heapMiB: heap });
    };
    const timers = [
      setInterval(() => void sample(), T.sampleSec * 1000),
      setInterval(() => reload(config, ++events.reloads), T.reloadSec * 1000),
      setInterval(() => rotate(config, ++events.rotations), T.rotateSec * 1000),
    ];
    try {
      await sample();
      for (let i = 0; i < T.segments; i++) {
        const r = await runGhz(ghz, cc.address, data, load, { durationSec: T.segmentSec }, rate);
        segments.push({ minute: i + 1, calls: r.count, errors: r.errors, p50Ms: r.p50Ms, p99Ms: r.p99Ms });
        log(`segment ${i + 1}: ${r.count} calls, ${r.errors} errors, p99 ${r.p99Ms.toFixed(2)} ms, rss ${samples.at(-1)?.rssMiB.toFixed(0)} MiB`);
      }
      await sample();
    } finally {
      for (const t of timers) clearInterval(t);
      await cc.stop();
    }
    const verdict = soakVerdict(samples, segments, smoke);
    const out = values.json ?? join(DATA_DIR, '..', '..', 'bench-results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.json`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ ...T, rate, ...events, samples, segments, verdict }, null, 2));
    if (values.png) {
      writeFileSync(values.png, plotPng([
        { values: samples.map((s) => s.rssMiB), color: [200, 40, 40], fromZero: true },
        { values: samples.map((s) => s.heapMiB), color: [40, 90, 200], fromZero: true },
        { values: segments.map((s) => s.p99Ms), color: [30, 140, 60], fromZero: true },
      ]));
    }
    for (const line of verdict.lines) process.stdout.write(`${line}\n`);
    log(`results: ${out}`);
    return verdict.met ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A policy for a host of its own, renamed each time: a real change, compiled and swapped in. */
function reload(config: string, n: number): void {
  const doc = { apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'soak-reload' }, spec: { hosts: [`reload-${n}.bench.example`], issuers: ['bench-idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }] } };
  writeFileSync(join(config, 'soak-reload.yaml'), JSON.stringify(doc) + '\n');
}

/** A new key beside the signing keys, the previous one gone: the issuer's key set is rebuilt. */
function rotate(config: string, n: number): void {
  const file = join(config, 'issuer.yaml');
  const issuer = JSON.parse(readFileSync(file, 'utf8')) as { spec: { jwks: { inline: { keys: Record<string, unknown>[] } } } };
  const keys = issuer.spec.jwks.inline.keys.filter((k) => !String(k.kid).startsWith('rotated-'));
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  issuer.spec.jwks.inline.keys = [...keys, { ...jwk, kid: `rotated-${n}`, alg: 'ES256', use: 'sig' }];
  writeFileSync(file, JSON.stringify(issuer) + '\n');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
