/** OIDC discovery: issuer check, jwks_uri under the same rules, and a re-read on its own interval. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { DISCOVERY_INTERVAL_MS } from '../../src/keys/remote-key-source.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { DISCOVERY_PATH, JWKS_PATH, type JwksServer } from '../helpers/jwks-server.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';
import { FakeScheduler, MINUTE, captureLogs, decide, elapse, fetchCount, keyServer, load, registry, remoteIssuer, statusOf } from './keys-support.js';

const k1 = generateKey('RS256', 'k1');
const k2 = generateKey('ES256', 'k2');

async function discoveryServer(): Promise<JwksServer> {
  const s = await keyServer([k1]);
  s.setDiscovery({ issuer: s.url, jwks_uri: s.jwksUrl });
  return s;
}

function discoveryIssuer(s: JwksServer, jwks: Parameters<typeof remoteIssuer>[1] = {}): CompiledIssuer {
  return remoteIssuer(s, { uri: undefined, discovery: true, refreshIntervalMs: 10 * MINUTE, ...jwks });
}

describe('OIDC discovery', () => {
  test('refuses a discovery document whose issuer differs from spec.issuer, and never fetches its jwks_uri', async () => {
    const s = await discoveryServer();
    const attacker = await keyServer([k2]);
    s.setDiscovery({ issuer: `${s.url}/`, jwks_uri: attacker.jwksUrl });
    const metrics = new Metrics();
    const st = await load(registry(new FakeScheduler(), { metrics }), discoveryIssuer(s));
    assert.deepEqual([st.state, st.ready, st.errorCode], ['failed', false, 'issuer_mismatch']);
    assert.equal(attacker.totalRequests(), 0);
    assert.equal(s.count(JWKS_PATH), 0);
    assert.equal(await fetchCount(metrics, { issuer: st.issuer, document: 'discovery', outcome: 'issuer_mismatch' }), 1);
  });

  test('refuses a discovery document that is not an object or has no jwks_uri', async () => {
    const s = await discoveryServer();
    for (const doc of [{ issuer: s.url }, { issuer: s.url, jwks_uri: 42 }, ['not', 'an', 'object']]) {
      s.setDiscovery(doc as never);
      const st = await load(registry(), discoveryIssuer(s));
      assert.deepEqual([st.ready, st.errorCode], [false, 'invalid_discovery'], JSON.stringify(doc));
    }
    assert.equal(s.count(JWKS_PATH), 0);
  });

  test('applies the JWKS rules to the discovered jwks_uri: http:// refused, caBundle the only roots', async () => {
    const plain = await keyServer([k1], { tls: null });
    const s = await discoveryServer();
    s.setDiscovery({ issuer: s.url, jwks_uri: plain.jwksUrl });
    assert.equal((await load(registry(), discoveryIssuer(s))).errorCode, 'refused');
    const foreign = await keyServer([k1], { tls: createTestCa('foreign CA') });
    s.setDiscovery({ issuer: s.url, jwks_uri: foreign.jwksUrl });
    assert.equal((await load(registry(), discoveryIssuer(s))).errorCode, 'tls_error');
    assert.equal(plain.totalRequests() + foreign.count(JWKS_PATH), 0);
  });

  test(`re-reads the discovery document on its own interval (${DISCOVERY_INTERVAL_MS / MINUTE} min), not at every JWKS refresh`, async () => {
    const s = await discoveryServer();
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = discoveryIssuer(s);
    await load(reg, issuer);
    for (let i = 1; i <= 5; i++) await elapse(clock, reg, 10 * MINUTE + 1);
    assert.deepEqual([s.count(DISCOVERY_PATH), s.count(JWKS_PATH)], [1, 6], 'five refreshes inside the hour: JWKS only');
    await elapse(clock, reg, 10 * MINUTE + 1);
    assert.deepEqual([s.count(DISCOVERY_PATH), s.count(JWKS_PATH)], [2, 7], 'the first refresh after the hour reads discovery again');
  });

  test('follows a jwks_uri that moved, after the re-read', async () => {
    const s = await discoveryServer();
    const moved = await keyServer([k2]);
    const clock = new FakeScheduler();
    const logs = captureLogs();
    const reg = registry(clock, { logger: logs.logger, discoveryIntervalMs: 30 * MINUTE });
    const issuer = discoveryIssuer(s);
    await load(reg, issuer);
    s.setDiscovery({ issuer: s.url, jwks_uri: moved.jwksUrl });
    for (const ms of [10 * MINUTE, 10 * MINUTE]) {
      await elapse(clock, reg, ms);
      assert.equal(moved.totalRequests(), 0, 'not before the discovery interval');
    }
    await elapse(clock, reg, 10 * MINUTE); // the refresh at 30 min reads discovery again
    assert.ok(statusOf(reg, issuer).keyIds.includes('k2'), 'the new keys');
    assert.equal(statusOf(reg, issuer).jwksUri, moved.jwksUrl);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
    assert.ok(logs.messages().includes('discovery: jwks_uri changed'));
  });

  test('refuses a re-read whose issuer differs: the old keys serve until maxStaleness, the new jwks_uri is never fetched', async () => {
    const s = await discoveryServer();
    const attacker = await keyServer([k2]);
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const reg = registry(clock, { metrics, discoveryIntervalMs: 20 * MINUTE });
    const issuer = discoveryIssuer(s, { maxStalenessMs: 60 * MINUTE });
    await load(reg, issuer);
    s.setDiscovery({ issuer: 'https://evil.example', jwks_uri: attacker.jwksUrl });
    await elapse(clock, reg, 10 * MINUTE);
    assert.equal(statusOf(reg, issuer).state, 'fresh', 'no re-read before the discovery interval');
    await elapse(clock, reg, 10 * MINUTE);
    const st = statusOf(reg, issuer);
    assert.deepEqual([st.state, st.errorCode, st.keyIds], ['stale', 'issuer_mismatch', ['k1']]);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'unknown_kid');
    await elapse(clock, reg, 50 * MINUTE + 1); // retries meanwhile, refused too; the keys were last confirmed at 10 min
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'keys_unavailable', 'no fallback to the old jwks_uri: past maxStaleness, 503');
    assert.equal(attacker.totalRequests(), 0);
    assert.ok((await fetchCount(metrics, { issuer: issuer.key, document: 'discovery', outcome: 'issuer_mismatch' })) >= 2);
  });

  test('an unreachable discovery endpoint on a re-read does not stop JWKS refreshes from the last validated jwks_uri', async () => {
    const s = await discoveryServer();
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const reg = registry(clock, { metrics, discoveryIntervalMs: 20 * MINUTE });
    const issuer = discoveryIssuer(s);
    await load(reg, issuer);
    await elapse(clock, reg, 10 * MINUTE);
    s.setFault({ status: 503 }, DISCOVERY_PATH);
    s.setJwks({ keys: [k1.jwk, k2.jwk] });
    await elapse(clock, reg, 10 * MINUTE); // the refresh at 20 min reads discovery again
    const st = statusOf(reg, issuer);
    assert.deepEqual([st.state, st.jwksUri], ['fresh', s.jwksUrl]);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
    assert.equal(await fetchCount(metrics, { issuer: issuer.key, document: 'discovery', outcome: 'http_error' }), 1);
  });

  test('a failed JWKS fetch makes the next attempt read discovery again, which may point elsewhere', async () => {
    const s = await discoveryServer();
    const moved = await keyServer([k2]);
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const reg = registry(clock, { metrics });
    const issuer = discoveryIssuer(s, { minRefreshIntervalMs: 30_000 });
    await load(reg, issuer);
    s.setFault({ status: 404 }, JWKS_PATH);
    await elapse(clock, reg, 10 * MINUTE + 1);
    assert.equal(statusOf(reg, issuer).errorCode, 'http_error');
    assert.equal(s.count(DISCOVERY_PATH), 1);
    s.setDiscovery({ issuer: s.url, jwks_uri: moved.jwksUrl });
    await elapse(clock, reg, 60_000);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok', 'the retry re-discovers and finds the moved set');
    assert.equal(s.count(DISCOVERY_PATH), 2);
    assert.equal(statusOf(reg, issuer).state, 'fresh');
  });
});
