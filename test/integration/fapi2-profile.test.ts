/**
 * `profile: fapi2` through a real claimcheck process: a conforming policy serves DPoP-bound PS256
 * tokens and refuses unbound ones; a policy that breaks a FAPI 2.0 rule is rejected with its
 * file:line while the rest of the directory serves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { AUDIENCE, createFixture, type Fixture, resourceDoc } from '../helpers/fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { dpopProof, publicJwk } from '../helpers/dpop-proofs.js';
import { createEnvoyClient, headerValues, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { jwkThumbprint } from '../../src/authn/jwk-thumbprint.js';

const HOST = 'bank.example.com';
const BANK_ISSUER = 'https://bank-idp.test.invalid';
const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JKT = jwkThumbprint(publicJwk(client.publicKey) as Record<string, unknown>)!;
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

const readRule = { name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['accounts:read'] } } };

describe('profile: fapi2 over gRPC', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let envoy: EnvoyClient;
  const sign = (claims: Record<string, unknown>, alg = 'PS256') => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: BANK_ISSUER, aud: AUDIENCE, sub: 'ana', iat: now, exp: now + 300, scope: 'accounts:read', ...claims })
      .setProtectedHeader({ alg, kid: 'bank-1', typ: 'at+jwt' })
      .sign(fx.privateKey());
  };

  before(async () => {
    fx = await createFixture();
    const jwk = fx.publicJwk('bank-1');
    await fx.write('bank.yaml', [
      resourceDoc('TrustedIssuer', 'bank-idp', { issuer: BANK_ISSUER, jwks: { inline: { keys: [jwk] } }, audiences: [AUDIENCE], algorithms: ['PS256'], clockSkew: '10s', tokenTypes: ['at+jwt'] }),
      resourceDoc('AuthPolicy', 'bank', { hosts: [HOST], issuers: ['bank-idp'], profile: 'fapi2', rules: [readRule], identity: { headers: { 'x-user-id': 'sub' } } }),
    ]);
    // corp-idp (the fixture's issuer) keeps the default algorithms, RS256 among them, and a 30 s skew
    await fx.write('broken.yaml', [resourceDoc('AuthPolicy', 'loose', { hosts: ['loose.example.com'], issuers: ['corp-idp'], profile: 'fapi2', tokenSources: [{ query: 'access_token' }], rules: [readRule] })]);
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1'] });
    envoy = createEnvoyClient(cc.grpcAddress);
  });
  after(async () => {
    envoy?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  const check = (headers: Record<string, string>, host = HOST) => envoy.check({ host, path: '/v1/accounts', headers });

  test('a PS256 token bound to the client\'s key, with its proof: allowed', async () => {
    const token = await sign({ cnf: { jkt: JKT } });
    const r = await check({ authorization: `DPoP ${token}`, dpop: await dpopProof(client, token, { htu: `https://${HOST}/v1/accounts` }) });
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers['x-user-id'], 'ana');
  });

  test('the same issuer\'s unbound token: 401 not sender-constrained, with a DPoP challenge, though the policy never says required', async () => {
    const r = await check({ authorization: `Bearer ${await sign({})}` });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'token is not sender-constrained');
    assert.deepEqual(headerValues(r, 'www-authenticate'), [`Bearer realm="${HOST}", error="invalid_token", error_description="token is not sender-constrained"`, 'DPoP algs="ES256 PS256 EdDSA"']);
  });

  test('an RS256 token of that issuer is refused: the profile allowed only PS256 for it', async () => {
    const token = await sign({ cnf: { jkt: JKT } }, 'RS256');
    const r = await check({ authorization: `DPoP ${token}`, dpop: await dpopProof(client, token, { htu: `https://${HOST}/v1/accounts` }) });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error, 'invalid_token');
  });

  test('the policy breaking the profile is rejected with file:line for each rule it breaks; its host has no policy', async () => {
    const ready = JSON.parse((await cc.http('/readyz')).body) as { rejected: string[] };
    const mine = ready.rejected.filter((x) => /broken\.yaml:\d+: AuthPolicy default\/loose/.test(x));
    assert.ok(mine.some((x) => /\/spec\/tokenSources\/0: profile fapi2 takes tokens from the Authorization header only/.test(x)), ready.rejected.join('\n'));
    assert.ok(mine.some((x) => /\/spec\/issuers\/0: TrustedIssuer "corp-idp" allows RS256/.test(x)), ready.rejected.join('\n'));
    const r = await check({}, 'loose.example.com');
    assert.equal(r.httpStatus, 403);
  });
});
