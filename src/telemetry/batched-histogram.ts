/**
 * A histogram whose observe() is a bucket search and three additions.
 *
 * prom-client's Histogram.observe validates and hashes the label object on every call
 * (~3 µs per Check in the bench profile, docs/performance.md). This keeps plain per-value
 * counters and turns them into prom-client's metric shape only when scraped, so the
 * registry, the text exposition and the --workers aggregation treat it like any
 * histogram: get() returns what Histogram.get() returns for the same observations
 * (test/unit/batched-histogram.test.ts compares the two).
 */
import type { Metric, Registry } from 'prom-client';

interface Series {
  /** per bucket, not cumulative; the last slot is +Inf */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export interface BatchedHistogramOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  buckets: readonly number[];
  registers: readonly Registry[];
}

export class BatchedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(opts: BatchedHistogramOptions) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
    this.bounds = [...opts.buckets].sort((a, b) => a - b);
    for (const r of opts.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The key of one label combination for observe(): the values in labelNames' order. */
  static key(...labelValues: string[]): string {
    return labelValues.join('\0');
  }

  /** `key` from BatchedHistogram.key(), made once by the caller rather than per observation. */
  observe(key: string, value: number): void {
    // Like prom-client: a value that is not a finite number is refused, never counted.
    if (!Number.isFinite(value)) return;
    let s = this.series.get(key);
    if (!s) {
      s = { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  reset(): void {
    this.series.clear();
  }

  /** The registry's view: Histogram.get()'s shape (cumulative `le` buckets, then sum and count per label value). */
  async get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    const values: Value[] = [];
    for (const [key, s] of this.series) {
      const parts = key.split('\0');
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = parts[i] ?? ''));
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { le: i < this.bounds.length ? this.bounds[i]! : '+Inf', ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
