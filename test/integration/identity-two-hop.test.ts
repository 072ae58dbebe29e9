/**
 * Identity tokens across two real claimcheck processes: A verifies the caller's token and signs
 * an identity token; B trusts A through A's own discovery document and JWKS (a TrustedIssuer
 * with `discovery: true`), takes the identity token as its credential and builds its identity
 * headers from A's claims. B refuses a tampered, expired, other-audience or foreign token.
 * Twice: over plain HTTP, and with A's HTTP listener on TLS (--http-tls-*) and B trusting it
 * through `caBundle`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { createFixture, paymentsPolicy, type Fixture, resourceDoc } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { freePort } from '../helpers/free-port.js';
import { ecPrivateKeyPem } from '../helpers/tokens.js';
import { createTestCa } from '../helpers/test-ca.js';

const HEADER = 'x-claimcheck-identity';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

for (const scheme of ['http', 'https'] as const)
describe(`identity tokens: A signs, B trusts A by discovery over ${scheme}`, () => {
  const tlsCa = scheme === 'https' ? createTestCa('claimcheck A CA') : undefined;
  let fa: Fixture;
  let fb: Fixture;
  let a: ClaimcheckProcess;
  let b: ClaimcheckProcess;
  let ca: EnvoyClient;
  let cb: EnvoyClient;
  let issuer: string;
  let privatePem: string;

  before(async () => {
    fa = await createFixture();
    fb = await createFixture();
    const keyDir = join(fa.dir, 'identity-keys');
    await mkdir(keyDir);
    privatePem = ecPrivateKeyPem();
    await writeFile(join(keyDir, 'a-1.pem'), privatePem);
    const port = await freePort();
    issuer = `${scheme}://127.0.0.1:${port}`;
    const tlsArgs: string[] = [];
    if (tlsCa) {
      await writeFile(join(fa.dir, 'tls.crt'), tlsCa.serverCert);
      await writeFile(join(fa.dir, 'tls.key'), tlsCa.serverKey);
      tlsArgs.push('--http-tls-cert', join(fa.dir, 'tls.crt'), '--http-tls-key', join(fa.dir, 'tls.key'));
    }
    const transport = tlsCa ? { caBundle: tlsCa.caCert } : { allowInsecureHttp: true };
    const token = (extra: Record<string, unknown>) => ({ audiences: ['orders'], claims: { sub: 'sub', tenant: 'tenant', scope: 'scope' }, ...extra });
    await fa.write('policy.yaml', [
      { ...paymentsPolicy({ identity: { headers: { 'x-user-id': 'sub' }, token: token({}) } }) },
      { ...paymentsPolicy({ hosts: ['billing.example.com'], identity: { token: token({ audiences: ['billing'] }) } }), metadata: { name: 'billing' } },
    ]);
    await fb.write('issuer.yaml', [
      resourceDoc('TrustedIssuer', 'claimcheck-a', { issuer, jwks: { discovery: true, ...transport, minRefreshInterval: '1s' }, audiences: ['orders'], algorithms: ['ES256'], clockSkew: '0s' }),
    ]);
    await fb.write('policy.yaml', [
      resourceDoc('AuthPolicy', 'orders', {
        hosts: ['orders.internal'], issuers: ['claimcheck-a'], tokenSources: [{ header: HEADER }],
        rules: [{ name: 'acme', match: { paths: ['/**'] }, require: { claims: [{ claim: 'tenant', equals: 'acme' }] } }],
        identity: { headers: { 'x-user': 'sub', 'x-tenant': 'tenant', 'x-caller': ['act', 'sub'] } },
      }),
    ]);
    a = await startClaimcheck({ configDir: fa.dir, args: ['--workers', '1', '--http-addr', `127.0.0.1:${port}`, '--identity-issuer', issuer, '--identity-key-dir', keyDir, ...tlsArgs], ...(tlsCa ? { httpsCa: tlsCa.caCert } : {}) });
    b = await startClaimcheck({ configDir: fb.dir, args: ['--workers', '1'] });
    ca = createEnvoyClient(a.grpcAddress);
    cb = createEnvoyClient(b.grpcAddress);
  });
  after(async () => {
    ca?.close();
    cb?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([fa?.cleanup(), fb?.cleanup()]);
  });

  const viaA = async (claims: Record<string, unknown>, host = 'payments.example.com', principal = 'spiffe://cluster.local/ns/web/sa/frontend') => {
    const r = await ca.check({ host, path: '/v1/accounts', headers: { authorization: `Bearer ${await fa.sign(claims)}`, [HEADER]: 'spoofed' }, sourcePrincipal: principal });
    assert.equal(r.code, 0, r.body);
    return r;
  };
  const atB = (identity: string) => cb.check({ host: 'orders.internal', path: '/orders/7', headers: { [HEADER]: identity } });

  test('A sets the identity token: ES256 with its kid, iss, aud, iat, exp, jti, the mapped claims and act', async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await viaA({ sub: 'ana', tenant: 'acme', exp: now + 600 });
    const jwt = r.headers[HEADER]!;
    assert.notEqual(jwt, 'spoofed');
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'ES256', kid: 'a-1', typ: 'JWT' });
    const c = decodeJwt(jwt);
    assert.equal(c.iss, issuer);
    assert.equal(c.aud, 'orders');
    assert.ok(Math.abs(c.iat! - now) <= 2 && c.exp === c.iat! + 300, JSON.stringify(c));
    assert.equal(typeof c.jti, 'string');
    assert.deepEqual({ sub: c.sub, tenant: c.tenant, scope: c.scope, act: c.act }, { sub: 'ana', tenant: 'acme', scope: 'payments:read', act: { sub: 'spiffe://cluster.local/ns/web/sa/frontend' } });
    assert.equal(r.headers['x-user-id'], 'ana');
  });

  test('never past the verified token\'s exp; no act without a source principal', async () => {
    const exp = Math.floor(Date.now() / 1000) + 40;
    const c = decodeJwt((await viaA({ exp }, 'payments.example.com', '')).headers[HEADER]!);
    assert.equal(c.exp, exp);
    assert.equal(c.act, undefined);
  });

  test('an anonymous rule gets no identity token, and the client\'s copy is removed', async () => {
    const r = await ca.check({ host: 'payments.example.com', path: '/healthz', headers: { [HEADER]: 'spoofed' } });
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers[HEADER], undefined);
    assert.ok(r.headersToRemove.includes(HEADER));
  });

  test('B allows A\'s token and builds its identity headers from A\'s claims', async () => {
    const jwt = (await viaA({ sub: 'ana', tenant: 'acme' })).headers[HEADER]!;
    const r = await eventually(async () => {
      const out = await atB(jwt);
      return out.code === 0 ? out : undefined;
    }, 10_000, 100);
    assert.deepEqual([r!.headers['x-user'], r!.headers['x-tenant'], r!.headers['x-caller']], ['ana', 'acme', 'spiffe://cluster.local/ns/web/sa/frontend']);
    const other = await atB((await viaA({ sub: 'bo', tenant: 'globex' })).headers[HEADER]!);
    assert.equal(other.httpStatus, 403, 'B\'s own rule still decides');
  });

  test('B refuses a tampered token, one for another audience, and one from a third signer', async () => {
    const jwt = (await viaA({ sub: 'ana', tenant: 'acme' })).headers[HEADER]!;
    const [h, p, s] = jwt.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(jwt), sub: 'root' })).toString('base64url')}.${s}`;
    assert.equal(errorOf(await atB(forged)).error_description, 'signature invalid');
    assert.notEqual(p, forged.split('.')[1]);
    const billing = (await viaA({ sub: 'ana', tenant: 'acme' }, 'billing.example.com')).headers[HEADER]!;
    assert.equal(decodeJwt(billing).aud, 'billing');
    assert.equal(errorOf(await atB(billing)).error_description, 'audience not allowed');
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const now = Math.floor(Date.now() / 1000);
    const third = await new SignJWT({ ...decodeJwt(jwt), iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'a-1', typ: 'JWT' }).sign(stranger);
    const r = await atB(third);
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'signature invalid');
  });

  test('the private key is in no log line, no metric and not in the JWKS', async () => {
    const d = String((createPrivateKey(privatePem).export({ format: 'jwk' }) as { d: string }).d);
    const body = privatePem.split('\n')[1]!;
    const jwks = (await a.http('/.well-known/jwks.json')).body;
    const metrics = (await a.http('/metrics')).body;
    for (const [where, text] of [['log', a.rawLog()], ['metrics', metrics], ['jwks', jwks], ['readyz', (await a.http('/readyz')).body]] as const) {
      assert.ok(!text.includes(d) && !text.includes(body), `${where} holds key material`);
    }
    assert.deepEqual(Object.keys((JSON.parse(jwks) as { keys: Record<string, unknown>[] }).keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  test('B refuses an expired identity token', async () => {
    const jwt = (await viaA({ sub: 'ana', tenant: 'acme', exp: Math.floor(Date.now() / 1000) + 2 })).headers[HEADER]!;
    assert.equal((await eventually(async () => ((await atB(jwt)).code === 0 ? true : undefined), 5_000, 100)), true);
    await new Promise((r) => setTimeout(r, 3_100));
    const r = await atB(jwt);
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error_description, 'token expired');
  });
});
