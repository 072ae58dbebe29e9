import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixture, paymentsPolicy } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, healthCheck } from '../helpers/envoy-client.js';

describe('server lifecycle', () => {
  test('is NOT_SERVING and denies with 503 until a valid configuration arrives, then serves', async () => {
    const fx = await createFixture();
    await fx.writeRaw('policy.yaml', 'apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: p}\nspec: {rules: "nope"}\n');
    const cc = await startClaimcheck({ configDir: fx.dir });
    const client = createEnvoyClient(cc.grpcAddress);
    try {
      assert.equal(await healthCheck(cc.grpcAddress, ''), 'NOT_SERVING');
      assert.equal((await cc.http('/readyz')).status, 503);
      const r = await client.check({ host: 'payments.example.com', path: '/healthz' });
      assert.equal(r.code, 14);
      assert.equal(r.httpStatus, 503);
      assert.equal(JSON.parse(r.body!).error, 'temporarily_unavailable');
      await fx.write('policy.yaml', [paymentsPolicy()]);
      await eventually(async () => (await healthCheck(cc.grpcAddress, '')) === 'SERVING', 3_000);
      assert.equal((await client.check({ host: 'payments.example.com', path: '/healthz' })).code, 0);
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
