import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { verifyToken } from '../../src/authn/verify-token.js';
import { COLD_WAIT_MS } from '../../src/keys/key-registry.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { DISCOVERY_PATH, JWKS_PATH } from '../helpers/jwks-server.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey, jwksOf, signRaw, signToken } from '../helpers/tokens.js';
import { FakeScheduler, MINUTE, decide, elapse, fetchCount, keyServer, load, registry, remoteIssuer, stallingServer, statusOf, stillPending } from './keys-support.js';

const k1 = generateKey('RS256', 'k1');
const k2 = generateKey('ES256', 'k2');

describe('remote key sources', () => {
  test('loads a JWKS over HTTPS from a private CA given in caBundle and verifies with it', async () => {
    const s = await keyServer([k1, k2]);
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    const st = await load(reg, issuer);
    assert.deepEqual(
      [st.source, st.state, st.ready, st.keyCount, st.keyIds, st.stale, st.staleSeconds, st.error],
      ['uri', 'fresh', true, 2, ['k1', 'k2'], false, 0, undefined],
    );
    assert.equal(st.lastRefresh, new Date(clock.now()).toISOString());
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
    assert.equal(s.count(JWKS_PATH), 1);
  });

  test('loads keys through OIDC discovery', async () => {
    const s = await keyServer([k1]);
    s.setDiscovery({ issuer: s.url, jwks_uri: s.jwksUrl });
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = remoteIssuer(s, { uri: undefined, discovery: true });
    const st = await load(reg, issuer);
    assert.deepEqual([st.source, st.ready, st.jwksUri], ['discovery', true, s.jwksUrl]);
    assert.equal(s.count(DISCOVERY_PATH), 1);
    assert.equal(s.count(JWKS_PATH), 1);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
  });

  test('refuses an http:// JWKS unless allowInsecureHttp is set', async () => {
    const s = await keyServer([k1], { tls: null });
    const refused = await load(registry(), remoteIssuer(s, { caBundle: undefined }));
    assert.deepEqual([refused.ready, refused.errorCode], [false, 'refused']);
    assert.match(refused.error ?? '', /allowInsecureHttp/);
    assert.equal(s.totalRequests(), 0);
    const allowed = await load(registry(), remoteIssuer(s, { caBundle: undefined, allowInsecureHttp: true }));
    assert.equal(allowed.ready, true);
  });

  test('trusts a private CA only through caBundle: without it, or with another CA, the TLS handshake fails', async () => {
    const s = await keyServer([k1]);
    const withBundle = await load(registry(), remoteIssuer(s));
    assert.equal(withBundle.ready, true);
    const noBundle = await load(registry(), remoteIssuer(s, { caBundle: undefined }));
    assert.deepEqual([noBundle.ready, noBundle.errorCode], [false, 'tls_error']);
    const otherBundle = await load(registry(), remoteIssuer(s, { caBundle: createTestCa('untrusted CA').caCert }));
    assert.deepEqual([otherBundle.ready, otherBundle.errorCode], [false, 'tls_error']);
    assert.equal(s.count(JWKS_PATH), 1, 'only the caBundle load got as far as a request');
    assert.doesNotMatch(`${noBundle.error} ${otherBundle.error}`, /127\.0\.0\.1|https?:/, 'errors stay coarse');
  });

  test('never uses keys marked for encryption, short RSA keys, private keys, remote symmetric keys, or keys whose alg disagrees', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const secret = randomBytes(32);
    const s = await keyServer([]);
    s.setJwks({
      keys: [
        k1.jwk,
        // k1's own material under other kids: what refuses these entries is their use and their private members.
        { ...k1.jwk, kid: 'enc', use: 'enc' },
        { ...(k1.privateKey.export({ format: 'jwk' }) as object), kid: 'priv', alg: 'RS256' },
        { ...(small.publicKey.export({ format: 'jwk' }) as object), kid: 'small', alg: 'RS256' },
        { kty: 'oct', k: secret.toString('base64url'), kid: 'hmac', alg: 'HS256' },
        { ...k2.jwk, kid: 'verify-less', key_ops: ['sign'] },
      ],
    });
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = remoteIssuer(s, {}, { algorithms: ['RS256', 'PS256', 'ES256', 'HS256'] });
    const st = await load(reg, issuer);
    assert.deepEqual([st.keyCount, st.keyIds], [1, ['k1']]);
    const nowSec = Math.floor(clock.now() / 1000);
    const payload = { iss: issuer.issuer, aud: 'api', exp: nowSec + 60 };
    const cases: [string, string, string][] = [
      ['use enc', await signToken(payload, { key: k1, kid: 'enc' }), 'unknown_kid'],
      ['private key published', await signToken(payload, { key: k1, kid: 'priv' }), 'unknown_kid'],
      ['1024-bit RSA', signRaw({ alg: 'RS256', kid: 'small' }, payload, small.privateKey), 'unknown_kid'],
      ['remote oct key', signRaw({ alg: 'HS256', kid: 'hmac' }, payload, secret, 'HS256'), 'unknown_kid'],
      ['key_ops without verify', await signToken(payload, { key: k2, kid: 'verify-less' }), 'unknown_kid'],
      // k1 says alg RS256: a PS256 token naming it finds no key, although PS256 is allowed and the key is RSA.
      ['alg mismatch (PS256 with an RS256 key)', await signToken(payload, { key: k1, alg: 'PS256' }), 'no_matching_key'],
      ['alg mismatch (HS256 keyed with the RSA key)', signRaw({ alg: 'HS256', kid: 'k1' }, payload, Buffer.from(String(k1.jwk.n)), 'HS256'), 'no_matching_key'],
    ];
    for (const [name, token, want] of cases) {
      const r = await verifyToken(token, [issuer], reg, { nowSec, maxTokenBytes: 16384 });
      assert.equal(r.ok ? 'ok' : r.reason, want, name);
    }
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'the one good key still verifies');
  });
});

