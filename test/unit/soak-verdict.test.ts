/** bench/soak-verdict.ts: the soak's three targets from made-up samples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soakVerdict, type Sample, type Segment } from '../../bench/soak-verdict.js';

const hour = (rssAt: (sec: number) => number): Sample[] => Array.from({ length: 361 }, (_, i) => ({ atSec: i * 10, rssMiB: rssAt(i * 10), heapMiB: 50 }));
const minutes = (p99: (m: number) => number, errors = 0): Segment[] => Array.from({ length: 60 }, (_, i) => ({ minute: i + 1, calls: 1000, errors: i === 30 ? errors : 0, p50Ms: 0.5, p99Ms: p99(i + 1) }));

test('flat memory, no errors, steady p99: met', () => {
  const v = soakVerdict(hour(() => 120), minutes(() => 2));
  assert.deepEqual([v.met, v.rssGrowthPct, v.errors, v.p99Spread], [true, 0, 0, 1]);
});

test('memory growing 8% after minute ten: not met; growth before minute ten does not count', () => {
  assert.equal(soakVerdict(hour((s) => (s < 600 ? 60 + s / 10 : 120 + ((s - 600) / 3000) * 9.6)), minutes(() => 2)).met, false);
  const warm = soakVerdict(hour((s) => (s < 600 ? 60 + s / 10 : 120)), minutes(() => 2));
  assert.equal(warm.met, true);
  assert.equal(warm.rssGrowthPct, 0);
});

test('one error, or one minute with twice the median p99, is not met; a slow first minute is warm-up', () => {
  assert.equal(soakVerdict(hour(() => 100), minutes(() => 2, 1)).met, false);
  assert.equal(soakVerdict(hour(() => 100), minutes((m) => (m === 40 ? 4 : 2))).met, false);
  assert.equal(soakVerdict(hour(() => 100), minutes((m) => (m === 1 ? 9 : 2))).met, true);
});
