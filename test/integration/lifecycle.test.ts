import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixture, paymentsPolicy } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, healthCheck } from '../helpers/envoy-client.js';

describe('server lifecycle', () => {
  test('a policy that does not load is refused alone from the first load; its fixed version serves after a reload', async () => {
    const fx = await createFixture();
    await fx.writeRaw('policy.yaml', 'apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: payments}\nspec: {rules: "nope"}\n');
    const cc = await startClaimcheck({ configDir: fx.dir });
    const client = createEnvoyClient(cc.grpcAddress);
    try {
      // per-resource acceptance: the issuer is served, the broken policy is not
      assert.equal(await healthCheck(cc.grpcAddress, ''), 'SERVING');
      const ready = await cc.http('/readyz');
      assert.equal(ready.status, 200);
      assert.match(JSON.parse(ready.body).rejected[0], /policy\.yaml:4: AuthPolicy default\/payments: \/spec\/rules/);
      const r = await client.check({ host: 'payments.example.com', path: '/healthz' });
      assert.equal(r.httpStatus, 403, 'no policy claims the host: denied, never allowed');
      await fx.write('policy.yaml', [paymentsPolicy()]);
      await eventually(async () => (await client.check({ host: 'payments.example.com', path: '/healthz' })).code === 0, 3_000);
      // every worker reports to /readyz within its 250 ms status update
      await eventually(async () => JSON.parse((await cc.http('/readyz')).body).rejected.length === 0, 3_000);
    } finally {
      client.close();
      await cc.stop();
      await fx.cleanup();
    }
  });

  test('serves on a unix socket and drains on SIGTERM with exit code 0', async () => {
    const fx = await createFixture();
    const sockDir = await mkdtemp(join(tmpdir(), 'claimcheck-sock-'));
    const sock = join(sockDir, 'claimcheck.sock');
    const cc = await startClaimcheck({ configDir: fx.dir, grpcAddr: `unix:${sock}` });
    const client = createEnvoyClient(`unix:${sock}`);
    try {
      assert.equal(await healthCheck(`unix:${sock}`, ''), 'SERVING');
      assert.equal((await client.check({ host: 'payments.example.com', path: '/healthz' })).code, 0);
      const code = await cc.stop('SIGTERM');
      assert.equal(code, 0);
      assert.ok(cc.logs.some((l) => l.msg === 'draining'));
    } finally {
      client.close();
      await cc.stop();
      await fx.cleanup();
      await rm(sockDir, { recursive: true, force: true });
    }
  });
});
