import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCache, REJECTED_CACHE_SIZE, type CacheCounters } from '../../src/authn/token-cache.js';
import type { KeyLookup } from '../../src/authn/types.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { decideRequest } from '../../src/pipeline/decide-request.js';
import type { AnyResource } from '../../src/model/types.js';
import type { AuthRequest } from '../../src/request.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { eventually } from '../helpers/claimcheck-process.js';
import { forgeToken, generateKey, jwksOf, makeIssuer, signToken } from '../helpers/tokens.js';
import { ISSUER, AUDIENCE, issuerDoc, paymentsPolicy } from '../helpers/fixture-config.js';

const NOW = 1_800_000_000;
const MAX_BYTES = 16 * 1024;
const A = 'https://a.example.test';
const rsa = generateKey('RS256', 'rsa-1');
const other = generateKey('RS256', 'rsa-2');
const attacker = generateKey('RS256', 'rsa-1');
const issuerA = makeIssuer({ name: 'a', issuer: A, clockSkewSec: 30, jwks: { inline: jwksOf(rsa) } });
/** A rule's issuers array is compiled once per snapshot; the negative cache relies on that identity. */
const RULE = [issuerA] as const;

/** A real KeyRegistry, with resolve() counted: every count is a verification the cache did not save. */
function counted(inner: KeyLookup): KeyLookup & { resolves: number } {
  const c = {
    resolves: 0,
    resolve: (issuer: CompiledIssuer, header: { alg: string; kid?: string }) => {
      c.resolves++;
      return inner.resolve(issuer, header);
    },
    keysVersion: (issuer: CompiledIssuer) => inner.keysVersion!(issuer),
  };
  return c;
}

function counters() {
  const n = { hit: 0, miss: 0, rejected: 0 };
  const c: CacheCounters = { verifiedHit: () => n.hit++, verifiedMiss: () => n.miss++, rejectedHit: () => n.rejected++ };
  return { n, c };
}

const claims = (over: Record<string, unknown> = {}) => ({ iss: A, aud: 'api', sub: 'user-1', iat: NOW - 10, exp: NOW + 600, ...over });

const registry = new KeyRegistry({ logger: silentLogger(), now: () => NOW * 1000 });
before(async () => {
  registry.sync([issuerA]);
  await registry.waitReady(5000);
});
after(() => registry.close());

