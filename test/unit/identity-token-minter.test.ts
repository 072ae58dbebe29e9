/** The identity token's claims and its reuse: one signature per half ttl for a repeated token. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, decodeJwt } from 'jose';
import { IdentityTokenMinter } from '../../src/identity/identity-token-minter.js';
import { readSigningKey, type SigningKey } from '../../src/identity/signing-key.js';
import type { KeyState } from '../../src/identity/key-directory.js';
import type { CompiledIdentityToken } from '../../src/compile/snapshot.js';
import type { Verified } from '../../src/decision.js';
import { ecPrivateKeyPem } from '../helpers/tokens.js';

const ISS = 'http://claimcheck.test:9090';
const NOW = 1_900_000_000;
const key = (kid: string): SigningKey => {
  const r = readSigningKey(`${kid}.pem`, ecPrivateKeyPem());
  assert.ok(r.ok);
  return r.key;
};
const config = (over: Partial<CompiledIdentityToken> = {}): CompiledIdentityToken => ({ header: 'x-claimcheck-identity', prefix: '', ttlSec: 300, claims: [{ name: 'sub', claimPath: ['sub'] }, { name: 'groups', claimPath: ['realm', 'groups'] }, { name: 'missing', claimPath: ['nope'] }], ...over });
const verified = (claims: Record<string, unknown>, token = 'upstream-token', reused = true): Verified => ({ claims, token, alg: 'RS256', ...(reused ? { reused } : {}) }) as unknown as Verified;

describe('identity token minter', () => {
  const k1 = key('k1');
  let state: KeyState = { keys: [k1], signer: k1, version: 1 };
  const minter = new IdentityTokenMinter({ issuer: ISS, keys: () => state });
  const token = config();
  const mint = (over: Partial<Parameters<typeof minter.mint>[0]> = {}) =>
    minter.mint({ policyKey: 'ns/p', token, verified: verified({ sub: 'ana', realm: { groups: ['a', 'b'] }, exp: NOW + 3600, secret: 'x' }), host: 'api.example.com', actor: '', nowSec: NOW, ...over });

  test('signed by the signer, verifiable with its JWKS entry, with exactly the registered and mapped claims', async () => {
    const jwt = mint({ actor: 'spiffe://cluster.local/ns/a/sa/b' })!;
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet({ keys: [k1.publicJwk as never] }), { issuer: ISS, audience: 'api.example.com', currentDate: new Date(NOW * 1000) });
    assert.deepEqual(protectedHeader, { alg: 'ES256', kid: 'k1', typ: 'JWT' });
    const { jti, ...rest } = payload;
    assert.match(String(jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(rest, { iss: ISS, aud: 'api.example.com', iat: NOW, exp: NOW + 300, sub: 'ana', groups: ['a', 'b'], act: { sub: 'spiffe://cluster.local/ns/a/sa/b' } });
  });

  test('aud: the configured audiences, a list when several; exp never past the upstream token', () => {
    assert.deepEqual(decodeJwt(mint({ token: config({ audiences: ['orders', 'billing'] }) })!).aud, ['orders', 'billing']);
    assert.equal(decodeJwt(mint({ verified: verified({ sub: 'ana', exp: NOW + 42.7 }, 'short') })!).exp, NOW + 42);
  });

  test('a repeated token reuses its identity token until half the ttl, then gets a new one', () => {
    const first = mint();
    assert.equal(mint({ nowSec: NOW + 149 }), first);
    const later = mint({ nowSec: NOW + 151 });
    assert.notEqual(later, first);
    assert.equal(decodeJwt(later!).iat, NOW + 151);
  });

  test('a token\'s first use is signed and not kept: the same request again is signed again', () => {
    const once = verified({ sub: 'new', exp: NOW + 3600 }, 'first-use', false);
    assert.notEqual(mint({ verified: once }), mint({ verified: once }));
  });

  test('another upstream token, actor, audience or policy is another identity token', () => {
    const base = mint();
    for (const other of [mint({ verified: verified({ sub: 'ana', exp: NOW + 3600 }, 'other-token') }), mint({ actor: 'spiffe://x' }), mint({ host: 'b.example.com' }), mint({ policyKey: 'ns/q' })]) {
      assert.notEqual(other, base);
    }
  });

  test('a key change empties the cache; no signer, no token', () => {
    const before = mint();
    const k2 = key('k2');
    state = { keys: [k1, k2], signer: k2, version: 2 };
    const after = mint();
    assert.notEqual(after, before);
    assert.equal(JSON.parse(Buffer.from(after!.split('.')[0]!, 'base64url').toString()).kid, 'k2');
    state = { keys: [k1], version: 3 };
    assert.equal(mint(), undefined);
  });
});
