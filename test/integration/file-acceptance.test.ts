/**
 * Per-resource acceptance in the file source, through the real server: a bad resource is
 * refused alone at startup too, and a policy whose issuer is refused denies that issuer's
 * tokens, even with --unmatched-host allow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, issuerDoc, paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { generateKey } from '../helpers/tokens.js';

describe('file source: per-resource acceptance from the first load', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;

  before(async () => {
    fx = await createFixture();
    // a second issuer that does not compile (clockSkew above 5m), named by a second policy
    const bad = issuerDoc({ keys: [generateKey('ES256', 'other').jwk] }, { clockSkew: '10m' });
    bad.metadata.name = 'broken-idp';
    await fx.write('broken-issuer.yaml', [bad]);
    const orders = paymentsPolicy({ hosts: ['orders.example.com'], issuers: ['broken-idp'] });
    orders.metadata.name = 'orders';
    await fx.write('orders.yaml', [orders]);
    await fx.writeRaw('typo.yaml', 'apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: typo\nspec: {}\n');
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--unmatched-host', 'allow'] });
    client = createEnvoyClient(cc.grpcAddress);
  });
  after(async () => {
    client?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  test('the valid policy serves while the broken issuer and the broken file are refused', async () => {
    const token = await fx.sign();
    assert.equal((await client.check({ host: 'payments.example.com', path: '/v1/x', headers: { authorization: `Bearer ${token}` } })).code, 0);
    const ready = JSON.parse((await cc.http('/readyz')).body) as { ready: boolean; rejected: string[] };
    assert.equal(ready.ready, true);
    assert.equal(ready.rejected.length, 2, JSON.stringify(ready));
    assert.ok(ready.rejected.some((r) => /broken-issuer\.yaml:\d+: TrustedIssuer default\/broken-idp: \/spec\/clockSkew: clockSkew 10m is above the maximum/.test(r)), ready.rejected.join('\n'));
    assert.ok(ready.rejected.some((r) => /typo\.yaml:3: YAML syntax error/.test(r)), ready.rejected.join('\n'));
    const err = await cc.waitForLog((l) => l.level === 'error' && /resource rejected/.test(l.msg) && l.name === 'broken-idp', 2_000);
    assert.equal(err.kind, 'TrustedIssuer');
  });

  test('a policy naming the refused issuer is served and denies its tokens: never the unmatched-host allow', async () => {
    const token = await fx.sign();
    const r = await client.check({ host: 'orders.example.com', path: '/v1/x', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.httpStatus, 401, 'the refused issuer verifies nothing');
    const anonymous = await client.check({ host: 'orders.example.com', path: '/v1/x' });
    assert.equal(anonymous.httpStatus, 401, 'the policy is in force, so a missing token is a 401, not an allow');
    assert.equal((await client.check({ host: 'unknown.example.com', path: '/' })).code, 0, 'a host without any policy follows --unmatched-host allow');
    const m = await cc.http('/metrics');
    assert.match(m.body, /claimcheck_config_resources\{state="rejected"\} 2\b/);
    assert.match(m.body, /claimcheck_config_resources\{state="accepted"\} 3\b/);
  });
});
