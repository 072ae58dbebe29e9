/**
 * Malformed and malicious tokens (RFC 8725 and known JWT library CVEs) sent through the real
 * server over gRPC, with keys served by real HTTPS JWKS and discovery endpoints under a test CA.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { stringify } from 'yaml';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa } from '../helpers/test-ca.js';
import { startJwksServer, DISCOVERY_PATH, type JwksServer } from '../helpers/jwks-server.js';
import { b64url, forgeToken, generateKey, jwksOf, signRaw, signToken, type TestKey } from '../helpers/tokens.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';

const CORP = 'https://corp.idp.test/realms/main';
const AUD = 'payments-api';
const HOST = 'api.example.com';

interface Case {
  name: string;
  token: () => Promise<string> | string;
  /** expected error_description; 401 invalid_token unless status says otherwise */
  description: string | RegExp;
}

describe('hostile tokens through the real server', () => {
  let dir: string;
  let corpServer: JwksServer;
  let partnerServer: JwksServer;
  let attacker: JwksServer;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;
  let rsa: TestKey, ec: TestKey, ed: TestKey, partner: TestKey, evil: TestKey, evilEc: TestKey;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: CORP, aud: AUD, sub: 'merchant_1', iat: now(), exp: now() + 300, ...extra });

  before(async () => {
    const ca = createTestCa('claimcheck hostile-token CA');
    rsa = generateKey('RS256', 'rsa-1');
    ec = generateKey('ES256', 'ec-1');
    ed = generateKey('EdDSA', 'ed-1');
    partner = generateKey('RS256', 'partner-1');
    evil = generateKey('RS256', 'evil-1');
    evilEc = generateKey('ES256', 'ec-1');
    corpServer = await startJwksServer({ tls: ca, jwks: jwksOf(rsa, ec, ed) });
    partnerServer = await startJwksServer({ tls: ca, jwks: jwksOf(partner) });
    partnerServer.setDiscovery({ issuer: partnerServer.url, jwks_uri: partnerServer.jwksUrl });
    attacker = await startJwksServer({ tls: ca, jwks: jwksOf(evil) });
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-hostile-'));
    const docs = [
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'corp' },
        spec: { issuer: CORP, jwks: { uri: corpServer.jwksUrl, caBundle: ca.caCert }, audiences: [AUD], maxTokenLifetime: '1h', algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] },
      },
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'partner' },
        spec: { issuer: partnerServer.url, jwks: { discovery: true, caBundle: ca.caCert }, audiences: [AUD], tokenTypes: ['at+jwt'] },
      },
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'api' },
        spec: { hosts: [HOST], issuers: ['corp', 'partner'], rules: [{ name: 'all', match: { paths: ['/**'] } }], identity: { headers: { 'x-user-id': 'sub' } } },
      },
    ];
    await writeFile(join(dir, 'config.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    cc = await startClaimcheck({ configDir: dir });
    client = createEnvoyClient(cc.grpcAddress);
  });

  after(async () => {
    client?.close();
    await cc?.stop();
    await Promise.all([corpServer?.close(), partnerServer?.close(), attacker?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const send = (token: string) => client.check({ host: HOST, path: '/v1/pay', headers: { authorization: `Bearer ${token}` } });

  test('valid tokens from a uri issuer (RS256, ES256, EdDSA) and a discovery issuer are allowed', async () => {
    for (const key of [rsa, ec, ed]) {
      const r = await send(await signToken(claims(), { key }));
      assert.equal(r.code, 0, `${key.alg}: ${r.body}`);
      assert.equal(r.headers['x-user-id'], 'merchant_1');
    }
    const p = await send(await signToken(claims({ iss: partnerServer.url }), { key: partner, typ: 'application/AT+JWT' }));
    assert.equal(p.code, 0, p.body);
    assert.ok(partnerServer.count(DISCOVERY_PATH) >= 1, 'discovery document was read');
  });

  const rsaPem = () => rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const cases: Case[] = [
    { name: 'alg none', token: () => forgeToken({ alg: 'none' }, claims()), description: 'algorithm not allowed' },
    { name: 'alg None', token: () => forgeToken({ alg: 'None' }, claims()), description: 'algorithm not allowed' },
    { name: 'alg NONE', token: () => forgeToken({ alg: 'NONE' }, claims()), description: 'algorithm not allowed' },
    { name: 'alg nOnE with a signature', token: () => forgeToken({ alg: 'nOnE', kid: 'rsa-1' }, claims(), 'c2ln'), description: 'algorithm not allowed' },
    { name: 'HS256 keyed with the RSA public key PEM (key confusion)', token: () => signRaw({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(rsaPem()), 'HS256'), description: 'algorithm not allowed' },
    { name: 'HS256 keyed with the RSA modulus', token: () => signRaw({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(String(rsa.jwk.n), 'base64url'), 'HS256'), description: 'algorithm not allowed' },
    { name: 'embedded jwk header with the attacker key', token: () => signRaw({ alg: 'RS256', kid: 'rsa-1', jwk: evil.jwk }, claims(), evil.privateKey), description: 'signature invalid' },
    { name: 'embedded jwk header without kid', token: () => signRaw({ alg: 'RS256', jwk: evil.jwk }, claims(), evil.privateKey), description: 'signature invalid' },
    { name: 'jku pointing at an attacker JWKS', token: () => signRaw({ alg: 'RS256', kid: 'evil-1', jku: attacker.jwksUrl }, claims(), evil.privateKey), description: /unknown signing key/ },
    { name: 'x5u pointing at an attacker certificate', token: () => signRaw({ alg: 'RS256', kid: 'evil-1', x5u: `${attacker.url}/cert.pem` }, claims(), evil.privateKey), description: /unknown signing key/ },
    { name: 'x5c with an attacker chain', token: () => signRaw({ alg: 'RS256', x5c: [Buffer.from('not a cert').toString('base64')] }, claims(), evil.privateKey), description: 'signature invalid' },
    { name: 'kid path traversal', token: () => signRaw({ alg: 'RS256', kid: '../../../../etc/passwd' }, claims(), evil.privateKey), description: /unknown signing key/ },
    { name: 'kid SQL injection', token: () => signRaw({ alg: 'RS256', kid: "x' OR '1'='1" }, claims(), evil.privateKey), description: /unknown signing key/ },
    { name: 'kid of 8 KiB', token: () => signRaw({ alg: 'RS256', kid: 'k'.repeat(8192) }, claims(), evil.privateKey), description: /unknown signing key|malformed/ },
    { name: 'crit header', token: () => signRaw({ alg: 'RS256', kid: 'rsa-1', crit: ['exp'], exp: 1 }, claims(), rsa.privateKey), description: 'unsupported token header' },
    { name: 'b64 false', token: () => signRaw({ alg: 'RS256', kid: 'rsa-1', b64: false, crit: ['b64'] }, claims(), rsa.privateKey), description: 'unsupported token header' },
    { name: 'JWE compact serialization', token: () => `${b64url({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${b64url('k')}.${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`, description: 'unsupported token' },
    { name: 'nested JWT (cty JWT)', token: async () => signRaw({ alg: 'RS256', kid: 'rsa-1', cty: 'JWT' }, b64url(await signToken(claims(), { key: rsa })), rsa.privateKey), description: 'unsupported token' },
    { name: 'exp as a string', token: () => signToken(claims({ exp: String(now() + 300) }), { key: rsa }), description: 'invalid claim type' },
    { name: 'exp 1e999', token: () => signRaw({ alg: 'RS256', kid: 'rsa-1' }, b64url(`{"iss":"${CORP}","aud":"${AUD}","sub":"m","iat":${now()},"exp":1e999}`), rsa.privateKey), description: 'invalid claim type' },
    { name: 'nbf as a string', token: () => signToken(claims({ nbf: 'yesterday' }), { key: rsa }), description: 'invalid claim type' },
    { name: 'iat null', token: () => signToken(claims({ iat: null }), { key: rsa }), description: /invalid claim type|missing required claim/ },
    { name: 'missing exp', token: () => { const c: Record<string, unknown> = claims(); delete c.exp; return signToken(c, { key: rsa }); }, description: /missing required claim|invalid claim type/ },
    { name: 'expired', token: () => signToken(claims({ iat: now() - 600, exp: now() - 120 }), { key: rsa }), description: 'token expired' },
    { name: 'not yet valid', token: () => signToken(claims({ nbf: now() + 600 }), { key: rsa }), description: 'token not yet valid' },
    { name: 'issued in the future', token: () => signToken(claims({ iat: now() + 600, exp: now() + 900 }), { key: rsa }), description: 'token issued in the future' },
    { name: 'lifetime over maxTokenLifetime', token: () => signToken(claims({ exp: now() + 7200 }), { key: rsa }), description: 'token lifetime too long' },
    { name: 'iss with a trailing slash', token: () => signToken(claims({ iss: CORP + '/' }), { key: rsa }), description: 'untrusted issuer' },
    { name: 'iss in another case', token: () => signToken(claims({ iss: CORP.toUpperCase() }), { key: rsa }), description: 'untrusted issuer' },
    { name: 'iss as an array', token: () => signToken(claims({ iss: [CORP] }), { key: rsa }), description: /untrusted issuer|invalid claim type/ },
    { name: 'iss missing', token: () => { const c: Record<string, unknown> = claims(); delete c.iss; return signToken(c, { key: rsa }); }, description: /untrusted issuer|missing required claim/ },
    { name: 'aud wrong', token: () => signToken(claims({ aud: 'other-api' }), { key: rsa }), description: 'audience not allowed' },
    { name: 'aud array without a match', token: () => signToken(claims({ aud: ['a', 'b'] }), { key: rsa }), description: 'audience not allowed' },
    { name: 'aud missing', token: () => { const c: Record<string, unknown> = claims(); delete c.aud; return signToken(c, { key: rsa }); }, description: /audience not allowed|missing required claim/ },
    { name: 'aud a number', token: () => signToken(claims({ aud: 42 }), { key: rsa }), description: /audience not allowed|invalid claim type/ },
    { name: 'typ not on the allow-list', token: () => signToken(claims({ iss: partnerServer.url }), { key: partner, typ: 'JWT' }), description: 'token type not allowed' },
    { name: 'ES256 all-zero signature (CVE-2022-21449)', token: () => forgeToken({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.alloc(64)), description: 'signature invalid' },
    { name: 'ES256 DER-encoded signature', token: () => signRaw({ alg: 'ES256', kid: 'ec-1' }, claims(), ec.privateKey, 'ES256-der'), description: /signature invalid|malformed/ },
    { name: 'ES256 signed by a different key with the same kid', token: () => signRaw({ alg: 'ES256', kid: 'ec-1' }, claims(), evilEc.privateKey, 'ES256'), description: 'signature invalid' },
    { name: "signed by another trusted issuer's key", token: () => signRaw({ alg: 'RS256', kid: 'partner-1' }, claims(), partner.privateKey), description: /unknown signing key/ },
    { name: "another issuer's key under this issuer's kid", token: () => signRaw({ alg: 'RS256', kid: 'rsa-1' }, claims(), partner.privateKey), description: 'signature invalid' },
    // rsa-1 is published with alg RS256, so a PS256 token never gets to use it.
    { name: 'PS256 header over an RS256 signature', token: () => signRaw({ alg: 'PS256', kid: 'rsa-1' }, claims(), rsa.privateKey), description: 'no matching key' },
    { name: 'truncated signature', token: async () => (await signToken(claims(), { key: rsa })).slice(0, -10), description: /signature invalid|malformed/ },
    { name: 'four segments', token: async () => (await signToken(claims(), { key: rsa })) + '.x', description: 'malformed token' },
    { name: 'header is not base64url', token: () => 'e30!!.e30.e30', description: 'malformed token' },
    { name: 'header is not JSON', token: () => forgeToken(b64url('not json'), claims(), 'c2ln'), description: 'malformed token' },
    { name: 'payload is an array', token: () => signRaw({ alg: 'RS256', kid: 'rsa-1' }, b64url([1, 2]), rsa.privateKey), description: 'malformed token' },
    { name: 'over the size cap', token: () => signToken(claims({ pad: 'x'.repeat(20_000) }), { key: rsa }), description: 'token too large' },
  ];

  test(`${cases.length} hostile tokens are each a 401 invalid_token with the expected reason`, async () => {
    assert.ok(cases.length >= 30);
    attacker.resetCounts();
    for (const c of cases) {
      const token = await c.token();
      const r = await send(token);
      assert.equal(r.code, 16, `${c.name}: gRPC code (body ${r.body})`);
      assert.equal(r.httpStatus, 401, `${c.name}: HTTP status`);
      const body = JSON.parse(r.body!);
      assert.equal(body.error, 'invalid_token', c.name);
      if (typeof c.description === 'string') assert.equal(body.error_description, c.description, c.name);
      else assert.match(body.error_description, c.description, c.name);
      assert.match(r.headers['www-authenticate']!, /error="invalid_token"/, c.name);
    }
    assert.equal(attacker.totalRequests(), 0, 'nothing named by jku/x5u/x5c was fetched');
  });
});
