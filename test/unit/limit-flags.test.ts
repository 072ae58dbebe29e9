/** cli/limit-flags.ts: the former constants as flags, their defaults, ranges, and where they apply. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCheck, parseServe, parseTest, parseValidate } from '../../src/cli.js';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import type { AnyResource } from '../../src/model/types.js';

describe('limit flags', () => {
  test('defaults are the former constants', () => {
    const o = parseServe([], {});
    assert.deepEqual(o.keyLimits, { coldWaitMs: 150, fetchTimeoutMs: 5000, jwksMaxBytes: 512 * 1024, jwksMaxKeys: 100, discoveryIntervalMs: 3_600_000 });
    assert.equal(o.celCostLimit, 50_000);
  });

  test('flags and variables set them; check, validate and test take the CEL limit too', () => {
    const o = parseServe(['--key-fetch-wait', '2s', '--key-fetch-timeout', '1s', '--jwks-max-bytes', '65536', '--discovery-refresh-interval', '10m'], { CLAIMCHECK_JWKS_MAX_KEYS: '20', CLAIMCHECK_CEL_COST_LIMIT: '1000' });
    assert.deepEqual(o.keyLimits, { coldWaitMs: 2000, fetchTimeoutMs: 1000, jwksMaxBytes: 65536, jwksMaxKeys: 20, discoveryIntervalMs: 600_000 });
    assert.equal(o.celCostLimit, 1000);
    assert.equal(parseCheck(['--host', 'h', '--path', '/', '--cel-cost-limit', '500'], {}).celCostLimit, 500);
    assert.equal(parseValidate(['x.yaml', '--cel-cost-limit', '500'], {}).celCostLimit, 500);
    assert.equal(parseTest(['x.yaml', '--cel-cost-limit', '500'], {}).celCostLimit, 500);
  });

  const bad: [string[], RegExp][] = [
    [['--key-fetch-wait', '0s'], /--key-fetch-wait must be a duration from 1ms to 10s/],
    [['--key-fetch-wait', '11s'], /--key-fetch-wait must be a duration from 1ms to 10s/],
    [['--key-fetch-timeout', '50ms'], /--key-fetch-timeout must be a duration from 100ms to 60s/],
    [['--jwks-max-bytes', '100'], /--jwks-max-bytes must be an integer from 1024 to 16777216/],
    [['--jwks-max-keys', '0'], /--jwks-max-keys must be an integer from 1 to 10000/],
    [['--discovery-refresh-interval', '10s'], /--discovery-refresh-interval must be a duration from 1m to 24h/],
    [['--cel-cost-limit', '1.5'], /--cel-cost-limit must be an integer from 100 to 10000000/],
  ];
  for (const [argv, message] of bad) {
    test(`refuses ${argv.join(' ')}`, () => {
      assert.throws(() => parseServe(argv, {}), message);
    });
  }

  test('--cel-cost-limit reaches the compiler: a condition within the default is refused under a low limit', () => {
    const when = "claims.groups.exists(g, g.startsWith('admin')) && request.path.startsWith('/a')";
    const resources: AnyResource[] = [
      { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'idp' }, spec: { issuer: 'https://idp.example.com', jwks: { uri: 'https://idp.example.com/jwks' }, audiences: ['api'] } },
      { apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'p' }, spec: { hosts: ['a.example.com'], issuers: ['idp'], rules: [{ name: 'r', match: { paths: ['/**'] }, require: { when } }] } },
    ];
    assert.deepEqual(compileSnapshot(resources, { namespace: 'claimcheck', generation: 1 }).problems, []);
    const low = compileSnapshot(resources, { namespace: 'claimcheck', generation: 1, celCostLimit: 5 });
    assert.ok(low.problems.some((p) => /too expensive.*limit 5\)/.test(p.message)), JSON.stringify(low.problems));
  });
});