describe('unknown kids and rotation', () => {
  test('1,000 concurrent requests with random unknown kids cause at most one fetch per cooldown, and all are denied', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const reg = registry(clock, { metrics });
    const issuer = remoteIssuer(s, { minRefreshIntervalMs: 30_000 });
    await load(reg, issuer);
    const burst = () =>
      Promise.all(Array.from({ length: 1000 }, () => reg.resolve(issuer, { alg: 'RS256', kid: randomBytes(8).toString('hex') })));
    const reasons = (rs: Awaited<ReturnType<typeof burst>>) => new Set(rs.map((r) => (r.ok ? 'ok' : r.reason)));
    const fetched = () => fetchCount(metrics, { issuer: issuer.key, document: 'jwks' });

    clock.advance(10_000);
    assert.deepEqual(reasons(await burst()), new Set(['unknown_kid']), 'inside the cooldown: denied at once');
    assert.equal(s.count(JWKS_PATH), 1, 'no refetch inside the cooldown after the first load');

    clock.advance(20_001);
    const first = await burst();
    await reg.idle();
    assert.equal(await fetched(), 2, 'the shared refetch finished');
    // Callers that gave up waiting (coldWaitMs) while the refetch ran get 503, the rest 401: never allowed.
    for (const reason of reasons(first)) assert.ok(['unknown_kid', 'keys_unavailable'].includes(reason), reason);
    assert.deepEqual(reasons(await burst()), new Set(['unknown_kid']));
    assert.equal(s.count(JWKS_PATH), 2, 'one refetch shared by 2,000 callers');

    clock.advance(30_000);
    await burst();
    await reg.idle();
    assert.equal(await fetched(), 3, 'the next refetch finished');
    assert.equal(s.count(JWKS_PATH), 3, 'one more after the next cooldown');
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
  });

  test('the IdP adds a key and signs with it: allowed after exactly one refetch', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const reg = registry(clock, { coldWaitMs: 5000 });
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'unknown_kid', 'inside the cooldown after the first load');
    s.setJwks(jwksOf(k1, k2));
    clock.advance(MINUTE);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok', 'the first request with the new kid');
    assert.equal(s.count(JWKS_PATH), 2);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
    assert.equal(s.count(JWKS_PATH), 2, 'known kids never refetch');
  });

  test('the IdP removes a key: its tokens verify until the next refresh and are denied after it', async () => {
    const s = await keyServer([k1, k2]);
    const clock = new FakeScheduler();
    const reg = registry(clock, { coldWaitMs: 5000 });
    const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE });
    await load(reg, issuer);
    s.setJwks(jwksOf(k2));
    clock.advance(5 * MINUTE);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'before the next refresh the removed key is still held');
    assert.equal(s.count(JWKS_PATH), 1);
    await elapse(clock, reg, 5 * MINUTE + 1);
    assert.equal(statusOf(reg, issuer).keyCount, 1, 'the refresh');
    assert.equal(s.count(JWKS_PATH), 2);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'unknown_kid');
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
  });

  test('refreshes on Cache-Control max-age sooner than refreshInterval', async () => {
    const s = await keyServer([k1]);
    s.setCacheControl('public, max-age=1');
    const clock = new FakeScheduler();
    const reg = registry(clock);
    await load(reg, remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 500 }));
    await elapse(clock, reg, 999);
    assert.equal(s.count(JWKS_PATH), 1, 'not before max-age');
    await elapse(clock, reg, 1);
    assert.equal(s.count(JWKS_PATH), 2, 'a second fetch when max-age has passed');
  });

  test('a max-age of 0 (or no-store) does not loop: refreshes stay at least a second apart', async () => {
    const s = await keyServer([k1]);
    s.setCacheControl('no-store');
    const clock = new FakeScheduler();
    const reg = registry(clock);
    await load(reg, remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 0 }));
    for (const n of [2, 3]) {
      await elapse(clock, reg, 999);
      assert.equal(s.count(JWKS_PATH), n - 1, `fetch ${n} not within a second of the one before`);
      await elapse(clock, reg, 1);
      assert.equal(s.count(JWKS_PATH), n);
    }
  });
});

