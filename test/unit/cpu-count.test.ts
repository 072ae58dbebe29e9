/** cli/cpu-count.ts against fake cgroup trees: the quota, then the cpuset, then the host. */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cpusetSize, quotaCpus, usableCpus } from '../../src/cli/cpu-count.js';
import { parseServe } from '../../src/cli.js';

const roots: string[] = [];
function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'claimcheck-cgroup-'));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), `${content}\n`);
  }
  return root;
}
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
const host = (n: number) => () => n;

describe('usable CPUs', () => {
  test('cgroup v2 cpu.max: quota / period, rounded down, at least 1; "max" is no limit', () => {
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu.max': '200000 100000' }), available: host(64) }), { cpus: 2, from: 'quota' });
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu.max': '150000 100000' }), available: host(64) }), { cpus: 1, from: 'quota' });
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu.max': '50000 100000' }), available: host(64) }), { cpus: 1, from: 'quota' });
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu.max': 'max 100000' }), available: host(8) }), { cpus: 8, from: 'host' });
  });

  test('cgroup v1 cfs_quota_us / cfs_period_us; -1 is no limit', () => {
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu/cpu.cfs_quota_us': '400000', 'cpu/cpu.cfs_period_us': '100000' }), available: host(16) }), { cpus: 4, from: 'quota' });
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' }), available: host(16) }), { cpus: 16, from: 'host' });
  });

  test('the cpuset counts when it is smaller than the quota; the host when nothing is set', () => {
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpu.max': '800000 100000', 'cpuset.cpus.effective': '0-1' }), available: host(64) }), { cpus: 2, from: 'cpuset' });
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({ 'cpuset/cpuset.effective_cpus': '0-3,8,10-11' }), available: host(64) }), { cpus: 7, from: 'cpuset' });
    assert.deepEqual(usableCpus({ cgroupRoot: cgroup({}), available: host(3) }), { cpus: 3, from: 'host' });
    assert.deepEqual(usableCpus({ cgroupRoot: join(tmpdir(), 'claimcheck-no-such-cgroup'), available: host(2) }), { cpus: 2, from: 'host' });
  });

  test('malformed files are ignored', () => {
    assert.equal(quotaCpus('lots 100000', undefined, undefined), undefined);
    assert.equal(quotaCpus('100000 0', undefined, undefined), undefined);
    assert.equal(cpusetSize('3-1'), undefined);
    assert.equal(cpusetSize('a,b'), undefined);
    assert.equal(cpusetSize(''), undefined);
  });

  test('--workers: auto by default and on request, a number as given, 1 on a unix socket', () => {
    const auto = parseServe([], {});
    assert.ok(auto.workers >= 1 && ['quota', 'cpuset', 'host'].includes(auto.workersFrom), JSON.stringify(auto.workers));
    assert.deepEqual(['workers', 'workersFrom'].map((k) => parseServe(['--workers', '3'], {})[k as 'workers']), [3, 'flag']);
    assert.equal(parseServe(['--workers', 'auto'], {}).workersFrom, auto.workersFrom);
    assert.deepEqual([parseServe(['--grpc-addr', 'unix:/tmp/x.sock'], {}).workers, parseServe(['--grpc-addr', 'unix:/tmp/x.sock'], {}).workersFrom], [1, 'unix-socket']);
    assert.throws(() => parseServe(['--workers', 'two'], {}), /--workers must be a positive integer/);
  });
});
