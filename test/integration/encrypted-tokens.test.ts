/**
 * TrustedIssuer `decryption` through a real claimcheck process (file source) over gRPC: the
 * size cap before decryption, a JWE for the wrong issuer, and `claimcheck validate` refusing
 * RSA1_5 with file:line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { CompactEncrypt, SignJWT } from 'jose';
import { AUDIENCE, type Fixture, resourceDoc } from '../helpers/fixture-config.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { BIN, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import type { CheckOutcome, EnvoyClient } from '../helpers/envoy-client.js';

const ISS = 'https://vault-idp.test.invalid';
const HOST = 'vault.example.com';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('encrypted tokens over gRPC', () => {
  let server: FixtureServer;
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let envoy: EnvoyClient;
  const enc = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sign = (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: ISS, aud: AUDIENCE, sub: 'ana', iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'vault-1' }).sign(fx.privateKey());
  };
  const encrypt = async (jwt: string) => new CompactEncrypt(new TextEncoder().encode(jwt)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(enc.publicKey);
  const check = (token: string) => envoy.check({ host: HOST, path: '/secrets', headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    server = await startFixtureServer(async (f) => {
      const jwk = f.publicJwk('vault-1');
      await f.writeRaw('keys/decrypt.pem', enc.privateKey.export({ format: 'pem', type: 'pkcs8' }));
      await f.write('vault.yaml', [
        resourceDoc('TrustedIssuer', 'vault-idp', { issuer: ISS, jwks: { inline: { keys: [jwk] } }, audiences: [AUDIENCE], decryption: { secretRef: { path: './keys/decrypt.pem' } } }),
        resourceDoc('AuthPolicy', 'vault', { hosts: [HOST], issuers: ['vault-idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }], identity: { headers: { 'x-user-id': 'sub' } } }),
      ]);
      await f.write('broken.yaml', [resourceDoc('TrustedIssuer', 'weak', { issuer: 'https://weak.test.invalid', jwks: { inline: { keys: [jwk] } }, audiences: [AUDIENCE], decryption: { secretRef: { path: './keys/decrypt.pem' }, keyAlgorithms: ['RSA1_5'] } })]);
    }, ['--workers', '1']);
    ({ fx, cc, client: envoy } = server);
  });
  after(() => server?.close());

  test('a JWE around the issuer\'s token: allowed, identity from the inner claims; the same inner token unencrypted too', async () => {
    const inner = await sign();
    const r = await check(await encrypt(inner));
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers['x-user-id'], 'ana');
    assert.equal((await check(inner)).code, 0);
  });

  test('a 200 KiB JWE is refused before decryption', async () => {
    const jwe = await encrypt(await sign({ pad: randomBytes(150 * 1024).toString('base64url') }));
    assert.ok(jwe.length > 200 * 1024);
    const r = await check(jwe);
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'token too large');
  });

  test('zip: DEF is refused before decryption', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const zipped = [b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', zip: 'DEF' }), ...[256, 12, 64, 16].map((n) => randomBytes(n).toString('base64url'))].join('.');
    assert.equal(errorOf(await check(zipped)).error_description, 'unsupported token');
  });

  test('RSA1_5 in keyAlgorithms is rejected with file:line; the rest serves', async () => {
    const ready = JSON.parse((await cc.http('/readyz')).body) as { rejected: string[] };
    assert.ok(ready.rejected.some((x) => /broken\.yaml:\d+: TrustedIssuer default\/weak/.test(x) && /keyAlgorithms/.test(x)), ready.rejected.join('\n'));
    const v = spawnSync(process.execPath, [BIN, 'validate', fx.dir], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(v.status, 0);
    assert.match(v.stdout + v.stderr, /broken\.yaml:\d+/);
  });
});
