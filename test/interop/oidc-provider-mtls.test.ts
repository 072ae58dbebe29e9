/**
 * Interop: certificate-bound access tokens (RFC 8705 §3) from a real authorization server.
 * oidc-provider (its mTLS feature, certificateBoundAccessTokens) issues them at its token
 * endpoint to a client that presents a certificate in the TLS handshake, putting that
 * certificate's thumbprint in cnf["x5t#S256"]; claimcheck, reading the certificate Envoy saw
 * (attributes.source.certificate), accepts the token from that client only. No token is signed
 * in this file; the certificates are real X.509 certificates issued by a test CA.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { decodeJwt } from 'jose';
import { eventually } from '../helpers/claimcheck-process.js';
import type { CheckOutcome, EnvoyClient } from '../helpers/envoy-client.js';
import { claimcheckTrustingIdp } from '../helpers/idp-claimcheck.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { createTestCa, issueClientCertificate, type ClientCertificate } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const HOST = 'payments.example.test';
const API = 'https://payments.example.test/api';
const digest = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw);
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('interop: certificate-bound tokens from oidc-provider', () => {
  const ca = createTestCa('claimcheck mtls interop CA');
  const certA: ClientCertificate = issueClientCertificate(ca, 'payments-app');
  const certB: ClientCertificate = issueClientCertificate(ca, 'another-app');
  const client: IdpClient = { id: 'payments-app', secret: randomBytes(32).toString('base64url') };
  let idp: OidcIdp;
  let envoy: EnvoyClient;
  let close: (() => Promise<void>) | undefined;
  let token: string;

  before(async () => {
    idp = await startOidcIdp({ tls: ca, keys: [generateKey('RS256', 'idp-key-1')], clients: [client], resources: [{ indicator: API, scope: 'payments:read' }], mtls: true });
    ({ envoy, close } = await claimcheckTrustingIdp(idp, ca, API, {
      // mtls.certificate stays at its default, envoy: the peer certificate Envoy reports
      hosts: [HOST], issuers: ['oidc-provider'], senderConstraint: { required: true },
      rules: [{ name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['payments:read'] } } }],
      identity: { headers: { 'x-client-id': 'client_id' } },
    }));
    const res = await idp.requestToken({ client, resource: API, scope: 'payments:read', certificate: certA });
    assert.equal(res.status, 200, res.body);
    const body = JSON.parse(res.body) as { access_token: string; token_type: string };
    // RFC 8705 §3: a certificate-bound token keeps the Bearer scheme (unlike DPoP's)
    assert.equal(body.token_type, 'Bearer');
    token = body.access_token;
  });
  after(async () => {
    await close?.();
    await idp?.close();
  });

  const check = (headers: Record<string, string>, certificate?: ClientCertificate) =>
    envoy.check({ host: HOST, path: '/v1/accounts', headers, ...(certificate ? { sourceCertificate: encodeURIComponent(certificate.cert) } : {}) });

  test('the provider advertises certificate-bound tokens and refuses this client a token without a certificate', async () => {
    assert.equal((await idp.discovery()).tls_client_certificate_bound_access_tokens, true);
    const res = await idp.requestToken({ client, resource: API, scope: 'payments:read' });
    assert.equal(res.status, 400, res.body);
    // oidc-provider keeps the detail ("mutual TLS client certificate not provided") to itself; the
    // request differs from the one that got a token in before() only by the missing certificate.
    assert.deepEqual(JSON.parse(res.body), { error: 'invalid_grant', error_description: 'grant request is invalid' });
  });

  test('the provider bound the token to certificate A: cnf["x5t#S256"] is base64url(SHA-256(DER))', () => {
    const cnf = decodeJwt(token).cnf as Record<string, unknown> | undefined;
    assert.deepEqual(cnf, { 'x5t#S256': digest(certA.cert).digest('base64url') });
  });

  test('a) with certificate A from Envoy: allowed, the client id propagated', async () => {
    const r = await eventually(async () => {
      const out = await check({ authorization: `Bearer ${token}` }, certA);
      return out.code === 0 ? out : undefined;
    }, 10_000, 100);
    assert.equal(r!.headers['x-client-id'], client.id);
  });

  test('b) with certificate B from the same CA: 401 invalid_token, the certificate does not match', async () => {
    const r = await check({ authorization: `Bearer ${token}` }, certB);
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error, 'invalid_token');
    assert.equal(errorOf(r).error_description, 'client certificate does not match the token');
    assert.match(r.headers['www-authenticate'] ?? '', new RegExp(`^Bearer realm="${HOST}", error="invalid_token"`));
  });

  test('c) with no certificate: 401 invalid_token, a certificate is required', async () => {
    const r = await check({ authorization: `Bearer ${token}` });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error, 'invalid_token');
    assert.equal(errorOf(r).error_description, 'client certificate required');
  });

  test('d) with certificate A but sent as DPoP without a proof: 401, the token has no DPoP key', async () => {
    // The certificate matches, so the binding it has holds; but the DPoP scheme claims a key
    // binding (cnf.jkt) this token does not have, and a bound token is taken only as it was bound.
    const r = await check({ authorization: `DPoP ${token}` }, certA);
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error, 'invalid_token');
    assert.equal(errorOf(r).error_description, 'token is not bound to a DPoP key');
    assert.match(r.headers['www-authenticate'] ?? '', /^DPoP error="invalid_token", error_description="token is not bound to a DPoP key", algs="/);
  });

  test('e) an x-forwarded-client-cert the client sent, with the source envoy and no peer certificate: 401', async () => {
    const r = await check({ authorization: `Bearer ${token}`, 'x-forwarded-client-cert': `Hash=${digest(certA.cert).digest('hex')}` });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error, 'invalid_token');
    assert.equal(errorOf(r).error_description, 'client certificate required');
  });
});
