/** An IdP outage: last good keys inside maxStaleness, 503 after it, retries with backoff, recovery. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_RETRY_MS, RETRY_JITTER, refreshDelayMs, retryDelayMs } from '../../src/keys/refresh-timing.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { JWKS_PATH } from '../helpers/jwks-server.js';
import { generateKey, jwksOf } from '../helpers/tokens.js';
import { FakeScheduler, MINUTE, decide, elapse, fetchCount, gauge, keyServer, load, registry, remoteIssuer, statusOf } from './keys-support.js';

const k1 = generateKey('RS256', 'k1');
const k2 = generateKey('ES256', 'k2');

describe('endpoint down', () => {
  test('past refreshInterval but inside maxStaleness tokens still verify; past maxStaleness 503; then recovers', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const reg = registry(clock, { metrics });
    const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 30_000, maxStalenessMs: 60 * MINUTE });
    await load(reg, issuer);
    const loadedAt = clock.now();
    s.setFault({ status: 503 });
    const failures = () => fetchCount(metrics, { issuer: issuer.key, outcome: 'http_error' });

    clock.advance(11 * MINUTE);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
    await reg.idle();
    assert.equal(await failures(), 1, 'the refresh failed');
    await elapse(clock, reg, 47 * MINUTE); // 58 min since the last success
    assert.equal(await failures(), 2, 'the retry failed');
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'still inside maxStaleness');
    let st = statusOf(reg, issuer);
    assert.deepEqual([st.state, st.ready, st.stale, st.staleSeconds], ['stale', true, true, 58 * 60]);
    assert.equal(st.lastRefresh, new Date(loadedAt).toISOString());

    clock.advance(2 * MINUTE + 1); // the next retry is due meanwhile: a Check now waits for it
    const r = await reg.resolve(issuer, { alg: 'RS256', kid: 'k1' });
    assert.deepEqual(r.ok ? 'ok' : [r.status, r.reason], ['unavailable', 'keys_unavailable'], 'past maxStaleness: 503, never the stale keys');
    assert.equal(await failures(), 3);
    st = statusOf(reg, issuer);
    assert.deepEqual([st.state, st.ready, st.keyCount], ['expired', false, 1]);
    assert.equal(await gauge(metrics, 'claimcheck_issuer_keys_ready', issuer.key), 0);
    assert.ok((await gauge(metrics, 'claimcheck_issuer_keys_stale_seconds', issuer.key))! >= 60 * 60);
    assert.equal(reg.keysVersion(issuer), undefined, 'caches of verified tokens step aside too');

    s.setFault(undefined);
    clock.advance(MINUTE);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'the next attempt after the cooldown recovers');
    st = statusOf(reg, issuer);
    assert.deepEqual([st.state, st.ready, st.stale, st.staleSeconds, st.error], ['fresh', true, false, 0, undefined]);
    assert.equal(s.count(JWKS_PATH), 5, 'load, refresh, two retries, recovery: nothing more');
  });

  test('a first load that fails is retried: the issuer becomes ready as soon as the IdP is up (no 20-minute wait)', async () => {
    const s = await keyServer([k1]);
    s.setFault({ closeConnection: true });
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = remoteIssuer(s, { minRefreshIntervalMs: 30_000 });
    assert.deepEqual([(await load(reg, issuer)).state], ['failed']);
    s.setFault(undefined);
    clock.advance(10_000);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'keys_unavailable', 'inside the cooldown: no new attempt');
    assert.equal(s.count(JWKS_PATH), 1);
    clock.advance(20_001);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
    assert.equal(s.count(JWKS_PATH), 2);
    assert.equal(statusOf(reg, issuer).state, 'fresh');
  });

  test('retries back off: no fetch before the delay, minRefreshInterval doubled per failure, capped at refreshInterval', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const jwks = { refreshIntervalMs: 5 * MINUTE, minRefreshIntervalMs: 30_000, maxStalenessMs: 24 * 60 * MINUTE };
    const issuer = remoteIssuer(s, jwks);
    await load(reg, issuer);
    s.setFault({ status: 500 });
    await elapse(clock, reg, jwks.refreshIntervalMs);
    assert.equal(statusOf(reg, issuer).failures, 1);
    // Each delay must hold off a fetch, from its timer or from a known-kid Check, until it has passed.
    const expected = [30_000, 60_000, 120_000, 240_000, 300_000, 300_000];
    for (const [i, delay] of expected.entries()) {
      const before = s.count(JWKS_PATH);
      clock.advance(delay - 1);
      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
      assert.equal(s.count(JWKS_PATH), before, `no retry before ${delay} ms (failure ${i + 1})`);
      clock.advance(Math.ceil(delay * RETRY_JITTER) + 1);
      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
      await reg.idle();
      assert.equal(statusOf(reg, issuer).failures, i + 2);
      assert.equal(s.count(JWKS_PATH), before + 1, `one retry after ${delay} ms plus jitter`);
    }
  });
});

describe('refresh timing', () => {
  const jwks = { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 30_000 };

  test('a successful fetch is next refreshed after refreshInterval, or max-age clamped to [max(minRefreshInterval, 1 s), refreshInterval]', () => {
    assert.equal(refreshDelayMs(jwks, undefined), 10 * MINUTE);
    assert.equal(refreshDelayMs(jwks, 120), 120_000);
    assert.equal(refreshDelayMs(jwks, 0), 30_000);
    assert.equal(refreshDelayMs(jwks, 86_400), 10 * MINUTE);
    assert.equal(refreshDelayMs({ refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 0 }, 0), MIN_RETRY_MS);
  });

  test('retry delays double from minRefreshInterval, cap at refreshInterval and add at most 20% jitter', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map((n) => retryDelayMs(jwks, n, () => 0)), [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    assert.equal(retryDelayMs(jwks, 1, () => 0.999999), 36_000);
    assert.equal(retryDelayMs(jwks, 9, () => 0.5), 660_000);
  });

  test('a retry never comes sooner than minRefreshInterval, nor than one second', () => {
    for (let n = 1; n < 40; n++) assert.ok(retryDelayMs(jwks, n) >= 30_000);
    assert.equal(retryDelayMs({ refreshIntervalMs: 1000, minRefreshIntervalMs: 0 }, 1, () => 0), MIN_RETRY_MS);
    assert.equal(retryDelayMs({ refreshIntervalMs: 500, minRefreshIntervalMs: 2000 }, 3, () => 0), 2000, 'minRefreshInterval wins over a smaller refreshInterval');
  });

  test('a due refresh also starts from a Check when the timers lag behind the clock', async () => {
    const s = await keyServer([k1]);
    let nowMs = 1_900_000_000_000;
    // Only the clock moves: the scheduler's timers are never run, as when the event loop lags.
    const reg = registry(new FakeScheduler(), { now: () => nowMs });
    const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE });
    await load(reg, issuer);
    nowMs += 10 * MINUTE;
    assert.equal(await decide(reg, issuer, k1, nowMs), 'ok', 'the Check does not wait for it');
    await reg.idle();
    assert.equal(s.count(JWKS_PATH), 2);
  });
});

describe('rotation during an outage', () => {
  test('an unknown kid still refetches once per cooldown while the endpoint fails, and a recovered endpoint brings the new key', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const reg = registry(clock, { coldWaitMs: 5000 });
    const issuer = remoteIssuer(s, { minRefreshIntervalMs: 30_000 });
    await load(reg, issuer);
    s.setFault({ status: 502 });
    clock.advance(30_000);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'unknown_kid');
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'unknown_kid');
    assert.equal(s.count(JWKS_PATH), 2);
    s.setFault(undefined);
    s.setJwks(jwksOf(k1, k2));
    clock.advance(30_000);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
    assert.equal(s.count(JWKS_PATH), 3);
  });
});
