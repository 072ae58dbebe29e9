import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { verifyToken } from '../../src/authn/verify-token.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createTestCa } from '../helpers/test-ca.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { b64url, forgeToken, generateKey, jwksOf, makeIssuer, signRaw, signToken } from '../helpers/tokens.js';

const NOW = 1_800_000_000;
const MAX_BYTES = 16 * 1024;
const A = 'https://a.example.test';
const B = 'https://b.example.test';

const rsa = generateKey('RS256', 'rsa-1');
const ps = generateKey('PS256', 'ps-1');
const ec = generateKey('ES256', 'ec-1');
const ed = generateKey('EdDSA', 'ed-1');
const rsaB = generateKey('RS256', 'b-1');
const attacker = generateKey('RS256', 'evil-1');

const issuerA = makeIssuer({ name: 'a', issuer: A, jwks: { inline: jwksOf(rsa, ps, ec, ed) } });
const issuerB = makeIssuer({ name: 'b', issuer: B, jwks: { inline: jwksOf(rsaB) } });
const rsOnly = makeIssuer({ name: 'rs-only', issuer: A, algorithms: ['RS256'], jwks: { inline: jwksOf(rsa) } });
const hsAllowed = makeIssuer({ name: 'hs-allowed', issuer: A, algorithms: ['RS256', 'HS256'], jwks: { inline: jwksOf(rsa) } });
const strict = makeIssuer({
  name: 'strict',
  issuer: A,
  tokenTypes: ['at+jwt'],
  maxTokenLifetimeSec: 3600,
  requiredClaims: ['exp', 'sub'],
  jwks: { inline: jwksOf(rsa) },
});

const keys = new KeyRegistry({ logger: silentLogger(), now: () => NOW * 1000 });
let server: JwksServer;

before(async () => {
  keys.sync([issuerA, issuerB, rsOnly, hsAllowed, strict]);
  await keys.waitReady(5000);
  server = await startJwksServer({ tls: createTestCa(), jwks: jwksOf(attacker) });
});
after(async () => {
  keys.close();
  await server.close();
});

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: A, aud: 'api', sub: 'user-1', iat: NOW - 10, exp: NOW + 600, ...over };
}

