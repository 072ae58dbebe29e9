import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/telemetry/metrics.js';

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('batched request counters', () => {
  test('reach the exposition exactly once per count, across scrapes', async () => {
    const m = new Metrics();
    for (let i = 0; i < 5; i++) m.countCheck('allow', 'allowed', 'shop/orders');
    m.countCheck('deny', 'token_expired', 'shop/orders');
    m.countCheck('deny', 'token_expired', 'shop/orders', 'http');
    m.countTokenCacheLookup('hit');
    m.countTokenCacheLookup('hit');
    m.countTokenCacheLookup('miss');
    const first = await m.registry.metrics();
    assert.equal(sample(first, 'claimcheck_checks_total', 'decision="allow",reason="allowed",policy="shop/orders",protocol="grpc"'), 5);
    assert.equal(sample(first, 'claimcheck_checks_total', 'decision="deny",reason="token_expired",policy="shop/orders",protocol="grpc"'), 1);
    assert.equal(sample(first, 'claimcheck_checks_total', 'decision="deny",reason="token_expired",policy="shop/orders",protocol="http"'), 1);
    assert.equal(sample(first, 'claimcheck_token_cache_lookups_total', 'result="hit"'), 2);
    assert.equal(sample(first, 'claimcheck_token_cache_lookups_total', 'result="miss"'), 1);
    m.countCheck('allow', 'allowed', 'shop/orders');
    const second = await m.registry.metrics();
    assert.equal(sample(second, 'claimcheck_checks_total', 'decision="allow",reason="allowed",policy="shop/orders",protocol="grpc"'), 6);
    assert.equal(sample(second, 'claimcheck_token_cache_lookups_total', 'result="hit"'), 2);
    const json = await m.registry.getMetricsAsJSON();
    const checks = json.find((x) => x.name === 'claimcheck_checks_total') as unknown as { values: { value: number }[] };
    assert.equal(checks.values.reduce((a, v) => a + v.value, 0), 8, 'the JSON form (cluster aggregation) sees the same totals');
  });
});
