import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import { chooseAlgorithm, generateThrowawayKey, testIssuerView, THROWAWAY_SECRET_REF } from '../../src/policy-test/throwaway-keys.js';
import { signTestToken, testTokenClaims, testTokenHeader } from '../../src/policy-test/sign-test-token.js';
import type { TokenSpec } from '../../src/policy-test/types.js';
import { makeIssuer } from '../helpers/tokens.js';

const spec = (over: Partial<TokenSpec> = {}): TokenSpec => ({ issuer: 'corp', claims: {}, lifetimeSec: 300, header: {}, line: 1, ...over });

describe('throwaway keys', () => {
  test('prefer ES256, EdDSA and RS256 in the issuer\'s order, else the issuer\'s first algorithm', () => {
    assert.equal(chooseAlgorithm(['PS256', 'ES256', 'RS256']), 'ES256');
    assert.equal(chooseAlgorithm(['RS256', 'PS256', 'ES256', 'EdDSA']), 'RS256');
    assert.equal(chooseAlgorithm(['PS512', 'EdDSA']), 'EdDSA');
    assert.equal(chooseAlgorithm(['PS384', 'ES512']), 'PS384');
    assert.equal(chooseAlgorithm(['HS256']), 'HS256');
  });

  for (const alg of ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256', 'PS512', 'HS256', 'HS512']) {
    test(`a ${alg} test token verifies with the key set the run publishes`, async () => {
      const key = generateThrowawayKey([alg]);
      assert.equal(key.alg, alg);
      assert.equal(key.symmetric, alg.startsWith('HS'));
      const issuer = makeIssuer({ algorithms: [alg] });
      const token = signTestToken(spec({ claims: { sub: 'alice' } }), issuer, key, 1_800_000_000);
      const jwk = key.jwks.keys[0]!;
      assert.equal(jwk.kid, key.kid);
      if (!key.symmetric) assert.ok(!('d' in jwk), 'the published key is public');
      const { payload, protectedHeader } = await compactVerify(token, await importJWK(jwk as Parameters<typeof importJWK>[0], alg));
      assert.deepEqual(protectedHeader, { alg, kid: key.kid, typ: 'JWT' });
      assert.equal(JSON.parse(Buffer.from(payload).toString()).sub, 'alice');
    });
  }

  test('every run makes new keys', () => {
    const a = generateThrowawayKey(['ES256']);
    const b = generateThrowawayKey(['ES256']);
    assert.notEqual(a.kid, b.kid);
    assert.notDeepEqual(a.jwks, b.jwks);
  });
});

describe('test token contents', () => {
  const issuer = makeIssuer({ issuer: 'https://idp.example.test', audiences: ['orders', 'billing'] });

  test('iss, the first audience, iat = now and exp = now + lifetime by default', () => {
    assert.deepEqual(testTokenClaims(spec({ lifetimeSec: 60 }), issuer, 1_800_000_000.7), { iss: 'https://idp.example.test', aud: 'orders', iat: 1_800_000_000, exp: 1_800_000_060 });
  });

  test('claims add to and override the defaults, and null removes one', () => {
    const claims = testTokenClaims(spec({ claims: { sub: 'alice', aud: ['x', 'y'], exp: null, nested: { a: [1] } } }), issuer, 1_800_000_000);
    assert.deepEqual(claims, { iss: 'https://idp.example.test', aud: ['x', 'y'], iat: 1_800_000_000, sub: 'alice', nested: { a: [1] } });
  });

  test('no aud when the issuer has no audiences', () => {
    assert.equal('aud' in testTokenClaims(spec(), makeIssuer({ audiences: [] }), 1), false);
  });

  test('typ is the issuer\'s first token type, else JWT; header overrides it and null removes it', () => {
    const key = generateThrowawayKey(['ES256']);
    assert.equal(testTokenHeader(spec(), makeIssuer({ tokenTypes: ['at+jwt'] }), key).typ, 'at+jwt');
    assert.equal(testTokenHeader(spec(), makeIssuer(), key).typ, 'JWT');
    assert.deepEqual(testTokenHeader(spec({ header: { typ: null, crit: ['exp'] } }), makeIssuer(), key), { alg: 'ES256', kid: key.kid, crit: ['exp'] });
    const token = signTestToken(spec({ header: { kid: 'other' } }), makeIssuer(), key, 1);
    assert.equal(decodeProtectedHeader(token).kid, 'other');
    assert.equal(decodeJwt(token).exp, 301);
  });
});

describe('the issuer a test run trusts', () => {
  test('with a throwaway key: that public key inline, nothing remote', () => {
    const key = generateThrowawayKey(['ES256']);
    const view = testIssuerView(makeIssuer({ jwks: { uri: 'https://idp.example.test/jwks', discovery: true, caBundle: 'x' } }), key);
    assert.deepEqual(view.jwks.inline, key.jwks);
    assert.equal(view.jwks.uri, undefined);
    assert.equal(view.jwks.discovery, false);
    assert.equal(view.jwks.caBundle, undefined);
  });

  test('with an HMAC key: read through a secretRef, never inline', () => {
    const key = generateThrowawayKey(['HS256']);
    const view = testIssuerView(makeIssuer({ algorithms: ['HS256'], jwks: { secretRef: { path: 'k' }, secretPath: '/k' } }), key);
    assert.deepEqual(view.jwks.secretRef, THROWAWAY_SECRET_REF);
    assert.equal(view.jwks.secretPath, undefined);
    assert.equal(view.jwks.inline, undefined);
  });

  test('without one: local keys stay as configured, a remote key set is empty', () => {
    const local = makeIssuer({ jwks: { inline: { keys: [{ kty: 'EC' }] } } });
    assert.equal(testIssuerView(local, undefined), local);
    const remote = testIssuerView(makeIssuer({ jwks: { uri: 'https://idp.example.test/jwks' } }), undefined);
    assert.deepEqual(remote.jwks.inline, { keys: [] });
    assert.equal(remote.jwks.uri, undefined);
  });

  test('keeps the key fingerprint, so the snapshot\'s issuer objects still find their key set', () => {
    const issuer = makeIssuer({ jwks: { uri: 'https://idp.example.test/jwks' } });
    assert.equal(testIssuerView(issuer, generateThrowawayKey(['ES256'])).keysFingerprint, issuer.keysFingerprint);
  });
});