function verify(token: string, candidates: readonly CompiledIssuer[] = [issuerA, issuerB]) {
  return verifyToken(token, candidates, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
}

/** A correctly RS256-signed token with an arbitrary header (bypassing jose's header checks). */
function rawRs(header: Record<string, unknown>, payload: unknown = claims()): string {
  return signRaw({ alg: 'RS256', kid: 'rsa-1', ...header }, payload, rsa.privateKey, 'RS256');
}

const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const someSig = Buffer.alloc(256, 7).toString('base64url');

interface Case {
  name: string;
  token: () => Promise<string> | string;
  candidates?: readonly CompiledIssuer[];
  reason: string;
  status?: 'invalid' | 'unavailable';
}

const malicious: Case[] = [
  { name: 'alg none', token: () => forgeToken({ alg: 'none' }, claims(), ''), reason: 'alg_not_allowed' },
  { name: 'alg None', token: () => forgeToken({ alg: 'None' }, claims(), ''), reason: 'alg_not_allowed' },
  { name: 'alg NONE', token: () => forgeToken({ alg: 'NONE' }, claims(), ''), reason: 'alg_not_allowed' },
  { name: 'alg nOnE with a signature', token: () => forgeToken({ alg: 'nOnE' }, claims(), someSig), reason: 'alg_not_allowed' },
  {
    name: 'HS256 signed with the RSA public key PEM against an RS256-only issuer',
    token: () => signRaw({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(rsaPem), 'HS256'),
    candidates: [rsOnly],
    reason: 'alg_not_allowed',
  },
  {
    name: 'HS256 signed with the RSA public JWK bytes, even where HS256 is allowed, finds no key',
    token: () => signRaw({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(JSON.stringify(rsa.jwk)), 'HS256'),
    candidates: [hsAllowed],
    reason: 'no_matching_key',
  },
  {
    name: 'embedded jwk header with the attacker key and its kid',
    token: () => signToken(claims(), { key: attacker, extraHeader: { jwk: attacker.jwk } }),
    reason: 'unknown_kid',
  },
  {
    name: 'embedded jwk header with the attacker key under a trusted kid',
    token: () => signToken(claims(), { key: attacker, kid: 'rsa-1', extraHeader: { jwk: attacker.jwk } }),
    reason: 'bad_signature',
  },
  {
    name: 'embedded jwk header without kid',
    token: () => signToken(claims(), { key: attacker, kid: null, extraHeader: { jwk: attacker.jwk } }),
    reason: 'bad_signature',
  },
  { name: 'jku pointing at an attacker JWKS', token: () => signToken(claims(), { key: attacker, extraHeader: { jku: server.jwksUrl } }), reason: 'unknown_kid' },
  { name: 'x5u pointing at an attacker URL', token: () => signToken(claims(), { key: attacker, extraHeader: { x5u: `${server.url}/cert.pem` } }), reason: 'unknown_kid' },
  { name: 'kid path traversal', token: () => signToken(claims(), { key: rsa, kid: '../../etc/passwd' }), reason: 'unknown_kid' },
  { name: 'kid SQL injection', token: () => signToken(claims(), { key: rsa, kid: "' OR '1'='1' --" }), reason: 'unknown_kid' },
  { name: 'kid of 8000 characters', token: () => signToken(claims(), { key: rsa, kid: 'k'.repeat(8000) }), reason: 'unknown_kid' },
  { name: 'kid that is not a string', token: () => rawRs({ kid: 42 }), reason: 'malformed_token' },
  { name: 'crit header', token: () => rawRs({ crit: ['exp'], exp: NOW + 600 }), reason: 'unsupported_header' },
  { name: 'b64 false', token: () => rawRs({ b64: false, crit: ['b64'] }), reason: 'unsupported_header' },
  { name: 'b64 false without crit', token: () => rawRs({ b64: false }), reason: 'unsupported_header' },
  { name: 'JWE with five parts', token: () => `${b64url({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.AAAA.AAAA.AAAA.AAAA`, reason: 'unsupported_token' },
  { name: 'nested JWT (cty JWT)', token: () => rawRs({ cty: 'JWT' }), reason: 'unsupported_token' },
  { name: 'nested JWT (cty application/jwt)', token: () => rawRs({ cty: 'application/jwt' }), reason: 'unsupported_token' },
  { name: 'exp as a string', token: () => signToken(claims({ exp: String(NOW + 600) }), { key: rsa }), reason: 'invalid_claim_type' },
  { name: 'exp null', token: () => signToken(claims({ exp: null }), { key: rsa }), reason: 'invalid_claim_type' },
  {
    name: 'exp 1e999 (Infinity after JSON.parse)',
    token: () => rawRs({}, b64url(`{"iss":"${A}","aud":"api","sub":"u","exp":1e999}`)),
    reason: 'invalid_claim_type',
  },
  { name: 'nbf as a string', token: () => signToken(claims({ nbf: String(NOW - 10) }), { key: rsa }), reason: 'invalid_claim_type' },
  { name: 'iat null', token: () => signToken(claims({ iat: null }), { key: rsa }), reason: 'invalid_claim_type' },
  { name: 'missing exp', token: () => signToken(claims({ exp: undefined }), { key: rsa }), reason: 'missing_claim' },
  { name: 'expired beyond the skew', token: () => signToken(claims({ exp: NOW - 31 }), { key: rsa }), reason: 'token_expired' },
  { name: 'exp exactly now minus skew', token: () => signToken(claims({ exp: NOW - 30 }), { key: rsa }), reason: 'token_expired' },
  { name: 'nbf in the future beyond the skew', token: () => signToken(claims({ nbf: NOW + 31 }), { key: rsa }), reason: 'token_not_yet_valid' },
  { name: 'iat in the future beyond the skew', token: () => signToken(claims({ iat: NOW + 31 }), { key: rsa }), reason: 'token_issued_in_future' },
  {
    name: 'lifetime over maxTokenLifetime',
    token: () => signToken(claims({ iat: NOW - 1, exp: NOW + 3600 }), { key: rsa, typ: 'at+jwt' }),
    candidates: [strict],
    reason: 'token_lifetime_exceeded',
  },
  {
    name: 'maxTokenLifetime without iat',
    token: () => signToken(claims({ iat: undefined }), { key: rsa, typ: 'at+jwt' }),
    candidates: [strict],
    reason: 'missing_claim',
  },
  { name: 'iss with a trailing slash', token: () => signToken(claims({ iss: `${A}/` }), { key: rsa }), reason: 'untrusted_issuer' },
  { name: 'iss in a different case', token: () => signToken(claims({ iss: A.toUpperCase() }), { key: rsa }), reason: 'untrusted_issuer' },
  { name: 'iss as an array', token: () => signToken(claims({ iss: [A] }), { key: rsa }), reason: 'untrusted_issuer' },
  { name: 'iss missing', token: () => signToken(claims({ iss: undefined }), { key: rsa }), reason: 'untrusted_issuer' },
  { name: 'iss of an issuer the rule does not accept', token: () => signToken(claims({ iss: B }), { key: rsaB }), candidates: [issuerA], reason: 'untrusted_issuer' },
  { name: 'aud missing', token: () => signToken(claims({ aud: undefined }), { key: rsa }), reason: 'audience_mismatch' },
  { name: 'aud wrong', token: () => signToken(claims({ aud: 'other' }), { key: rsa }), reason: 'audience_mismatch' },
  { name: 'aud array without a match', token: () => signToken(claims({ aud: ['x', 'y'] }), { key: rsa }), reason: 'audience_mismatch' },
  { name: 'aud not a string', token: () => signToken(claims({ aud: 123 }), { key: rsa }), reason: 'invalid_claim_type' },
  { name: 'aud array with a non-string', token: () => signToken(claims({ aud: ['api', 1] }), { key: rsa }), reason: 'invalid_claim_type' },
  { name: 'typ not in the allow-list', token: () => signToken(claims(), { key: rsa, typ: 'JWT' }), candidates: [strict], reason: 'token_type_not_allowed' },
  { name: 'typ missing where an allow-list is set', token: () => signToken(claims(), { key: rsa }), candidates: [strict], reason: 'token_type_not_allowed' },
  { name: 'required claim sub missing', token: () => signToken(claims({ sub: undefined }), { key: rsa, typ: 'at+jwt' }), candidates: [strict], reason: 'missing_claim' },
  { name: 'ES256 all-zero signature (r = s = 0, CVE-2022-21449)', token: () => forgeToken({ alg: 'ES256', kid: 'ec-1' }, claims(), Buffer.alloc(64)), reason: 'bad_signature' },
  {
    name: 'ES256 with a DER-encoded signature',
    token: () => signRaw({ alg: 'ES256', kid: 'ec-1' }, claims(), ec.privateKey, 'ES256-der'),
    reason: 'bad_signature',
  },
  { name: 'iss A signed by trusted issuer B under B\'s kid', token: () => signToken(claims({ iss: A }), { key: rsaB }), reason: 'unknown_kid' },
  { name: 'iss A signed by trusted issuer B under A\'s kid', token: () => signToken(claims({ iss: A }), { key: rsaB, kid: 'rsa-1' }), reason: 'bad_signature' },
  { name: 'alg the issuer does not allow (ES384)', token: () => forgeToken({ alg: 'ES384', kid: 'ec-1' }, claims(), Buffer.alloc(96)), reason: 'alg_not_allowed' },
  { name: 'alg of the wrong key type for the kid (RS256 header, EC kid)', token: () => signToken(claims(), { key: rsa, kid: 'ec-1' }), reason: 'no_matching_key' },
  {
    name: 'truncated signature',
    token: async () => {
      const t = await signToken(claims(), { key: rsa });
      return t.slice(0, -10);
    },
    reason: 'bad_signature',
  },
  {
    name: 'one flipped signature byte',
    token: async () => {
      const [h, p, s] = (await signToken(claims(), { key: rsa })).split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[10] ^= 1;
      return `${h}.${p}.${sig.toString('base64url')}`;
    },
    reason: 'bad_signature',
  },
  {
    name: 'payload swapped under a valid signature',
    token: async () => {
      const [h, , s] = (await signToken(claims(), { key: rsa })).split('.');
      return `${h}.${b64url(claims({ sub: 'admin' }))}.${s}`;
    },
    reason: 'bad_signature',
  },
  { name: 'an extra segment', token: async () => `${await signToken(claims(), { key: rsa })}.AAAA`, reason: 'malformed_token' },
  { name: 'two segments', token: () => `${b64url({ alg: 'RS256' })}.${b64url(claims())}`, reason: 'malformed_token' },
  { name: 'empty string', token: () => '', reason: 'malformed_token' },
  { name: 'standard base64 with padding in the header', token: () => forgeToken(Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'rsa-1' })).toString('base64'), claims(), someSig), reason: 'malformed_token' },
  { name: 'bad base64 in the signature', token: () => forgeToken({ alg: 'RS256', kid: 'rsa-1' }, claims(), 'a+b/c=='), reason: 'malformed_token' },
  { name: 'header not JSON', token: () => forgeToken(b64url('{alg: RS256'), claims(), someSig), reason: 'malformed_token' },
  { name: 'header a JSON array', token: () => forgeToken([{ alg: 'RS256' }], claims(), someSig), reason: 'malformed_token' },
  { name: 'header without alg', token: () => forgeToken({ kid: 'rsa-1' }, claims(), someSig), reason: 'malformed_token' },
  { name: 'alg not a string', token: () => forgeToken({ alg: ['RS256'] }, claims(), someSig), reason: 'malformed_token' },
  { name: 'payload a JSON array', token: () => rawRs({}, b64url([claims()])), reason: 'malformed_token' },
  { name: 'payload not JSON', token: () => rawRs({}, b64url('hello')), reason: 'malformed_token' },
  { name: 'payload not UTF-8', token: () => rawRs({}, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')), reason: 'malformed_token' },
  { name: 'token over the size cap', token: () => `${b64url({ alg: 'RS256' })}.${'A'.repeat(MAX_BYTES)}.AAAA`, reason: 'token_too_large' },
  { name: 'token of non-ASCII characters over the byte cap', token: () => 'é'.repeat(MAX_BYTES / 2 + 1), reason: 'token_too_large' },
  { name: 'issuer whose keys were never synced', token: () => signToken(claims({ iss: 'https://nowhere.test' }), { key: rsa }), candidates: [makeIssuer({ issuer: 'https://nowhere.test', jwks: { inline: jwksOf(rsa) } })], status: 'unavailable', reason: 'keys_unavailable' },
];

describe('verifyToken rejects malformed and malicious tokens', () => {
  for (const c of malicious) {
    test(`rejects ${c.name} as ${c.reason}`, async () => {
      const r = await verify(await c.token(), c.candidates);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.deepEqual({ status: r.status, reason: r.reason }, { status: c.status ?? 'invalid', reason: c.reason });
      assert.ok(r.description.length > 0 && r.description.length < 40, 'a short description');
      assert.ok(!/user-1|rsa-1|admin/.test(r.description), 'no claim values in the description');
    });
  }

  test('never fetches a URL named by jku or x5u', async () => {
    const before = server.totalRequests();
    for (const c of malicious.filter((m) => /jku|x5u/.test(m.name))) {
      const r = await verify(await c.token(), c.candidates);
      assert.equal(r.ok, false, c.name);
    }
    assert.equal(server.totalRequests(), before, 'the attacker server was asked for nothing');
    assert.equal(before, 0);
  });

  test('counts at least 30 distinct malicious cases', () => {
    assert.ok(malicious.length >= 30, `${malicious.length} cases`);
  });
});

interface ValidCase {
  name: string;
  token: () => Promise<string> | string;
  candidates?: readonly CompiledIssuer[];
  kid?: string;
  alg: string;
}

const valid: ValidCase[] = [
  { name: 'RS256', token: () => signToken(claims(), { key: rsa }), kid: 'rsa-1', alg: 'RS256' },
  { name: 'PS256', token: () => signToken(claims(), { key: ps }), kid: 'ps-1', alg: 'PS256' },
  { name: 'ES256', token: () => signToken(claims(), { key: ec }), kid: 'ec-1', alg: 'ES256' },
  { name: 'EdDSA', token: () => signToken(claims(), { key: ed }), kid: 'ed-1', alg: 'EdDSA' },
  { name: 'RS256 without kid, by trying the compatible keys', token: () => signToken(claims(), { key: rsa, kid: null }), kid: 'rsa-1', alg: 'RS256' },
  { name: 'a fractional exp', token: () => signToken(claims({ exp: NOW + 0.5 }), { key: rsa }), alg: 'RS256', kid: 'rsa-1' },
  { name: 'exp within the clock skew', token: () => signToken(claims({ exp: NOW - 29 }), { key: rsa }), alg: 'RS256', kid: 'rsa-1' },
  { name: 'nbf and iat within the clock skew', token: () => signToken(claims({ nbf: NOW + 30, iat: NOW + 30 }), { key: rsa }), alg: 'RS256', kid: 'rsa-1' },
  { name: 'aud array with one match', token: () => signToken(claims({ aud: ['x', 'api'] }), { key: rsa }), alg: 'RS256', kid: 'rsa-1' },
  { name: 'typ application/at+jwt against the allow-list at+jwt', token: () => signToken(claims(), { key: rsa, typ: 'application/at+jwt' }), candidates: [strict], alg: 'RS256', kid: 'rsa-1' },
  { name: 'typ AT+JWT against the allow-list at+jwt', token: () => signToken(claims(), { key: rsa, typ: 'AT+JWT' }), candidates: [strict], alg: 'RS256', kid: 'rsa-1' },
  { name: 'a token of issuer B among several candidates', token: () => signToken(claims({ iss: B }), { key: rsaB }), alg: 'RS256', kid: 'b-1' },
];

describe('verifyToken accepts valid tokens', () => {
  for (const c of valid) {
    test(`accepts ${c.name}`, async () => {
      const token = await c.token();
      const r = await verify(token, c.candidates);
      assert.equal(r.ok, true, r.ok ? '' : `${r.reason}`);
      if (!r.ok) return;
      assert.equal(r.verified.token, token);
      assert.equal(r.verified.alg, c.alg);
      assert.equal(r.verified.kid, c.kid);
      assert.equal(r.verified.claims.sub, 'user-1');
    });
  }

  test('returns the issuer whose key verified when two accepted issuers share an iss', async () => {
    const other = makeIssuer({ name: 'same-iss', issuer: A, jwks: { inline: jwksOf(rsaB) } });
    keys.sync([issuerA, issuerB, rsOnly, hsAllowed, strict, other]);
    await keys.waitReady(5000);
    const r = await verify(await signToken(claims(), { key: rsaB, kid: 'b-1' }), [issuerA, other]);
    assert.equal(r.ok, true);
    if (r.ok) assert.equal(r.verified.issuer.key, other.key);
  });
});

describe('verifyToken with duplicate kids', () => {
  test('tries each key that shares a kid until one verifies', async () => {
    const first = generateKey('RS256', 'dup');
    const second = generateKey('RS256', 'dup');
    const issuer = makeIssuer({ name: 'dup', issuer: 'https://dup.test', jwks: { inline: jwksOf(first, second) } });
    const reg = new KeyRegistry({ logger: silentLogger() });
    reg.sync([issuer]);
    await reg.waitReady(5000);
    const token = await signToken({ iss: 'https://dup.test', aud: 'api', exp: NOW + 60 }, { key: second });
    const r = await verifyToken(token, [issuer], reg, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    reg.close();
    assert.equal(r.ok, true);
  });

  test('rejects a short RSA key even when it signed the token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const issuer = makeIssuer({ name: 'short', issuer: 'https://short.test', jwks: { inline: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 's' }] } } });
    const reg = new KeyRegistry({ logger: silentLogger() });
    reg.sync([issuer]);
    await reg.waitReady(5000);
    const token = signRaw({ alg: 'RS256', kid: 's' }, { iss: 'https://short.test', aud: 'api', exp: NOW + 60 }, privateKey);
    const r = await verifyToken(token, [issuer], reg, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    reg.close();
    assert.deepEqual(r.ok ? r : { status: r.status, reason: r.reason }, { status: 'unavailable', reason: 'keys_unavailable' });
  });
});

describe('verification without a promise once the signer is known', () => {
  test('a new token from a key resolved before is verified synchronously; a first kid waits for the lookup', async () => {
    const reg = new KeyRegistry({ logger: silentLogger(), now: () => NOW * 1000 });
    const iss = makeIssuer({ name: 'sync', issuer: A, jwks: { inline: jwksOf(rsa, ec) } });
    reg.sync([iss]);
    await reg.waitReady(5000);
    const opts = { nowSec: NOW, maxTokenBytes: MAX_BYTES };
    const first = verifyToken(await signToken({ iss: A, aud: 'api', exp: NOW + 60, n: 1 }, { key: rsa }), [iss], reg, opts);
    assert.ok(first instanceof Promise, 'the first lookup of a kid imports its key');
    assert.ok((await first).ok);
    const second = verifyToken(await signToken({ iss: A, aud: 'api', exp: NOW + 60, n: 2 }, { key: rsa }), [iss], reg, opts);
    assert.ok(!(second instanceof Promise), 'the same kid again: no promise');
    assert.ok(second.ok);
    const forged = verifyToken(await signToken({ iss: A, aud: 'api', exp: NOW + 60 }, { key: attacker, kid: 'rsa-1' }), [iss], reg, opts);
    assert.ok(!(forged instanceof Promise));
    assert.equal(forged.ok ? 'ok' : forged.reason, 'bad_signature', 'a remembered key still checks every signature');
    const otherKid = verifyToken(await signToken({ iss: A, aud: 'api', exp: NOW + 60 }, { key: ec }), [iss], reg, opts);
    assert.ok(otherKid instanceof Promise, 'another kid is looked up on its own');
    assert.ok((await otherKid).ok);
    reg.close();
  });

  test('tokens sharing a header share one frozen parsed header; a header that fails is refused every time', async () => {
    const t1 = await signToken({ iss: A, aud: 'api', exp: NOW + 60, n: 1 }, { key: rsa });
    const t2 = await signToken({ iss: A, aud: 'api', exp: NOW + 60, n: 2 }, { key: rsa });
    const [r1, r2] = [verifyToken(t1, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES }), verifyToken(t2, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })];
    const [v1, v2] = [await r1, await r2];
    assert.ok(v1.ok && v2.ok);
    assert.notEqual(v1.verified.claims, v2.verified.claims);
    const { parseCompactJws } = await import('../../src/authn/parse-compact.js');
    const p1 = parseCompactJws(t1, MAX_BYTES);
    const p2 = parseCompactJws(t2, MAX_BYTES);
    assert.ok(!('ok' in p1) && !('ok' in p2));
    assert.equal(p1.header, p2.header);
    assert.ok(Object.isFrozen(p1.header));
    const crit = forgeToken({ alg: 'RS256', kid: 'rsa-1', crit: ['exp'] }, { iss: A }, someSig);
    for (let i = 0; i < 2; i++) {
      const r = parseCompactJws(crit, MAX_BYTES);
      assert.equal('ok' in r ? r.reason : 'parsed', 'unsupported_header');
    }
  });
});
