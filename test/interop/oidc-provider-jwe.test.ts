/**
 * Interop: encrypted JWT access tokens from a real authorization server. oidc-provider's
 * resource-server `jwt.encrypt` makes its token endpoint hand out a JWE (cty at+jwt) around
 * the RS256 token it signed, for claimcheck's public key; claimcheck decrypts it with the
 * private key from its key file and verifies the inner token by discovery. A second resource
 * gets encrypted but unsigned tokens (`dir`, oidc-provider allows that with a secret key),
 * which claimcheck must refuse. No token is made in this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { eventually } from '../helpers/claimcheck-process.js';
import type { CheckOutcome } from '../helpers/envoy-client.js';
import { claimcheckTrustingIdp, type IdpClaimcheck } from '../helpers/idp-claimcheck.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const HOST = 'payments.example.test';
const API = 'https://payments.example.test/api';
const UNSIGNED_API = 'https://payments.example.test/unsigned';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('interop: encrypted access tokens from oidc-provider', () => {
  const ca = createTestCa('claimcheck jwe interop CA');
  const client: IdpClient = { id: 'payments-app', secret: randomBytes(32).toString('base64url') };
  const encryption = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secret = randomBytes(32);
  const privateJwk = { ...encryption.privateKey.export({ format: 'jwk' }), kid: 'claimcheck-enc-1', use: 'enc' };
  let idp: OidcIdp;
  let app: IdpClaimcheck;

  const tokenFor = async (resource: string) => {
    const res = await idp.requestToken({ client, resource, scope: 'payments:read' });
    assert.equal(res.status, 200, res.body);
    return (JSON.parse(res.body) as { access_token: string }).access_token;
  };
  const check = (token: string) => app.envoy.check({ host: HOST, path: '/v1/accounts', headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    idp = await startOidcIdp({
      tls: ca,
      keys: [generateKey('RS256', 'idp-key-1')],
      clients: [client],
      resources: [
        { indicator: API, scope: 'payments:read', encrypt: { alg: 'RSA-OAEP-256', enc: 'A256GCM', key: encryption.publicKey, kid: 'claimcheck-enc-1' } },
        { indicator: UNSIGNED_API, scope: 'payments:read', encrypt: { alg: 'dir', enc: 'A256GCM', key: createSecretKey(secret), unsigned: true } },
      ],
    });
    const keys = { keys: [privateJwk, { kty: 'oct', k: secret.toString('base64url') }] };
    app = await claimcheckTrustingIdp(idp, ca, API, {
      hosts: [HOST], issuers: ['oidc-provider'],
      rules: [{ name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['payments:read'] } } }],
      identity: { headers: { 'x-client-id': 'client_id' } },
    }, {
      issuer: { audiences: [API, UNSIGNED_API], decryption: { secretRef: { path: './decrypt.json' }, keyAlgorithms: ['RSA-OAEP-256', 'dir'] } },
      files: { 'decrypt.json': JSON.stringify(keys) },
    });
  });
  after(async () => {
    await app?.close();
    await idp?.close();
  });

  test('the token endpoint hands out a compact JWE for claimcheck\'s key, around a signed at+jwt', async () => {
    const token = await tokenFor(API);
    assert.equal(token.split('.').length, 5);
    // oidc-provider also replicates iss and aud into the header (RFC 7519 §5.3); claimcheck trusts neither
    const { alg, enc, cty, kid, iss } = decodeProtectedHeader(token);
    assert.deepEqual({ alg, enc, cty, kid, iss }, { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'at+jwt', kid: 'claimcheck-enc-1', iss: idp.issuer });
  });

  test('claimcheck decrypts it, verifies the inner token by discovery and propagates its identity', async () => {
    const token = await tokenFor(API);
    const r = await eventually(async () => {
      const out = await check(token);
      return out.code === 0 ? out : undefined;
    }, 10_000, 100);
    assert.equal(r!.headers['x-client-id'], client.id);
    assert.equal((await check(token)).code, 0, 'and again, from the token cache');
  });

  test('encrypted but unsigned claims (dir) are refused: 401, the JWE holds no signed token', async () => {
    const token = await tokenFor(UNSIGNED_API);
    assert.equal(decodeProtectedHeader(token).alg, 'dir');
    const r = await check(token);
    assert.equal(r.httpStatus, 401);
    assert.deepEqual([errorOf(r).error, errorOf(r).error_description], ['invalid_token', 'encrypted token does not carry a signed token']);
  });

  test('a JWE with a tampered tag cannot be decrypted: 401', async () => {
    const parts = (await tokenFor(API)).split('.');
    parts[4] = (parts[4]![0] === 'A' ? 'B' : 'A') + parts[4]!.slice(1);
    const r = await check(parts.join('.'));
    assert.equal(errorOf(r).error_description, 'token cannot be decrypted');
  });

  test('the private key never appears in the log', () => {
    const raw = app.cc.rawLog();
    assert.ok(raw.includes('decryption keys loaded'), 'the keys were loaded');
    assert.ok(!raw.includes(String(privateJwk.d)) && !raw.includes(secret.toString('base64url')));
  });
});
