/** DPoP-bound tokens (RFC 9449) through real claimcheck processes over gRPC, with Envoy's protos. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, type JWK } from 'jose';
import { createFixture, paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { dpopProof, publicJwk } from '../helpers/dpop-proofs.js';
import { createEnvoyClient, headerValues, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { openHttp1 } from '../helpers/http1-connection.js';
import { jwkThumbprint } from '../../src/authn/jwk-thumbprint.js';

const HOST = 'payments.example.com';
const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwkOf = publicJwk;
const JKT = jwkThumbprint(jwkOf(client.publicKey) as Record<string, unknown>)!;

const proof = (token: string, o: { host?: string; path?: string; method?: string; nonce?: string; key?: typeof client } = {}): Promise<string> =>
  dpopProof(o.key ?? client, token, { htu: `https://${o.host ?? HOST}${o.path ?? '/v1/accounts'}`, ...(o.method ? { htm: o.method } : {}), ...(o.nonce !== undefined ? { nonce: o.nonce } : {}) });

const wwwAuthenticate = (r: CheckOutcome): string[] => headerValues(r, 'www-authenticate');
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('DPoP-bound tokens (RFC 9449) over gRPC', () => {
  let fx: Fixture;
  let a: ClaimcheckProcess;
  let b: ClaimcheckProcess;
  let ca: EnvoyClient;
  let cb: EnvoyClient;
  let bound: string;
  before(async () => {
    fx = await createFixture();
    const secret = join(fx.dir, 'nonce-secret');
    await writeFile(secret, `${randomBytes(32).toString('hex')}\n`);
    await fx.write('policy.yaml', [
      paymentsPolicy(),
      paymentsPolicy({ hosts: ['nonce.example.com'], senderConstraint: { dpop: { nonce: true } } }),
      paymentsPolicy({ hosts: ['strict.example.com'], senderConstraint: { required: true } }),
      paymentsPolicy({ hosts: ['audit.example.com'], mode: 'audit' }),
    ].map((p, i) => ({ ...p, metadata: { name: ['payments', 'nonce', 'strict', 'audit'][i] } })));
    const args = ['--dpop-nonce-secret-file', secret, '--workers', '1'];
    [a, b] = await Promise.all([startClaimcheck({ configDir: fx.dir, args: [...args, '--authz-http-addr', '127.0.0.1:0'] }), startClaimcheck({ configDir: fx.dir, args })]);
    ca = createEnvoyClient(a.grpcAddress);
    cb = createEnvoyClient(b.grpcAddress);
    bound = await fx.sign({ sub: 'dora', cnf: { jkt: JKT } });
  });
  after(async () => {
    ca?.close();
    cb?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await fx?.cleanup();
  });

  const check = (c: EnvoyClient, headers: Record<string, string>, o: { host?: string; path?: string; headerMap?: [string, string][] } = {}) =>
    c.check({ host: o.host ?? HOST, path: o.path ?? '/v1/accounts', headers, ...(o.headerMap ? { headerMap: o.headerMap } : {}) });

  test('a bound token with a proof of its key is allowed, with the identity headers', async () => {
    const r = await check(ca, { authorization: `DPoP ${bound}`, dpop: await proof(bound) });
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers['x-user-id'], 'dora');
  });

  test('the same proof again is a replay: 401 invalid_dpop_proof with the DPoP challenge', async () => {
    const p = await proof(bound);
    assert.equal((await check(ca, { authorization: `DPoP ${bound}`, dpop: p })).code, 0);
    const again = await check(ca, { authorization: `DPoP ${bound}`, dpop: p });
    assert.equal(again.httpStatus, 401);
    assert.deepEqual(wwwAuthenticate(again), ['DPoP error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256 PS256 EdDSA"']);
    assert.equal(errorOf(again).error, 'invalid_dpop_proof');
  });

  test('never a bearer token: as Bearer, or as DPoP without a proof, it is 401 invalid_token with a DPoP challenge', async () => {
    const asBearer = await check(ca, { authorization: `Bearer ${bound}` });
    assert.equal(asBearer.httpStatus, 401);
    assert.deepEqual(wwwAuthenticate(asBearer), ['DPoP error="invalid_token", error_description="bound token sent as a bearer token", algs="ES256 PS256 EdDSA"']);
    const noProof = await check(ca, { authorization: `DPoP ${bound}` });
    assert.equal(noProof.httpStatus, 401);
    assert.equal(errorOf(noProof).error_description, 'DPoP proof required');
  });

  test('hostile proofs: each a 401 with the invalid_dpop_proof challenge naming what failed', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = () => ({ jti: randomBytes(9).toString('base64url'), htm: 'GET', htu: `https://${HOST}/v1/accounts`, iat: Math.floor(Date.now() / 1000), ath: createHash('sha256').update(bound).digest('base64url') });
    const signed = (header: Record<string, unknown>, body: Record<string, unknown> = claims()) =>
      new SignJWT(body).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwkOf(client.publicKey), ...header }).sign(client.privateKey);
    const cases: [string, string, string][] = [
      ['alg none', `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: jwkOf(client.publicKey) })}.${b64(claims())}.`, 'malformed DPoP proof'],
      ['HS256', await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as JWK }).sign(Buffer.alloc(32, 1)), 'DPoP proof algorithm not allowed'],
      ['a jwk with d', await signed({ jwk: client.privateKey.export({ format: 'jwk' }) }), 'DPoP proof key invalid'],
      ['typ JWT', await signed({ typ: 'JWT' }), 'DPoP proof has the wrong type'],
      ['a 1 KiB jti', await signed({}, { ...claims(), jti: 'j'.repeat(1024) }), 'DPoP proof jti invalid'],
      ['iat 2 minutes old', await signed({}, { ...claims(), iat: Math.floor(Date.now() / 1000) - 120 }), 'DPoP proof too old or from the future'],
      ['htm POST', await signed({}, { ...claims(), htm: 'POST' }), 'DPoP proof method mismatch'],
      ['ath of another token', await signed({}, { ...claims(), ath: createHash('sha256').update(`${bound}x`).digest('base64url') }), 'DPoP proof is for another token'],
    ];
    for (const [what, p, description] of cases) {
      const r = await check(ca, { authorization: `DPoP ${bound}`, dpop: p });
      assert.equal(r.httpStatus, 401, what);
      assert.deepEqual(wwwAuthenticate(r), [`DPoP error="invalid_dpop_proof", error_description="${description}", algs="ES256 PS256 EdDSA"`], what);
      assert.equal(errorOf(r).error, 'invalid_dpop_proof', what);
    }
  });

  test('a proof for another path, by another key, or two proofs are refused', async () => {
    const otherPath = await check(ca, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { path: '/v1/payments' }) });
    assert.equal(errorOf(otherPath).error_description, 'DPoP proof URI mismatch');
    const otherKey = await check(ca, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { key: stranger }) });
    assert.equal(errorOf(otherKey).error_description, 'DPoP proof key is not the token key');
    const two = await check(ca, {}, { headerMap: [['authorization', `DPoP ${bound}`], ['dpop', await proof(bound)], ['dpop', await proof(bound)]] });
    assert.equal(two.httpStatus, 400);
    assert.equal(errorOf(two).error, 'invalid_request');
    const both = await check(ca, {}, { headerMap: [['authorization', `DPoP ${bound}`], ['authorization', `Bearer ${bound}`], ['dpop', await proof(bound)]] });
    assert.equal(both.httpStatus, 400, 'DPoP and Bearer credentials together');
  });

  test('nonces: 401 use_dpop_nonce with DPoP-Nonce from one replica, accepted by the other', async () => {
    const host = 'nonce.example.com';
    const first = await check(ca, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { host }) }, { host });
    assert.equal(first.httpStatus, 401);
    assert.equal(errorOf(first).error, 'use_dpop_nonce');
    assert.deepEqual(wwwAuthenticate(first), ['DPoP error="use_dpop_nonce", error_description="DPoP nonce required"']);
    const nonce = first.headers['dpop-nonce'];
    assert.ok(nonce, 'a DPoP-Nonce header');
    const onB = await check(cb, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { host, nonce }) }, { host });
    assert.equal(onB.code, 0, onB.body);
    const forged = await check(cb, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { host, nonce: `${nonce!.slice(0, -2)}AA` }) }, { host });
    assert.equal(errorOf(forged).error_description, 'DPoP nonce stale');
  });

  test('required: a token bound to nothing is 401 with the Bearer challenge and a DPoP one', async () => {
    const host = 'strict.example.com';
    const r = await check(ca, { authorization: `Bearer ${await fx.sign({ sub: 'eve' })}` }, { host });
    assert.equal(r.httpStatus, 401);
    assert.deepEqual(wwwAuthenticate(r), [`Bearer realm="${host}", error="invalid_token", error_description="token is not sender-constrained"`, 'DPoP algs="ES256 PS256 EdDSA"']);
    const ok = await check(ca, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { host }) }, { host });
    assert.equal(ok.code, 0, ok.body);
  });

  test('a token bound to a certificate and a key needs both: the proof alone is not enough', async () => {
    const both = await fx.sign({ sub: 'cert', cnf: { jkt: JKT, 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } });
    const r = await check(ca, { authorization: `DPoP ${both}`, dpop: await proof(both) });
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'client certificate required');
  });

  test('forward auth: the same checks, htu rebuilt from X-Forwarded-Proto, -Host and -Uri', async () => {
    const conn = await openHttp1({ port: a.authzHttpPort });
    try {
      const forwarded = (uri: string, p: string): [string, string][] => [
        ['host', '127.0.0.1'], ['x-forwarded-proto', 'https'], ['x-forwarded-host', HOST], ['x-forwarded-uri', uri], ['x-forwarded-method', 'GET'],
        ['authorization', `DPoP ${bound}`], ['dpop', p],
      ];
      const ok = await conn.request('GET', '/forward-auth', forwarded('/v1/accounts?page=2', await proof(bound)));
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.headers.get('x-user-id')?.[0], 'dora');
      const wrong = await conn.request('GET', '/forward-auth', forwarded('/v1/payments', await proof(bound)));
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate')?.[0] ?? '', /^DPoP error="invalid_dpop_proof", error_description="DPoP proof URI mismatch"/);
    } finally {
      conn.close();
    }
  });

  test('audit mode lets a bound token without its proof through, but vouches for no identity', async () => {
    const host = 'audit.example.com';
    const r = await check(ca, { authorization: `Bearer ${bound}`, 'x-user-id': 'admin' }, { host });
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers['x-user-id'], undefined);
    assert.ok(r.headersToRemove.includes('x-user-id'), 'the spoofed copy is still removed');
    const proven = await check(ca, { authorization: `DPoP ${bound}`, dpop: await proof(bound, { host }) }, { host });
    assert.equal(proven.headers['x-user-id'], 'dora');
  });

  test('a plain token on a policy without senderConstraint is still a bearer token', async () => {
    const r = await check(ca, { authorization: `Bearer ${await fx.sign({ sub: 'frank' })}` });
    assert.equal(r.code, 0, r.body);
  });
});
