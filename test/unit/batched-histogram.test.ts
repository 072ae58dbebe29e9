import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { BatchedHistogram } from '../../src/telemetry/batched-histogram.js';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** The same observations into prom-client's Histogram and into BatchedHistogram, each on its own registry. */
function pair(observations: readonly [string, number][]) {
  const reference = new Registry();
  const batched = new Registry();
  const h = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['decision'], buckets: BUCKETS, registers: [reference] });
  const b = new BatchedHistogram({ name: 'x_seconds', help: 'h', labelNames: ['decision'], buckets: BUCKETS, registers: [batched] });
  for (const [label, v] of observations) {
    h.observe({ decision: label }, v);
    b.observe(label, v);
  }
  return { reference, batched, h, b };
}

function randomObservations(n: number, seed: number): [string, number][] {
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const labels = ['allow', 'deny', 'audit_deny'];
  // bucket bounds exactly, values between them and beyond the last
  const values = [...BUCKETS, 0, 2, 1e-7];
  return Array.from({ length: n }, () => [labels[Math.floor(rnd() * 3)]!, rnd() < 0.3 ? values[Math.floor(rnd() * values.length)]! : rnd() ** 4 * 1.5]);
}

const withoutExemplars = (values: readonly object[]) => values.map((v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'exemplar')));

describe('BatchedHistogram', () => {
  test('exposes exactly what prom-client Histogram exposes for the same observations', async () => {
    const { reference, batched } = pair(randomObservations(5000, 11));
    assert.equal(await batched.metrics(), await reference.metrics());
    const [ref] = await reference.getMetricsAsJSON();
    const [got] = await batched.getMetricsAsJSON();
    assert.deepEqual({ ...got, values: withoutExemplars(got!.values) }, { ...ref, values: withoutExemplars(ref!.values) });
  });

  test('is empty before any observation and after reset, like Histogram', async () => {
    const { reference, batched, h, b } = pair([]);
    assert.equal(await batched.metrics(), await reference.metrics());
    h.observe({ decision: 'allow' }, 0.01);
    b.observe('allow', 0.01);
    h.reset();
    b.reset();
    assert.equal(await batched.metrics(), await reference.metrics());
  });

  test('aggregates across --workers like Histogram', async () => {
    const workers = [randomObservations(300, 3), randomObservations(500, 5)].map((o) => pair(o));
    const ref = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.reference.getMetricsAsJSON())));
    const got = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.batched.getMetricsAsJSON())));
    const text = await got.metrics();
    assert.equal(text, await ref.metrics());
    assert.match(text, /x_seconds_count\{decision="allow"\} \d+/);
  });

  test('with two labels, exposes what Histogram exposes', async () => {
    const reference = new Registry();
    const batched = new Registry();
    const h = new Histogram({ name: 'y_seconds', help: 'h', labelNames: ['decision', 'protocol'], buckets: BUCKETS, registers: [reference] });
    const b = new BatchedHistogram({ name: 'y_seconds', help: 'h', labelNames: ['decision', 'protocol'], buckets: BUCKETS, registers: [batched] });
    randomObservations(2000, 7).forEach(([decision, v], i) => {
      const protocol = i % 3 === 0 ? 'http' : 'grpc';
      h.observe({ decision, protocol }, v);
      b.observe(BatchedHistogram.key(decision, protocol), v);
    });
    const text = await batched.metrics();
    assert.equal(text, await reference.metrics());
    assert.match(text, /y_seconds_count\{decision="deny",protocol="http"\} \d+/);
  });

  test('ignores a value that is not a finite number', async () => {
    const { batched, b } = pair([['allow', 0.001]]);
    b.observe('allow', Number.NaN);
    b.observe('allow', Number.POSITIVE_INFINITY);
    assert.match(await batched.metrics(), /x_seconds_count\{decision="allow"\} 1\n/);
  });
});
