import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { eventually, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';

describe('the file source reloads the configuration directory', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;
  const host = 'payments.example.com';

  let server: FixtureServer | undefined;
  before(async () => {
    server = await startFixtureServer();
    ({ fx, cc, client } = server);
  });
  after(async () => {
    await server?.close();
  });

  test('an edited rule is in effect within one second', async (t) => {
    const before = await client.check({ host, path: '/v0/old' });
    assert.equal(before.httpStatus, 403);
    const policy = paymentsPolicy();
    (policy.spec.rules as unknown[]).unshift({ name: 'open-v0', match: { paths: ['/v0/**'] }, action: 'allowAnonymous' });
    const t0 = Date.now();
    await fx.write('policy.yaml', [policy]);
    await eventually(async () => (await client.check({ host, path: '/v0/old' })).code === 0, 1_000, 20);
    const elapsed = Date.now() - t0;
    t.diagnostic(`edit to effect: ${elapsed} ms`);
    assert.ok(elapsed <= 1_000, `took ${elapsed} ms`);
  });

  test('a broken resource is logged with file and line and its last good version keeps serving', async () => {
    await fx.writeRaw('policy.yaml', [
      'apiVersion: claimcheck.io/v1alpha1',
      'kind: AuthPolicy',
      'metadata: {name: payments}',
      'spec:',
      '  hosts: [payments.example.com]',
      '  rules:',
      '    - name: everything',
      '      match: {pathz: ["/**"]}',
      '      action: allowAnonymous',
      '',
    ].join('\n'));
    const err = await cc.waitForLog((l) => l.level === 'error' && typeof l.file === 'string' && String(l.file).endsWith('policy.yaml'), 3_000);
    assert.ok(typeof err.line === 'number' && err.line > 0, `line reported: ${JSON.stringify(err)}`);
    assert.match(err.msg, /pathz/);
    // the previous rule set (with open-v0) still answers
    assert.equal((await client.check({ host, path: '/v0/old' })).code, 0);
    assert.equal((await client.check({ host, path: '/v1/x' })).httpStatus, 401);
    const m = await cc.http('/metrics');
    assert.match(m.body, /claimcheck_config_resources\{state="rejected"\} 1\b/);
    // --workers: each worker reports to the primary's /readyz within its 250 ms status update
    const ready = await eventually(async () => {
      const r = JSON.parse((await cc.http('/readyz')).body) as { rejected: string[] };
      return r.rejected.length > 0 ? r : undefined;
    }, 3_000);
    assert.ok(ready);
    assert.equal(ready.rejected.length, 1);
    assert.match(ready.rejected[0]!, /policy\.yaml:8: AuthPolicy default\/payments: \/spec\/rules\/0\/match: unknown field "pathz"/);
  });

  test('a resource added beside a broken one is served: acceptance is per resource', async () => {
    const other = paymentsPolicy({ hosts: ['orders.example.com'], rules: [{ name: 'open', match: { paths: ['/**'] }, action: 'allowAnonymous' }] });
    other.metadata.name = 'orders';
    await fx.write('orders.yaml', [other]);
    await eventually(async () => (await client.check({ host: 'orders.example.com', path: '/x' })).code === 0, 2_000, 20);
    // payments is still broken on disk and still serves its last good version
    assert.equal((await client.check({ host, path: '/v0/old' })).code, 0);
  });

  test('garbage YAML never crashes the process', async () => {
    await fx.writeRaw('garbage.yaml', '{{{{ not: [yaml\n\t- : :\n' + '\u0000'.repeat(10));
    await cc.waitForLog((l) => l.level === 'error' && String(l.file ?? '').endsWith('garbage.yaml'), 3_000);
    assert.equal(cc.child.exitCode, null);
    assert.equal((await client.check({ host, path: '/v0/old' })).code, 0);
  });
});
