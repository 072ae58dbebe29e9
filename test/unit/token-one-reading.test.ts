/** One reading of every token: duplicate member names and non-canonical base64url are refused. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasDuplicateMembers } from '../../src/authn/duplicate-members.js';
import { isCanonicalBase64url, parseCompactJws } from '../../src/authn/parse-compact.js';
import { verifyToken } from '../../src/authn/verify-token.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { mulberry32 } from '../helpers/prng.js';
import { b64url, generateKey, jwksOf, makeIssuer, signRaw } from '../helpers/tokens.js';

const reasonOf = (r: unknown) => ('ok' in (r as object) ? (r as { reason: string }).reason : 'parsed');

describe('duplicate member names', () => {
  const table: [string, boolean][] = [
    ['{"sub":"alice","aud":"x"}', false],
    ['{"sub":"alice","sub":"admin"}', true],
    ['{"sub":"alice","s\\u0075b":"admin"}', true],
    ['{"a":{"x":1,"x":2}}', true],
    ['{"a":{"x":1},"b":{"x":2}}', false],
    ['{"a":[{"x":1},{"x":2}]}', false],
    ['{"a":["x","x"]}', false],
    ['{"a":"x","b":"a"}', false],
    ['{"a\\"":1,"a":2}', false],
    ['{ "k" : 1 , "k" :2 }', true],
    ['{"a":"{\\"b\\":1,\\"b\\":2}"}', false],
  ];
  for (const [json, dup] of table) {
    test(`${json} ${dup ? 'has' : 'has no'} duplicate`, () => {
      JSON.parse(json);
      assert.equal(hasDuplicateMembers(json), dup);
    });
  }

  test('agrees with a count of keys on 2,000 random objects, with and without an injected duplicate', () => {
    const rnd = mulberry32(0x5eed);
    const name = () => ['sub', 'aud', 'x', 'a b', 'é', 'q"', 'z\\'][Math.floor(rnd() * 7)]!;
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 2 || r < 0.4) return r < 0.2 ? 'v{[' : Math.floor(r * 100);
      if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 4; i++) o[name()] = value(depth + 1);
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const o = value(0);
      const json = JSON.stringify({ top: o });
      assert.equal(hasDuplicateMembers(json), false, json);
      const dup = json.replace(/^\{/, '{"top":0,');
      assert.equal(hasDuplicateMembers(dup), true, dup);
    }
  });
});

describe('canonical base64url', () => {
  test('refuses padding, the base64 alphabet, a length of 1 mod 4, and non-zero trailing bits', () => {
    assert.equal(isCanonicalBase64url(Buffer.from('a').toString('base64url')), true); // "YQ"
    assert.equal(isCanonicalBase64url('YR'), false, 'Y Q vs Y R: same byte, other trailing bits');
    assert.equal(isCanonicalBase64url(Buffer.from('ab').toString('base64url')), true); // "YWI"
    assert.equal(isCanonicalBase64url('YWJ'), false);
    assert.equal(isCanonicalBase64url('YQ=='), false);
    assert.equal(isCanonicalBase64url('a+b/'), false);
    assert.equal(isCanonicalBase64url('abcde'), false);
    assert.equal(Buffer.from('YR', 'base64url').equals(Buffer.from('YQ', 'base64url')), true, 'Node decodes both to the same byte');
  });
});

describe('the verifier refuses a second reading of a signed token', () => {
  const key = generateKey('RS256', 'k1');
  const issuer = makeIssuer({ issuer: 'https://idp.example', algorithms: ['RS256'], jwks: { inline: jwksOf(key) } });
  const keys = new KeyRegistry({ logger: silentLogger() });
  keys.sync([issuer]);
  const now = Math.floor(Date.now() / 1000);
  const verify = (token: string) => Promise.resolve(verifyToken(token, [issuer], keys, { nowSec: now, maxTokenBytes: 16384 })).then((r) => (r.ok ? 'ok' : r.reason));

  test('a correctly signed token with two sub members is invalid_token, not the last sub', async () => {
    const payload = `{"iss":"https://idp.example","aud":"api","sub":"alice","exp":${now + 60},"sub":"admin"}`;
    const token = signRaw({ alg: 'RS256', kid: 'k1' }, b64url(payload), key.privateKey);
    assert.equal(await verify(token), 'malformed_token');
    const single = signRaw({ alg: 'RS256', kid: 'k1' }, b64url(payload.replace(',"sub":"admin"', '')), key.privateKey);
    assert.equal(await verify(single), 'ok', 'the same token without the duplicate verifies');
  });

  test('a duplicate header member is refused', async () => {
    const h = b64url('{"alg":"RS256","kid":"k1","kid":"other"}');
    const token = `${h}.${b64url({ iss: 'x' })}.c2ln`;
    assert.equal(reasonOf(parseCompactJws(token, 16384)), 'malformed_token');
  });

  test('a signature respelled with other trailing bits is refused (one token, one spelling)', async () => {
    const token = signRaw({ alg: "RS256", kid: "k1" }, { iss: "https://idp.example", aud: "api", sub: "a", exp: now + 60 }, key.privateKey);
    assert.equal(await verify(token), 'ok');
    const sig = token.slice(token.lastIndexOf('.') + 1);
    // RS256 with a 2048-bit key: 256 bytes → 342 characters, the last carrying 2 spare bits... or 4
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig[sig.length - 1]!);
    const respelled = `${token.slice(0, token.length - 1)}${alphabet[last | 1]}`;
    assert.notEqual(respelled, token);
    assert.equal(Buffer.from(respelled.split('.')[2]!, 'base64url').equals(Buffer.from(sig, 'base64url')), true, 'the same signature bytes');
    assert.equal(await verify(respelled), 'malformed_token');
  });
});
