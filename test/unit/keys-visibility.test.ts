/** What operators see of the key lifecycle: per-issuer metrics, one log line per state change, status for /readyz. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimcheckError, type ErrorCode } from '../../src/errors.js';
import { FETCH_OUTCOMES, describeFailure, outcomeOf } from '../../src/keys/fetch-outcome.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { generateKey, jwksOf } from '../helpers/tokens.js';
import { FakeScheduler, MINUTE, captureLogs, decide, elapse, gauge, keyServer, load, registry, remoteIssuer, statusOf } from './keys-support.js';

const k1 = generateKey('RS256', 'k1');
const k2 = generateKey('ES256', 'k2');

describe('key metrics', () => {
  test('seconds stale, readiness, key count and last refresh are computed at scrape time', async () => {
    const s = await keyServer([k1, k2]);
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const reg = registry(clock, { metrics });
    const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, maxStalenessMs: 60 * MINUTE });
    await load(reg, issuer);
    const loadedSec = Math.floor(clock.now() / 1000);
    const g = (name: string) => gauge(metrics, name, issuer.key);
    assert.deepEqual(
      [await g('claimcheck_issuer_keys'), await g('claimcheck_issuer_keys_ready'), await g('claimcheck_issuer_keys_stale_seconds'), await g('claimcheck_issuer_keys_last_refresh_timestamp_seconds')],
      [2, 1, 0, loadedSec],
    );
    s.setFault({ status: 500 });
    await elapse(clock, reg, 10 * MINUTE);
    assert.equal(statusOf(reg, issuer).failures, 1, 'the refresh failed');
    assert.equal(await g('claimcheck_issuer_keys_stale_seconds'), 600);
    await elapse(clock, reg, 1234_000); // the gauge follows the clock, not the number of retries
    assert.equal(await g('claimcheck_issuer_keys_stale_seconds'), 600 + 1234);
    assert.equal(await g('claimcheck_issuer_keys_ready'), 1);
    await elapse(clock, reg, 60 * MINUTE);
    assert.equal(await g('claimcheck_issuer_keys_ready'), 0, 'past maxStaleness');
    assert.equal(await g('claimcheck_issuer_keys_last_refresh_timestamp_seconds'), loadedSec);
    reg.sync([]);
    assert.equal(await g('claimcheck_issuer_keys'), undefined, 'a removed issuer leaves no stale series behind');
  });

  test('fetch outcomes are a small fixed set of label values', () => {
    const codes = ['key_fetch_refused', 'key_fetch_failed', 'key_fetch_tls', 'key_fetch_timeout', 'key_fetch_status', 'key_fetch_redirect',
      'key_fetch_too_large', 'key_fetch_invalid', 'jwks_invalid', 'jwks_too_many_keys', 'jwks_no_usable_keys', 'discovery_invalid',
      'discovery_issuer_mismatch', 'jwks_source_unavailable', 'something_new'];
    // 'something_new' stands for a code added later: it must fall back to `error`
    const seen = new Set(codes.map((c) => outcomeOf(new ClaimcheckError(c as ErrorCode, 'x'))));
    for (const o of seen) assert.ok((FETCH_OUTCOMES as readonly string[]).includes(o), o);
    assert.equal(seen.size, codes.length, 'each known code has its own outcome; an unknown one is `error`');
    assert.equal(outcomeOf(new ClaimcheckError('something_new' as ErrorCode, 'x')), 'error');
    assert.equal(outcomeOf(new TypeError('boom at https://secret.example/?token=abc')), 'error');
    assert.equal(describeFailure(new TypeError('boom at https://secret.example/?token=abc')), 'internal error');
  });

  test('counts discovery and JWKS fetches separately', async () => {
    const s = await keyServer([k1]);
    s.setDiscovery({ issuer: s.url, jwks_uri: s.jwksUrl });
    const metrics = new Metrics();
    const issuer = remoteIssuer(s, { uri: undefined, discovery: true });
    await load(registry(new FakeScheduler(), { metrics }), issuer);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`claimcheck_key_fetches_total\\{issuer="${issuer.key}",document="discovery",outcome="ok"\\} 1`));
    assert.match(text, new RegExp(`claimcheck_key_fetches_total\\{issuer="${issuer.key}",document="jwks",outcome="ok"\\} 1`));
  });
});

describe('key log lines', () => {
  test('one line per state change: loaded, serving stale, failing closed, recovered, keys changed; never key material', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const logs = captureLogs();
    const reg = registry(clock, { logger: logs.logger, coldWaitMs: 5000 });
    const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 30_000, maxStalenessMs: 60 * MINUTE });
    await load(reg, issuer);
    const jwksPath = new URL(s.jwksUrl).pathname;
    const servedBefore = s.count(jwksPath);
    s.setFault({ status: 500 });
    for (let i = 1; i <= 3; i++) {
      clock.advance(10 * MINUTE);
      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
      await reg.idle();
      assert.equal(statusOf(reg, issuer).failures, i);
    }
    clock.advance(31 * MINUTE);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'keys_unavailable');
    assert.equal(statusOf(reg, issuer).state, 'expired');
    // a scheduled retry and the Check's own fetch may both run at expiry, or be one fetch:
    // count the 500s the server really sent
    const failedFetches = s.count(jwksPath) - servedBefore;
    s.setFault(undefined);
    s.setJwks(jwksOf(k2));
    clock.advance(MINUTE);
    assert.equal(await decide(reg, issuer, k2, clock.now()), 'ok');
    await reg.idle();

    const info = logs.lines.filter((l) => l.level >= 30);
    assert.deepEqual(info.map((l) => l.msg), [
      'keys loaded',
      'key refresh failed: serving last good keys',
      'keys stale beyond maxStaleness: failing closed',
      'keys changed',
      'keys recovered',
    ]);
    const [loaded, stale, expired, changed] = info;
    assert.deepEqual([loaded!.issuer, loaded!.keyIds, loaded!.keyCount], [issuer.key, ['k1'], 1]);
    assert.deepEqual([stale!.level, stale!.code, stale!.error], [40, 'http_error', 'HTTP 500']);
    assert.equal(expired!.level, 50);
    assert.deepEqual([changed!.added, changed!.removed, changed!.replaced], [['k2'], ['k1'], []]);
    assert.ok(failedFetches >= 4, `${failedFetches} failed fetches`);
    assert.equal(logs.lines.filter((l) => l.msg === 'key load failed').length, failedFetches, 'every failed attempt is still logged, at debug');
    for (const secret of [String(k1.jwk.n).slice(0, 24), String(k2.jwk.x).slice(0, 24)]) assert.ok(!logs.raw().includes(secret));
  });

  test('reading status, metrics and key versions logs nothing; passing maxStaleness is logged when it happens, without any Check', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const metrics = new Metrics();
    const logs = captureLogs();
    const reg = registry(clock, { metrics, logger: logs.logger });
    const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 30_000, maxStalenessMs: 60 * MINUTE });
    await load(reg, issuer);
    s.setFault({ status: 500 });
    await elapse(clock, reg, 10 * MINUTE);
    const read = async () => [statusOf(reg, issuer).state, reg.keysVersion(issuer) !== undefined, await gauge(metrics, 'claimcheck_issuer_keys_ready', issuer.key)];
    const lines = logs.lines.length;
    assert.deepEqual(await read(), ['stale', true, 1]);
    assert.equal(logs.lines.length, lines, 'reads log nothing');
    await elapse(clock, reg, 50 * MINUTE + 1);
    assert.deepEqual(logs.messages().slice(-1), ['keys stale beyond maxStaleness: failing closed'], 'logged by the expiry, not by a read');
    const logged = logs.lines.length;
    assert.deepEqual(await read(), ['expired', false, 0]);
    assert.deepEqual(await read(), ['expired', false, 0]);
    assert.equal(logs.lines.length, logged);
  });

  test('a first load that fails is one error line; the eventual success is "keys loaded"', async () => {
    const s = await keyServer([k1]);
    s.setFault({ status: 404 });
    const clock = new FakeScheduler();
    const logs = captureLogs();
    const reg = registry(clock, { logger: logs.logger });
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    s.setFault(undefined);
    clock.advance(MINUTE);
    assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
    const info = logs.lines.filter((l) => l.level >= 30);
    assert.deepEqual(info.map((l) => [l.level, l.msg]), [[50, 'keys unavailable: first load failed, failing closed'], [30, 'keys loaded']]);
    assert.equal(info[1]!.afterFailures, 1);
  });
});

describe('key status for /readyz', () => {
  test('is plain JSON with state, keys, last refresh, seconds stale and a coarse error', async () => {
    const s = await keyServer([k1]);
    const clock = new FakeScheduler();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    s.setFault({ closeConnection: true });
    await elapse(clock, reg, 11 * MINUTE);
    assert.equal(statusOf(reg, issuer).failures, 1, 'the refresh failed');
    const st = JSON.parse(JSON.stringify(statusOf(reg, issuer))) as Record<string, unknown>;
    assert.deepEqual(st, {
      issuer: issuer.key,
      source: 'uri',
      state: 'stale',
      ready: true,
      keyCount: 1,
      keyIds: ['k1'],
      lastRefresh: new Date(clock.now() - 11 * MINUTE).toISOString(),
      staleSeconds: 660,
      stale: true,
      error: st.error,
      errorCode: 'connect_error',
      failures: 1,
    });
    assert.match(String(st.error), /^connection (failed|closed)/);
  });
});
