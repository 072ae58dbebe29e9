/**
 * Interop: opaque access tokens from a real authorization server, checked at its real
 * introspection endpoint (RFC 7662). oidc-provider issues opaque tokens for one resource;
 * claimcheck, registered there as its own client, introspects them with client_secret_basic
 * over HTTPS under the test CA; a second claimcheck, registered with private_key_jwt, signs an
 * assertion per request, which the provider verifies and checks for replay. No token is made
 * in this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { eventually } from '../helpers/claimcheck-process.js';
import type { CheckOutcome } from '../helpers/envoy-client.js';
import { claimcheckTrustingIdp, type IdpClaimcheck } from '../helpers/idp-claimcheck.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const HOST = 'ledger.example.test';
const API = 'https://ledger.example.test/api';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('interop: opaque tokens introspected at oidc-provider', { timeout: 60_000 }, () => {
  const ca = createTestCa('claimcheck introspection interop CA');
  const app: IdpClient = { id: 'ledger-app', secret: randomBytes(32).toString('base64url') };
  const claimcheckClient: IdpClient = { id: 'claimcheck', secret: randomBytes(32).toString('base64url') };
  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyClient: IdpClient = { id: 'claimcheck-pkjwt', secret: '', jwks: { keys: [{ ...clientKey.publicKey.export({ format: 'jwk' }), kid: 'cc-1', use: 'sig', alg: 'ES256' }] } };
  let idp: OidcIdp;
  let cc: IdpClaimcheck;
  let ccKey: IdpClaimcheck;
  let endpoint: string;

  const tokenFor = async (scope = 'ledger:read') => {
    const res = await idp.requestToken({ client: app, resource: API, scope });
    assert.equal(res.status, 200, res.body);
    return (JSON.parse(res.body) as { access_token: string }).access_token;
  };
  const check = (token: string) => cc.envoy.check({ host: HOST, path: '/v1/entries', headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    idp = await startOidcIdp({ tls: ca, keys: [generateKey('RS256', 'idp-key-1')], clients: [app, claimcheckClient, keyClient], resources: [{ indicator: API, scope: 'ledger:read ledger:write', format: 'opaque' }], introspection: true });
    endpoint = String((await idp.discovery()).introspection_endpoint);
    cc = await claimcheckTrustingIdp(idp, ca, API, {
      hosts: [HOST], issuers: ['oidc-provider'],
      rules: [{ name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['ledger:read'] } } }],
      identity: { headers: { 'x-client-id': 'client_id' } },
    }, {
      issuer: { introspection: { endpoint, clientId: claimcheckClient.id, clientSecretRef: { path: './client-secret' }, caBundle: ca.caCert } },
      files: { 'client-secret': `${claimcheckClient.secret}\n` },
    });
    ccKey = await claimcheckTrustingIdp(idp, ca, API, {
      hosts: [HOST], issuers: ['oidc-provider'],
      rules: [{ name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['ledger:read'] } } }],
    }, {
      issuer: { introspection: { endpoint, clientId: keyClient.id, clientKeyRef: { path: './cc-1.pem' }, caBundle: ca.caCert } },
      files: { 'cc-1.pem': clientKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    });
  });
  after(async () => {
    await ccKey?.close();
    await cc?.close();
    await idp?.close();
  });

  test('the provider issues an opaque token and advertises its introspection endpoint', async () => {
    const token = await tokenFor();
    assert.notEqual(token.split('.').length, 3);
    assert.match(endpoint, /^https:\/\/127\.0\.0\.1:\d+\//);
  });

  test('claimcheck introspects it: allowed, with the client id from the answer', async () => {
    const token = await tokenFor();
    const r = await eventually(async () => {
      const out = await check(token);
      return out.code === 0 ? out : undefined;
    }, 10_000, 100);
    assert.equal(r!.headers['x-client-id'], app.id);
  });

  test('a token without the scope: 403; a made-up token: 401 not active', async () => {
    const r = await check(await tokenFor('ledger:write'));
    assert.equal(r.httpStatus, 403);
    const made = await check(randomBytes(32).toString('base64url'));
    assert.deepEqual([made.httpStatus, errorOf(made).error_description], [401, 'token is not active']);
  });

  test('private_key_jwt: the provider accepts a new assertion for every introspection, never a replayed one', async () => {
    const checkWithKey = (token: string) => ccKey.envoy.check({ host: HOST, path: '/v1/entries', headers: { authorization: `Bearer ${token}` } });
    const first = await tokenFor();
    const r = await eventually(async () => {
      const out = await checkWithKey(first);
      return out.code === 0 ? out : undefined;
    }, 10_000, 100);
    assert.equal(r!.code, 0);
    // each miss is one more assertion: were a jti reused, the provider would answer invalid_client (503 here)
    for (let i = 0; i < 3; i++) assert.equal((await checkWithKey(await tokenFor())).code, 0);
    assert.equal((await checkWithKey(randomBytes(32).toString('base64url'))).httpStatus, 401);
    assert.ok(!ccKey.cc.rawLog().includes('BEGIN PRIVATE KEY'));
  });

  test('the client secret and the tokens never appear in the log', async () => {
    const token = await tokenFor();
    await check(token);
    const raw = cc.cc.rawLog();
    assert.ok(!raw.includes(claimcheckClient.secret) && !raw.includes(token));
  });
});
