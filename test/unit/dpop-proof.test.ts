/** DPoP proofs checked per RFC 9449 §4.3 (authn/dpop-proof.ts), with real keys and signatures. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { accessTokenHash, checkDpopProof, sameUri, type ProofExpectations } from '../../src/authn/dpop-proof.js';
import { jwkThumbprint } from '../../src/authn/jwk-thumbprint.js';

const NOW = 1_800_000_000;
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const publicJwk = (k: KeyObject): JWK => k.export({ format: 'jwk' }) as JWK;
const ath = (t: string) => createHash('sha256').update(t).digest('base64url');

interface ProofOpts {
  key?: { privateKey: KeyObject; publicKey: KeyObject };
  alg?: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  jwk?: JWK;
}

async function proof(o: ProofOpts = {}): Promise<string> {
  const key = o.key ?? ec;
  const claims = { jti: `p-${Math.random()}`, htm: 'GET', htu: 'https://api.example.com/v1/accounts', iat: NOW, ath: ath(TOKEN), ...o.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete (claims as Record<string, unknown>)[k];
  return new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'ES256', typ: 'dpop+jwt', jwk: o.jwk ?? publicJwk(key.publicKey), ...o.header }).sign(key.privateKey);
}

const want = (over: Partial<ProofExpectations> = {}): ProofExpectations => ({
  method: 'GET', htu: 'https://api.example.com/v1/accounts', ath: accessTokenHash(TOKEN), jkt: jwkThumbprint(publicJwk(ec.publicKey) as Record<string, unknown>)!,
  algorithms: ['ES256', 'PS256', 'EdDSA'], maxAgeSec: 60, nowSec: NOW, ...over,
});

describe('RFC 7638 thumbprint', () => {
  test('the RFC 7638 §3.1 example', () => {
    const jwk = { kty: 'RSA', e: 'AQAB', alg: 'RS256', kid: '2011-04-29', n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw' };
    assert.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  test('no thumbprint for an unknown key type or a member that is not a string', () => {
    assert.equal(jwkThumbprint({ kty: 'oct', k: 'abc' }), undefined);
    assert.equal(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 1, y: 'a' }), undefined);
  });
});

describe('DPoP proof (RFC 9449 §4.3)', () => {
  test('a valid proof by ES256, EdDSA and PS256 keys', async () => {
    const r = checkDpopProof(await proof(), want());
    assert.ok(r.ok, JSON.stringify(r));
    const edJkt = jwkThumbprint(publicJwk(ed.publicKey) as Record<string, unknown>)!;
    assert.ok(checkDpopProof(await proof({ key: ed, alg: 'EdDSA' }), want({ jkt: edJkt })).ok);
    const rsaJkt = jwkThumbprint(publicJwk(rsa.publicKey) as Record<string, unknown>)!;
    assert.ok(checkDpopProof(await proof({ key: rsa, alg: 'PS256' }), want({ jkt: rsaJkt })).ok);
  });

  const refused: [string, () => Promise<string>, Partial<ProofExpectations>, string][] = [
    ['typ JWT', () => proof({ header: { typ: 'JWT' } }), {}, 'dpop_proof_type'],
    ['an algorithm the policy does not allow', () => proof({ key: rsa, alg: 'RS256' }), {}, 'dpop_proof_alg'],
    ['a jwk with its private member d', () => proof({ jwk: { ...publicJwk(ec.publicKey), d: (ec.privateKey.export({ format: 'jwk' }) as JWK).d! } }), {}, 'dpop_proof_key'],
    ['no jwk', () => proof({ jwk: undefined, header: { jwk: undefined } }), {}, 'dpop_proof_key'],
    ['a jwk other than the signing key', () => proof({ jwk: publicJwk(other.publicKey) }), {}, 'dpop_proof_signature'],
    ['htm of another method', () => proof({ claims: { htm: 'POST' } }), {}, 'dpop_proof_htm'],
    ['htu of another path', () => proof({ claims: { htu: 'https://api.example.com/v1/payments' } }), {}, 'dpop_proof_htu'],
    ['htu of another host', () => proof({ claims: { htu: 'https://evil.example.com/v1/accounts' } }), {}, 'dpop_proof_htu'],
    ['htu over http for an https request', () => proof({ claims: { htu: 'http://api.example.com/v1/accounts' } }), {}, 'dpop_proof_htu'],
    ['iat older than proofMaxAge', () => proof({ claims: { iat: NOW - 61 } }), {}, 'dpop_proof_iat'],
    ['iat more than 5 s ahead', () => proof({ claims: { iat: NOW + 6 } }), {}, 'dpop_proof_iat'],
    ['no jti', () => proof({ claims: { jti: undefined } }), {}, 'dpop_proof_jti'],
    ['a 1 KiB jti', () => proof({ claims: { jti: 'j'.repeat(1024) } }), {}, 'dpop_proof_jti'],
    ['ath of another token', () => proof({ claims: { ath: ath(`${TOKEN}x`) } }), {}, 'dpop_proof_ath'],
    ['no ath', () => proof({ claims: { ath: undefined } }), {}, 'dpop_proof_ath'],
    ['a proof by a key the token is not bound to', () => proof({ key: other }), {}, 'dpop_proof_key_mismatch'],
    ['a nonce that is not a string', () => proof({ claims: { nonce: 7 } }), {}, 'dpop_proof_malformed'],
  ];
  for (const [what, make, over, reason] of refused) {
    test(`refused: ${what}`, async () => {
      const r = checkDpopProof(await make(), want(over));
      assert.deepEqual(r, { ok: false, reason });
    });
  }

  test('refused: alg none and HS256, whatever the policy lists', async () => {
    const body = Buffer.from(JSON.stringify({ jti: 'x', htm: 'GET', htu: 'https://api.example.com/v1/accounts', iat: NOW, ath: ath(TOKEN) })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk(ec.publicKey) })).toString('base64url')}.${body}.`;
    assert.equal((checkDpopProof(none, want({ algorithms: ['none'] })) as { reason: string }).reason, 'dpop_proof_malformed');
    const hs = await new SignJWT({ jti: 'x', htm: 'GET', htu: 'https://api.example.com/v1/accounts', iat: NOW, ath: ath(TOKEN) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI' } as JWK })
      .sign(Buffer.alloc(32, 7));
    assert.equal((checkDpopProof(hs, want({ algorithms: ['HS256', 'ES256'] })) as { reason: string }).reason, 'dpop_proof_alg');
    assert.equal((checkDpopProof('not.a.jws', want()) as { reason: string }).reason, 'dpop_proof_malformed');
  });

  test('htu: query and fragment ignored, scheme and host case ignored, the default port the same as none', async () => {
    const p = await proof({ claims: { htu: 'HTTPS://API.Example.com:443/v1/accounts?x=1#f' } });
    assert.ok(checkDpopProof(p, want()).ok);
    assert.ok(sameUri('https://a.example/p/../q', 'https://a.example/q'), 'dot segments');
    assert.ok(!sameUri('https://a.example:8443/q', 'https://a.example/q'), 'another port');
    assert.ok(!sameUri('https://u:p@a.example/q', 'https://a.example/q'), 'user info');
    assert.ok(!sameUri('ftp://a.example/q', 'ftp://a.example/q'), 'only http and https');
    assert.ok(!sameUri('/q', '/q'), 'absolute URIs only');
  });
});
