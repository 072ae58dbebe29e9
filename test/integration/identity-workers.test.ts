/**
 * Identity tokens with --workers 2: the workers sign, the primary serves the JWKS of the same
 * directory, and what a worker signed verifies against it. Without --identity-issuer a policy
 * with identity.token is refused with its file:line while the others serve.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createFixture, paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { ecPrivateKeyPem } from '../helpers/tokens.js';

const ISSUER = 'http://claimcheck.identity.test:9090';

describe('identity tokens across processes', () => {
  let fx: Fixture;
  let keyDir: string;
  const running: ClaimcheckProcess[] = [];
  before(async () => {
    fx = await createFixture();
    keyDir = join(fx.dir, 'identity-keys');
    await mkdir(keyDir);
    await writeFile(join(keyDir, 'w-1.pem'), ecPrivateKeyPem());
    await fx.write('policy.yaml', [
      paymentsPolicy({ identity: { token: { audiences: ['orders'] } } }),
      { ...paymentsPolicy({ hosts: ['plain.example.com'] }), metadata: { name: 'plain' } },
    ]);
  });
  after(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await fx?.cleanup();
  });

  test('--workers 2: a worker\'s token verifies against the primary\'s JWKS (max-age 60, the same on every replica) and discovery', async () => {
    const cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '2', '--identity-issuer', ISSUER, '--identity-key-dir', keyDir] });
    running.push(cc);
    const discovery = JSON.parse((await cc.http('/.well-known/openid-configuration')).body) as Record<string, unknown>;
    assert.deepEqual(discovery, { issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['ES256'] });
    const res = await fetch(`http://127.0.0.1:${cc.httpPort}/.well-known/jwks.json`);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
    const body = await res.text();
    const jwks = createLocalJWKSet(JSON.parse(body));
    // another replica on the same key directory (one Secret) publishes the same document
    const replica = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1', '--identity-issuer', ISSUER, '--identity-key-dir', keyDir] });
    running.push(replica);
    assert.equal((await replica.http('/.well-known/jwks.json')).body, body);
    const client = createEnvoyClient(cc.grpcAddress);
    try {
      for (let i = 0; i < 4; i++) {
        const r = await client.check({ host: 'payments.example.com', path: '/v1/accounts', headers: { authorization: `Bearer ${await fx.sign({ sub: `w${i}` })}` } });
        assert.equal(r.code, 0, r.body);
        const { payload } = await jwtVerify(r.headers['x-claimcheck-identity']!, jwks, { issuer: ISSUER, audience: 'orders' });
        assert.equal(payload.sub, undefined, 'no claim is copied unless mapped');
      }
    } finally {
      client.close();
    }
  });

  test('without --identity-issuer the policy with identity.token is refused with file:line; the other serves', async () => {
    const cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1'] });
    running.push(cc);
    const ready = JSON.parse((await cc.http('/readyz')).body) as { rejected: string[] };
    assert.ok(ready.rejected.some((x) => /policy\.yaml:\d+: AuthPolicy default\/payments: \/spec\/identity\/token: identity\.token needs the server flags --identity-issuer/.test(x)), ready.rejected.join('\n'));
    const client = createEnvoyClient(cc.grpcAddress);
    try {
      const ok = await client.check({ host: 'plain.example.com', path: '/v1/accounts', headers: { authorization: `Bearer ${await fx.sign({})}` } });
      assert.equal(ok.code, 0, ok.body);
      assert.equal((await client.check({ host: 'payments.example.com', path: '/v1/accounts', headers: { authorization: `Bearer ${await fx.sign({})}` } })).httpStatus, 403);
    } finally {
      client.close();
    }
  });
});
