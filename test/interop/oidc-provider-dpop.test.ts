/**
 * Interop: DPoP-bound access tokens (RFC 9449) from a real authorization server. oidc-provider
 * (its dPoP feature) issues them at its token endpoint for a token request carrying a proof;
 * every proof, to the token endpoint and to the API, is made by the `dpop` package. No token
 * is signed in this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { calculateThumbprint, generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { eventually } from '../helpers/claimcheck-process.js';
import type { CheckOutcome, EnvoyClient } from '../helpers/envoy-client.js';
import { claimcheckTrustingIdp } from '../helpers/idp-claimcheck.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const HOST = 'payments.example.test';
const API = 'https://payments.example.test/api';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('interop: DPoP-bound tokens from oidc-provider', () => {
  const ca = createTestCa('claimcheck dpop interop CA');
  const client: IdpClient = { id: 'payments-app', secret: randomBytes(32).toString('base64url') };
  let idp: OidcIdp;
  let envoy: EnvoyClient;
  let close: (() => Promise<void>) | undefined;
  let keys: KeyPair;
  let token: string;

  before(async () => {
    idp = await startOidcIdp({ tls: ca, keys: [generateKey('RS256', 'idp-key-1')], clients: [client], resources: [{ indicator: API, scope: 'payments:read' }], dpop: true });
    ({ envoy, close } = await claimcheckTrustingIdp(idp, ca, API, {
      hosts: [HOST], issuers: ['oidc-provider'], senderConstraint: { required: true },
      rules: [{ name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['payments:read'] } } }],
      identity: { headers: { 'x-client-id': 'client_id' } },
    }));
    keys = await generateKeyPair('ES256');
    const res = await idp.requestToken({ client, resource: API, scope: 'payments:read', dpop: (endpoint) => generateProof(keys, endpoint, 'POST') });
    assert.equal(res.status, 200, res.body);
    const body = JSON.parse(res.body) as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'DPoP', 'the token endpoint issued a DPoP-bound token');
    token = body.access_token;
  });
  after(async () => {
    await close?.();
    await idp?.close();
  });

  const check = (headers: Record<string, string>, path = '/v1/accounts') => envoy.check({ host: HOST, path, headers });

  test('the provider bound the token to the client\'s key: cnf.jkt is its RFC 7638 thumbprint', async () => {
    assert.equal((decodeJwt(token).cnf as { jkt?: string } | undefined)?.jkt, await calculateThumbprint(keys.publicKey));
  });

  test('with a proof of that key for the request: allowed, the client id propagated', async () => {
    const r = await eventually(async () => {
      const out = await check({ authorization: `DPoP ${token}`, dpop: await generateProof(keys, `https://${HOST}/v1/accounts`, 'GET', undefined, token) });
      return out.code === 0 ? out : undefined;
    }, 10_000, 100);
    assert.equal(r!.headers['x-client-id'], client.id);
  });

  test('the same token as Bearer, with a proof from another key, or for another URI: 401', async () => {
    const asBearer = await check({ authorization: `Bearer ${token}` });
    assert.equal(asBearer.httpStatus, 401);
    assert.match(asBearer.headers['www-authenticate'] ?? '', /^DPoP error="invalid_token"/);
    const stranger = await generateKeyPair('ES256');
    const otherKey = await check({ authorization: `DPoP ${token}`, dpop: await generateProof(stranger, `https://${HOST}/v1/accounts`, 'GET', undefined, token) });
    assert.equal(errorOf(otherKey).error, 'invalid_dpop_proof');
    const otherUri = await check({ authorization: `DPoP ${token}`, dpop: await generateProof(keys, `https://${HOST}/v1/other`, 'GET', undefined, token) });
    assert.equal(errorOf(otherUri).error_description, 'DPoP proof URI mismatch');
  });

  test('a plain bearer token from the same provider is refused where binding is required', async () => {
    const res = await idp.requestToken({ client, resource: API, scope: 'payments:read' });
    const plain = (JSON.parse(res.body) as { access_token: string }).access_token;
    const r = await check({ authorization: `Bearer ${plain}` });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'token is not sender-constrained');
  });
});
