/** Certificate-bound tokens (RFC 8705 §3) through a real claimcheck process over gRPC, with real X.509 certificates. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { createFixture, paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { createTestCa } from '../helpers/test-ca.js';

const HOST = 'payments.example.com';
const XFCC_HOST = 'xfcc.example.com';
const clientCert = createTestCa('client').caCert;
const otherCert = createTestCa('other').caCert;
const der = (pem: string) => new X509Certificate(pem).raw;
const x5t = (pem: string) => createHash('sha256').update(der(pem)).digest('base64url');
const hashHex = (pem: string) => createHash('sha256').update(der(pem)).digest('hex');
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('certificate-bound tokens (RFC 8705) over gRPC', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: EnvoyClient;
  let bound: string;
  before(async () => {
    fx = await createFixture();
    await fx.write('policy.yaml', [
      paymentsPolicy(),
      { ...paymentsPolicy({ hosts: [XFCC_HOST], senderConstraint: { mtls: { certificate: 'xfcc' } } }), metadata: { name: 'behind-istio' } },
    ]);
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1'] });
    client = createEnvoyClient(cc.grpcAddress);
    bound = await fx.sign({ sub: 'grace', cnf: { 'x5t#S256': x5t(clientCert) } });
  });
  after(async () => {
    client?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  const check = (headers: Record<string, string>, o: { host?: string; certificate?: string } = {}) =>
    client.check({ host: o.host ?? HOST, path: '/v1/accounts', headers, ...(o.certificate !== undefined ? { sourceCertificate: encodeURIComponent(o.certificate) } : {}) });

  test('Envoy\'s peer certificate: the bound client is allowed; another certificate or none is 401 invalid_token', async () => {
    const ok = await check({ authorization: `Bearer ${bound}` }, { certificate: clientCert });
    assert.equal(ok.code, 0, ok.body);
    assert.equal(ok.headers['x-user-id'], 'grace');
    const other = await check({ authorization: `Bearer ${bound}` }, { certificate: otherCert });
    assert.equal(other.httpStatus, 401);
    assert.equal(errorOf(other).error, 'invalid_token');
    assert.equal(errorOf(other).error_description, 'client certificate does not match the token');
    assert.match(other.headers['www-authenticate'] ?? '', /^Bearer realm="payments.example.com", error="invalid_token"/);
    const none = await check({ authorization: `Bearer ${bound}` });
    assert.equal(errorOf(none).error_description, 'client certificate required');
  });

  test('with the certificate from Envoy, an x-forwarded-client-cert the client sent counts for nothing', async () => {
    const r = await check({ authorization: `Bearer ${bound}`, 'x-forwarded-client-cert': `Hash=${hashHex(clientCert)};Subject="CN=client"` });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'client certificate required');
  });

  test('mtls.certificate xfcc: Hash= or Cert= of the last element, as Envoy and Istio set it', async () => {
    const host = XFCC_HOST;
    const byHash = await check({ authorization: `Bearer ${bound}`, 'x-forwarded-client-cert': `By=spiffe://cluster.local/ns/payments/sa/api;Hash=${hashHex(clientCert)};Subject="CN=client,O=Acme";URI=spiffe://cluster.local/ns/web/sa/frontend` }, { host });
    assert.equal(byHash.code, 0, byHash.body);
    const byCert = await check({ authorization: `Bearer ${bound}`, 'x-forwarded-client-cert': `Cert="${encodeURIComponent(clientCert)}"` }, { host });
    assert.equal(byCert.code, 0, byCert.body);
    const lastIsOther = await check({ authorization: `Bearer ${bound}`, 'x-forwarded-client-cert': `Hash=${hashHex(clientCert)},Hash=${hashHex(otherCert)}` }, { host });
    assert.equal(errorOf(lastIsOther).error_description, 'client certificate does not match the token');
    const none = await check({ authorization: `Bearer ${bound}` }, { host, certificate: clientCert });
    assert.equal(errorOf(none).error_description, 'client certificate required', 'in xfcc mode the peer certificate is not used');
  });

  test('a confirmation claimcheck cannot check, or a jkt that is not a string, is never ignored', async () => {
    for (const cnf of [{ jwk: { kty: 'EC' } }, { jkt: 7 }, 'x']) {
      const r = await check({ authorization: `Bearer ${await fx.sign({ sub: 'h', cnf })}` }, { certificate: clientCert });
      assert.equal(r.httpStatus, 401, JSON.stringify(cnf));
      assert.equal(errorOf(r).error_description, 'unsupported token binding');
    }
  });
});
