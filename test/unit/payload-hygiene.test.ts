import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCache, type CacheCounters } from '../../src/authn/token-cache.js';
import type { Finding } from '../../src/decision.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { compilePayloadRules } from '../../src/compile/payload-rules.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { forgeToken, generateKey, jwksOf, makeIssuer, signToken } from '../helpers/tokens.js';

const NOW = 1_800_000_000;
const OPTS = { nowSec: NOW, maxTokenBytes: 64 * 1024 };
const A = 'https://a.example.test';
const VISA = '4111111111111111';
const rsa = generateKey('RS256', 'rsa-1');

const issuer = (name: string, payload: Parameters<typeof compilePayloadRules>[0]): CompiledIssuer => {
  const rules = compilePayloadRules(payload);
  return makeIssuer({ name, issuer: A, jwks: { inline: jwksOf(rsa) }, ...(rules ? { payload: rules } : {}) });
};
const plain = issuer('plain', undefined);
const sized = issuer('sized', { maxBytes: 256 });
const forbidding = issuer('forbidding', { forbiddenClaims: ['password', 'ssn'] });
const auditing = issuer('auditing', { detect: ['pan'] });
const denying = issuer('denying', { detect: ['pan'], detectAction: 'deny' });

const registry = new KeyRegistry({ logger: silentLogger(), now: () => NOW * 1000 });
before(async () => {
  registry.sync([plain, sized, forbidding, auditing, denying]);
  await registry.waitReady(5000);
});
after(() => registry.close());

const claims = (over: Record<string, unknown> = {}) => ({ iss: A, aud: 'api', sub: 'user-1', iat: NOW - 10, exp: NOW + 600, ...over });

function cacheWithCounters(size = 100) {
  const seen: { issuer: string; findings: readonly Finding[]; denied: boolean }[] = [];
  const n = { rejected: 0 };
  const counters: CacheCounters = { verifiedHit: () => undefined, verifiedMiss: () => undefined, rejectedHit: () => n.rejected++, payloadFindings: (i, findings, denied) => seen.push({ issuer: i, findings, denied }) };
  return { cache: new TokenCache({ size, counters }), seen, n };
}

describe('payload hygiene', () => {
  test('maxBytes: a larger payload is refused before its signature is checked', async () => {
    const { cache } = cacheWithCounters();
    const big = claims({ pad: 'x'.repeat(300) });
    const signed = await signToken(big, { key: rsa });
    assert.equal((await cache.verify(signed, [sized], registry, OPTS)).ok, false);
    const forged = forgeToken({ alg: 'RS256', kid: 'rsa-1' }, big, Buffer.alloc(256));
    const r = await cache.verify(forged, [sized], registry, OPTS);
    assert.equal(!r.ok && r.reason, 'payload_too_large', 'not bad_signature: no RSA operation was spent on it');
    assert.equal((await cache.verify(signed, [plain], registry, OPTS)).ok, true, 'without payload.maxBytes the same token verifies');
    assert.equal((await cache.verify(await signToken(claims(), { key: rsa }), [sized], registry, OPTS)).ok, true);
  });

  test('a forbidden claim nested under an object is refused; the failure names the path and the issuer', async () => {
    const { cache, seen } = cacheWithCounters();
    const token = await signToken(claims({ profile: { ssn: '078-05-1120' } }), { key: rsa });
    const r = await cache.verify(token, [forbidding], registry, OPTS);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'forbidden_claim');
    assert.equal(!r.ok && r.description, 'token carries a forbidden claim');
    assert.deepEqual(seen, [{ issuer: forbidding.key, findings: [{ kind: 'forbidden', path: '/profile/ssn' }], denied: true }]);
    assert.ok(!JSON.stringify(r).includes('078-05-1120'));
  });

  test('a forged token carrying a forbidden claim is a bad signature: nothing unsigned is reported', async () => {
    const { cache, seen } = cacheWithCounters();
    const forged = forgeToken({ alg: 'RS256', kid: 'rsa-1' }, claims({ password: 'x' }), Buffer.alloc(256));
    const r = await cache.verify(forged, [forbidding], registry, OPTS);
    assert.equal(!r.ok && r.reason, 'bad_signature');
    assert.equal(seen.length, 0);
  });

  test('audit: the token is accepted with its findings on every use, reported once', async () => {
    const { cache, seen } = cacheWithCounters();
    const token = await signToken(claims({ note: `paid with ${VISA}` }), { key: rsa });
    for (let i = 0; i < 4; i++) {
      const r = await cache.verify(token, [auditing], registry, OPTS);
      assert.equal(r.ok, true, `use ${i + 1}`);
      assert.deepEqual(r.ok && r.verified.findings, [{ kind: 'pan', path: '/note' }], `use ${i + 1}`);
      assert.equal(r.ok && r.verified.reused === true, i > 0);
    }
    assert.deepEqual(seen, [{ issuer: auditing.key, findings: [{ kind: 'pan', path: '/note' }], denied: false }]);
  });

  test('audit without the token cache: reported on every verification', async () => {
    const { cache, seen } = cacheWithCounters(0);
    const token = await signToken(claims({ note: VISA }), { key: rsa });
    for (let i = 0; i < 3; i++) assert.equal((await cache.verify(token, [auditing], registry, OPTS)).ok, true);
    assert.equal(seen.length, 3);
  });

  test('deny: refused as sensitive_claim; a repeat is answered from the negative cache, reported once', async () => {
    const { cache, seen, n } = cacheWithCounters();
    const token = await signToken(claims({ card: VISA }), { key: rsa });
    const rule = [denying];
    for (let i = 0; i < 3; i++) {
      const r = await cache.verify(token, rule, registry, OPTS);
      assert.equal(!r.ok && r.reason, 'sensitive_claim');
    }
    assert.equal(n.rejected, 2);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.denied, true);
  });

  test('a Luhn-invalid number is no finding, and an issuer without payload rules scans nothing', async () => {
    const { cache, seen } = cacheWithCounters();
    const invalidCard = await signToken(claims({ card: '4111111111111112' }), { key: rsa });
    const r = await cache.verify(invalidCard, [denying], registry, OPTS);
    assert.equal(r.ok && r.verified.findings, undefined);
    const card = await signToken(claims({ card: VISA, password: 'x' }), { key: rsa });
    const p = await cache.verify(card, [plain], registry, OPTS);
    assert.equal(p.ok && p.verified.findings, undefined);
    assert.equal(seen.length, 0);
  });
});
