import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/claimcheck-process.js';
import { ghzPath, peerPath } from '../../bench/tools.js';
import { skipFor } from '../helpers/skip.js';

// No thresholds: this proves `npm run bench` still runs end to end (servers, ghz, /proc
// sampling, report), so the benchmark cannot rot between the runs that publish numbers.
const ghz = ghzPath();
const skip = skipFor('bench smoke', ghz ? undefined : 'ghz is not installed (scripts/bench-tools.sh builds it; .ci/run runs that script)');

type Pair = { rps: number; cpuPer10k: number; clientBusy?: number };
interface ReportRow {
  id: string;
  count: number;
  errors: number;
  rps: number;
  cpuPer10k: number;
  peakRssMiB: number;
  p50Ms?: number;
  pair?: Pair;
  serverBusy?: number;
  clientBusy?: number;
  statuses?: Record<string, number>;
}

async function smoke(only: string[]): Promise<{ stdout: string; rows: ReportRow[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-bench-smoke-'));
  try {
    const json = join(dir, 'bench.json');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--only', only.join(','), '--json', json], { cwd: REPO });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('exit', (c) => resolve({ code: c, stdout, stderr }));
    });
    assert.equal(code, 0, stderr);
    return { stdout, rows: (JSON.parse(await readFile(json, 'utf8')) as { rows: ReportRow[] }).rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('npm run bench --smoke measures the baseline, claimcheck on both gRPC servers and the peer and writes its report', { skip, timeout: 300_000 }, async () => {
  const only = ['transport', 'repeated', 'repeated-grpc-js', 'distinct', 'dpop', 'dpop-redis', 'opaque-distinct', 'forged', ...(peerPath() ? ['peer'] : [])];
  const { stdout, rows } = await smoke(only);
  assert.match(stdout, /\| scenario \| max req\/s \| × baseline \|/);
  // the baseline runs first and last; every other row has a baseline measured just before it
  assert.deepEqual(rows.map((r) => r.id), ['baseline', ...only, 'baseline-end']);
  assert.match(stdout, /against the no-op baseline measured just before the row/);
  for (const r of rows) {
    const paired = r.id !== 'baseline' && r.id !== 'baseline-end';
    assert.equal(r.pair !== undefined, paired, `${r.id}: a paired baseline exactly when it is not a baseline row`);
    if (r.pair) assert.ok(r.pair.rps > 0 && r.pair.cpuPer10k > 0, `${r.id}: its baseline was measured`);
  }
  for (const r of rows) {
    assert.ok(r.count > 0 && r.rps > 0, `${r.id} sent requests`);
    assert.equal(r.errors, 0, `${r.id} had no RPC errors`);
    assert.ok(r.cpuPer10k > 0 && r.peakRssMiB > 0, `${r.id} was sampled from /proc`);
  }
});

// Node alone drives these rows (bench/http1-load.ts): nothing to install, so never skipped.
test('npm run bench --smoke --only http-…: forward auth over HTTP/1.1 keep-alive beside the no-op node:http server, every answer a 200', { timeout: 300_000 }, async () => {
  const { stdout, rows } = await smoke(['http-listener', 'http-repeated', 'http-distinct']);
  assert.match(stdout, /\| scenario \| max req\/s \| × no-op HTTP\/1\.1 \|/);
  assert.match(stdout, /\| forward-auth repeated token vs no-op HTTP\/1\.1 \| \d+\.\d\d \| ≥ 0\.8 \| (yes|NO) \|/);
  // the no-op baseline first, and no gRPC row: --only named HTTP rows alone
  assert.deepEqual(rows.map((r) => r.id), ['http-baseline', 'http-listener', 'http-repeated', 'http-distinct']);
  for (const r of rows) {
    assert.ok(r.count > 0 && r.rps > 0 && r.p50Ms! > 0, `${r.id} sent requests and measured latency`);
    assert.deepEqual(r.statuses, { '200': r.count }, `${r.id}: every answer of the max phase was a 200`);
    assert.equal(r.errors, 0, `${r.id}: no answer other than 200 in any phase`);
    assert.ok(r.cpuPer10k > 0 && r.peakRssMiB > 0 && r.serverBusy! > 0 && r.clientBusy! > 0, `${r.id} was sampled from /proc and the driver`);
    assert.equal(r.pair !== undefined, r.id !== 'http-baseline', `${r.id}: a no-op beside it exactly when it is not the baseline`);
    if (r.pair) assert.ok(r.pair.rps > 0 && r.pair.cpuPer10k > 0, `${r.id}: the no-op beside it was measured`);
  }
  // one token sent again and again, against every request a new token: the second must be the costlier
  const [, , repeated, distinct] = rows;
  assert.ok(distinct!.cpuPer10k > repeated!.cpuPer10k, `a new RS256 token costs more CPU than a repeated one (${distinct!.cpuPer10k} vs ${repeated!.cpuPer10k})`);
});

test('npm run soak --smoke: segments at a fixed rate with reloads and key rotations, memory samples, the verdict table and a PNG', { skip, timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-soak-smoke-'));
  try {
    const [json, png] = [join(dir, 'soak.json'), join(dir, 'soak.png')];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak.ts', '--smoke', '--json', json, '--png', png], { cwd: REPO });
      let [out, err] = ['', ''];
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (err += String(d)));
      child.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    // 1 is a missed target (a smoke's few seconds prove nothing about stability); 2 is a failure
    assert.ok(code === 0 || code === 1, stderr);
    const r = JSON.parse(await readFile(json, 'utf8')) as { segments: { calls: number; errors: number }[]; samples: { rssMiB: number; heapMiB: number }[]; reloads: number; rotations: number };
    assert.equal(r.segments.length, 3);
    assert.ok(r.segments.every((s) => s.calls > 0), 'every segment sent calls');
    assert.equal(r.segments.reduce((n, s) => n + s.errors, 0), 0, 'no call failed through reloads and rotations');
    assert.ok(r.samples.length >= 4 && r.samples.every((s) => s.rssMiB > 0 && s.heapMiB > 0), JSON.stringify(r.samples));
    assert.ok(r.reloads >= 2 && r.rotations >= 1, `reloads ${r.reloads}, rotations ${r.rotations}`);
    assert.match(stdout, /\| RSS growth after the first ten minutes \|/);
    assert.deepEqual([...(await readFile(png)).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