describe('verified-token cache', () => {
  test('a second verification of the same token is a hit: no key lookup; from the third on the same parsed claims object', async () => {
    const keys = counted(registry);
    const { n, c } = counters();
    const cache = new TokenCache({ size: 10, counters: c });
    const token = await signToken(claims(), { key: rsa });
    const r1 = await cache.verify(token, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    assert.deepEqual(cache.size, { verified: 1, parsed: 0, rejected: 0 }, 'a first use keeps the verdict only');
    const r2 = await cache.verify(token, [issuerA], keys, { nowSec: NOW + 1, maxTokenBytes: MAX_BYTES });
    const r3 = cache.verify(token, [issuerA], keys, { nowSec: NOW + 2, maxTokenBytes: MAX_BYTES });
    assert.ok(!(r3 instanceof Promise), 'a hit answers without a promise');
    assert.ok(r1.ok && r2.ok && r3.ok);
    assert.equal(keys.resolves, 1);
    assert.deepEqual(r2.verified.claims, r1.verified.claims);
    assert.equal(r3.verified.claims, r2.verified.claims, 'claims are not re-parsed once kept');
    assert.equal(r2.verified.issuer, issuerA);
    assert.equal(r2.verified.kid, 'rsa-1');
    assert.equal(r3.verified.kid, 'rsa-1');
    assert.deepEqual(n, { hit: 2, miss: 1, rejected: 0 });
    assert.deepEqual(cache.size, { verified: 1, parsed: 1, rejected: 0 });
  });

  test('tokens used once are all remembered without parsed claims; the parsed tier is bounded', async () => {
    const keys = counted(registry);
    const cache = new TokenCache({ size: 8, parsedSize: 3 });
    const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => signToken(claims({ sub: `user-${i}` }), { key: rsa })));
    for (const t of tokens) assert.ok((await cache.verify(t, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.deepEqual(cache.size, { verified: 8, parsed: 0, rejected: 0 });
    for (const t of tokens) assert.ok((await cache.verify(t, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(keys.resolves, 8, 'every second use skipped the signature check');
    assert.deepEqual(cache.size, { verified: 8, parsed: 3, rejected: 0 });
  });

  test('the oldest verdict makes room when the cache is full', async () => {
    const keys = counted(registry);
    const cache = new TokenCache({ size: 3 });
    const tokens = await Promise.all([0, 1, 2, 3].map((i) => signToken(claims({ sub: `user-${i}` }), { key: rsa })));
    for (const t of tokens) assert.ok((await cache.verify(t, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(cache.size.verified, 3);
    assert.equal(keys.resolves, 4);
    for (const t of tokens.slice(1)) assert.ok((await cache.verify(t, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(keys.resolves, 4, 'the three newest were kept');
    assert.ok((await cache.verify(tokens[0]!, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(keys.resolves, 5, 'the first was evicted and verified again');
  });

  test('a cached token stops verifying at exp (with the issuer skew) and is dropped', async () => {
    const keys = counted(registry);
    const cache = new TokenCache({ size: 10 });
    const token = await signToken(claims({ exp: NOW + 60 }), { key: rsa });
    assert.ok((await cache.verify(token, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    // RFC 7519 §4.1.4 with 30 s skew: still valid just before exp + skew, expired at it.
    assert.ok((await cache.verify(token, [issuerA], keys, { nowSec: NOW + 89, maxTokenBytes: MAX_BYTES })).ok);
    const late = await cache.verify(token, [issuerA], keys, { nowSec: NOW + 90, maxTokenBytes: MAX_BYTES });
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.reason, 'token_expired');
    assert.equal(keys.resolves, 1, 'expiry is decided from the cached claims');
    assert.equal(cache.size.verified, 0);
  });

  test('a cached token is held to the issuer typ allow-list on every hit', async () => {
    const keys = counted(registry);
    const cache = new TokenCache({ size: 10 });
    const typed = await signToken(claims(), { key: rsa, typ: 'at+jwt' });
    const untyped = await signToken(claims({ sub: 'user-2' }), { key: rsa });
    for (const t of [typed, untyped]) assert.ok((await cache.verify(t, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    // Same issuer, now with a typ allow-list (a settings change keeps the fingerprint here on purpose: only typ is re-checked).
    const strict: CompiledIssuer = { ...issuerA, tokenTypes: ['at+jwt'] };
    // the second use answers from the verdict tier, the third (after a permissive second) from the parsed tier
    assert.equal((await cache.verify(typed, [strict], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok, true);
    const r = await cache.verify(untyped, [strict], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    assert.equal(!r.ok && r.reason, 'token_type_not_allowed');
    assert.ok((await cache.verify(untyped, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(cache.size.parsed, 2);
    assert.equal((await cache.verify(typed, [strict], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok, true);
    const again = await cache.verify(untyped, [strict], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    assert.equal(!again.ok && again.reason, 'token_type_not_allowed');
    assert.equal(keys.resolves, 2, 'every later answer came from the cache');
  });

  test('a cached token is not accepted before its nbf', async () => {
    const cache = new TokenCache({ size: 10 });
    const token = await signToken(claims({ nbf: NOW - 5 }), { key: rsa });
    assert.ok((await cache.verify(token, [issuerA], registry, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    const early = await cache.verify(token, [issuerA], registry, { nowSec: NOW - 100, maxTokenBytes: MAX_BYTES });
    assert.equal(!early.ok && early.reason, 'token_not_yet_valid');
    assert.ok((await cache.verify(token, [issuerA], registry, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(cache.size.parsed, 1);
    const earlyParsed = await cache.verify(token, [issuerA], registry, { nowSec: NOW - 100, maxTokenBytes: MAX_BYTES });
    assert.equal(!earlyParsed.ok && earlyParsed.reason, 'token_not_yet_valid');
  });

  // Uses before the change: 1 leaves the verdict only, 2 the parsed claims as well.
  for (const uses of [1, 2]) {
    test(`a change of the issuer fingerprint (its settings) verifies again under the new settings (after ${uses} use(s))`, async () => {
      const keys = counted(registry);
      const cache = new TokenCache({ size: 10 });
      const token = await signToken(claims(), { key: rsa });
      for (let i = 0; i < uses; i++) assert.ok((await cache.verify(token, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
      assert.equal(cache.size.parsed, uses - 1);
      const narrowed: CompiledIssuer = { ...issuerA, audiences: ['other-api'], fingerprint: `${issuerA.fingerprint}+aud` };
      const r = await cache.verify(token, [narrowed], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
      assert.equal(!r.ok && r.reason, 'audience_mismatch');
      assert.equal(keys.resolves, 2);
    });

    test(`a token cached for one issuer is not used for a rule that does not accept that issuer (after ${uses} use(s))`, async () => {
      const cache = new TokenCache({ size: 10 });
      const token = await signToken(claims(), { key: rsa });
      for (let i = 0; i < uses; i++) assert.ok((await cache.verify(token, [issuerA], registry, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
      const r = await cache.verify(token, [], registry, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
      assert.equal(!r.ok && r.reason, 'untrusted_issuer');
    });
  }

  test('a key removed from the JWKS stops verifying cached tokens after the next refresh', async () => {
    const server: JwksServer = await startJwksServer({ jwks: jwksOf(rsa, other) });
    const reg = new KeyRegistry({ logger: silentLogger() });
    try {
      const remote = makeIssuer({
        name: 'remote',
        issuer: server.url,
        jwks: { uri: server.jwksUrl, allowInsecureHttp: true, refreshIntervalMs: 100, minRefreshIntervalMs: 50 },
      });
      reg.sync([remote]);
      await reg.waitReady(5000);
      const cache = new TokenCache({ size: 10 });
      const now = Math.floor(Date.now() / 1000);
      const token = await signToken({ iss: server.url, aud: 'api', exp: now + 600 }, { key: rsa });
      const opts = () => ({ nowSec: Math.floor(Date.now() / 1000), maxTokenBytes: MAX_BYTES });
      assert.ok((await cache.verify(token, [remote], reg, opts())).ok);
      const before = reg.keysVersion(remote);
      server.setJwks(jwksOf(other));
      const r = await eventually(async () => {
        const v = await cache.verify(token, [remote], reg, opts());
        return v.ok ? undefined : v;
      }, 5000);
      assert.equal(r!.reason, 'unknown_kid');
      assert.notEqual(reg.keysVersion(remote), before);
    } finally {
      reg.close();
      await server.close();
    }
  });

  test('an unchanged JWKS refresh keeps the key-set version (the cache survives routine refreshes)', async () => {
    const server: JwksServer = await startJwksServer({ jwks: jwksOf(rsa) });
    const reg = new KeyRegistry({ logger: silentLogger() });
    try {
      const remote = makeIssuer({ name: 'steady', issuer: server.url, jwks: { uri: server.jwksUrl, allowInsecureHttp: true, refreshIntervalMs: 50, minRefreshIntervalMs: 10 } });
      reg.sync([remote]);
      await reg.waitReady(5000);
      const v = reg.keysVersion(remote);
      assert.notEqual(v, undefined);
      await eventually(() => server.count('/jwks') >= 3, 5000);
      assert.equal(reg.keysVersion(remote), v);
    } finally {
      reg.close();
      await server.close();
    }
  });

  test('a disabled cache (size 0) verifies every time', async () => {
    const keys = counted(registry);
    const cache = new TokenCache({ size: 0 });
    const token = await signToken(claims(), { key: rsa });
    for (let i = 0; i < 3; i++) assert.ok((await cache.verify(token, [issuerA], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES })).ok);
    assert.equal(keys.resolves, 3);
    assert.equal(cache.size.verified, 0);
  });
});

describe('rejected-token cache', () => {
  test('a flood of one forged token costs one signature check', async () => {
    const keys = counted(registry);
    const { n, c } = counters();
    const cache = new TokenCache({ size: 10, counters: c });
    const forged = await signToken(claims(), { key: attacker });
    for (let i = 0; i < 5; i++) {
      const r = await cache.verify(forged, RULE, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
      assert.equal(!r.ok && r.reason, 'bad_signature');
    }
    assert.equal(keys.resolves, 1);
    assert.equal(n.rejected, 4);
  });

  test('remembers bad signatures only for a short time', async () => {
    let ms = NOW * 1000;
    const keys = counted(registry);
    const cache = new TokenCache({ size: 10, now: () => ms });
    const forged = await signToken(claims(), { key: attacker });
    await cache.verify(forged, RULE, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    ms += 10_001;
    await cache.verify(forged, RULE, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    assert.equal(keys.resolves, 2);
  });

  test('is bounded: distinct forged tokens never hold more than its capacity', async () => {
    const cache = new TokenCache({ size: 10 });
    const sig = (await signToken(claims(), { key: attacker })).split('.')[2]!;
    for (let i = 0; i < REJECTED_CACHE_SIZE + 50; i++) {
      // distinct malformed payloads: cheap to produce, each one negative-cached
      await cache.verify(forgeToken({ alg: 'RS256' }, `bad${i}!`, sig), RULE, registry, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    }
    assert.equal(cache.size.rejected, REJECTED_CACHE_SIZE);
  });

  test('never caches unknown_kid: a key rotated in later must verify at once', async () => {
    const keys = counted(registry);
    const { n, c } = counters();
    const cache = new TokenCache({ size: 10, counters: c });
    const unknown = await signToken(claims(), { key: rsa, kid: 'not-yet-published' });
    for (let i = 0; i < 3; i++) {
      const r = await cache.verify(unknown, RULE, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
      assert.equal(!r.ok && r.reason, 'unknown_kid');
    }
    assert.equal(keys.resolves, 3);
    assert.equal(n.rejected, 0);
    assert.equal(cache.size.rejected, 0);
  });

  test('a cached bad signature is not reused for a rule with other issuers', async () => {
    const keys = counted(registry);
    const cache = new TokenCache({ size: 10 });
    const forged = await signToken(claims(), { key: attacker });
    await cache.verify(forged, RULE, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    await cache.verify(forged, RULE, keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    assert.equal(keys.resolves, 1);
    await cache.verify(forged, [issuerA, makeIssuer({ name: 'x', issuer: 'https://x' })], keys, { nowSec: NOW, maxTokenBytes: MAX_BYTES });
    assert.equal(keys.resolves, 2);
  });
});

describe('token cache in the request path', () => {
  const signer = generateKey('RS256', 'k1');
  const resources = (revokedJti?: string): AnyResource[] => {
    const docs = [issuerDoc({ keys: [signer.jwk] }), paymentsPolicy()] as unknown as AnyResource[];
    if (revokedJti) {
      docs.push({ apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'r' }, spec: { issuer: 'corp-idp', jtis: [revokedJti] } } as AnyResource);
    }
    return docs;
  };
  const request = (token: string): AuthRequest => ({
    method: 'GET',
    host: 'payments.example.com',
    path: '/v1/accounts',
    headers: new Map([['authorization', [`Bearer ${token}`]]]),
    contextExtensions: {},
    requestId: 'r-1',
    scheme: 'https',
    source: { principal: '', address: '' },
    destination: { principal: '', address: '' },
  });

  test('revocation is checked on every request, also for a cached token', async () => {
    const keys = new KeyRegistry({ logger: silentLogger() });
    try {
      const first = compileSnapshot(resources(), { namespace: 'default', generation: 1 }).snapshot!;
      keys.sync(first.issuers.values());
      await keys.waitReady(5000);
      const cache = new TokenCache({ size: 10 });
      const now = Math.floor(Date.now() / 1000);
      const token = await signToken({ iss: ISSUER, aud: AUDIENCE, sub: 'u', jti: 'j-1', iat: now, exp: now + 600, scope: 'payments:read' }, { key: signer });
      const ctx = (snapshot: typeof first) => ({ snapshot, keys, tokenCache: cache, nowSec: now, options: { unmatchedHost: 'deny' as const, maxTokenBytes: MAX_BYTES } });
      const served = await decideRequest(request(token), ctx(first));
      assert.equal(served.allow, true);
      assert.deepEqual(served.steps, [], 'the serving path builds no explanation');
      assert.equal(cache.size.verified, 1);
      const explained = await decideRequest(request(token), { ...ctx(first), explain: true });
      assert.deepEqual(explained.steps.map((s) => s.step), ['policy', 'rule', 'credential', 'verify', 'sender', 'scopes']);
      const revoked = compileSnapshot(resources('j-1'), { namespace: 'default', generation: 2 }).snapshot!;
      keys.sync(revoked.issuers.values());
      const d = await decideRequest(request(token), ctx(revoked));
      assert.equal(d.allow, false);
      assert.equal(d.reason, 'token_revoked');
    } finally {
      keys.close();
    }
  });
});