describe('a Check never waits long for keys', () => {
  test(`answers 503 keys_unavailable within the default cold wait (${COLD_WAIT_MS} ms) while the first fetch hangs`, async () => {
    const s = await stallingServer([k1]);
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    reg.sync([issuer]);
    const pending = reg.resolve(issuer, { alg: 'RS256', kid: 'k1' });
    clock.advance(COLD_WAIT_MS - 1);
    assert.ok(await stillPending(pending), 'still waiting just before the cold wait ends');
    clock.advance(1);
    const r = await pending;
    assert.deepEqual(r.ok ? r : [r.status, r.reason], ['unavailable', 'keys_unavailable']);
  });

  test('an unknown kid whose refetch is still running after the wait is a 503, not a 401', async () => {
    const s = await stallingServer([k1], 1);
    const clock = new FakeScheduler();
    const reg = registry(clock, { coldWaitMs: 100 });
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    clock.advance(MINUTE);
    const pending = reg.resolve(issuer, { alg: 'ES256', kid: 'k2' });
    clock.advance(100);
    const r = await pending;
    assert.deepEqual(r.ok ? r : [r.status, r.reason], ['unavailable', 'keys_unavailable']);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'known kids are not held up by the refetch');
  });
});

describe('KeyRegistry.sync', () => {
  test('reuses a key set while keysFingerprint is unchanged and replaces it when it changes', async () => {
    const s = await keyServer([k1]);
    const reg = registry();
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    reg.sync([{ ...issuer, audiences: ['other'], fingerprint: 'changed' }]);
    await reg.waitReady(5000);
    assert.equal(s.count(JWKS_PATH), 1);
    reg.sync([{ ...issuer, keysFingerprint: 'changed' }]);
    await reg.waitReady(5000);
    assert.equal(s.count(JWKS_PATH), 2);
    reg.sync([]);
    assert.deepEqual(reg.status(), []);
  });
});
