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

test('npm run bench --smoke measures the baseline, claimcheck on both gRPC servers and the peer and writes its report', { skip, timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-bench-smoke-'));
  try {
    const json = join(dir, 'bench.json');
    const only = ['transport', 'repeated', 'repeated-grpc-js', 'distinct', 'forged', ...(peerPath() ? ['peer'] : [])];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--only', only.join(','), '--json', json], { cwd: REPO });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('exit', (c) => resolve({ code: c, stdout, stderr }));
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\| scenario \| max req\/s \| × baseline \|/);
    type Pair = { rps: number; cpuPer10k: number };
    const report = JSON.parse(await readFile(json, 'utf8')) as { rows: { id: string; count: number; errors: number; rps: number; cpuPer10k: number; peakRssMiB: number; pair?: Pair }[] };
    // the baseline runs first and last; every other row has a baseline measured just before it
    assert.deepEqual(report.rows.map((r) => r.id), ['baseline', ...only, 'baseline-end']);
    assert.match(stdout, /against the no-op baseline measured just before the row/);
    for (const r of report.rows) {
      const paired = r.id !== 'baseline' && r.id !== 'baseline-end';
      assert.equal(r.pair !== undefined, paired, `${r.id}: a paired baseline exactly when it is not a baseline row`);
      if (r.pair) assert.ok(r.pair.rps > 0 && r.pair.cpuPer10k > 0, `${r.id}: its baseline was measured`);
    }
    for (const r of report.rows) {
      assert.ok(r.count > 0 && r.rps > 0, `${r.id} sent requests`);
      assert.equal(r.errors, 0, `${r.id} had no RPC errors`);
      assert.ok(r.cpuPer10k > 0 && r.peakRssMiB > 0, `${r.id} was sampled from /proc`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
