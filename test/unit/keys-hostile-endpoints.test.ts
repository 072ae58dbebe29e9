/**
 * A JWKS endpoint that breaks or turns hostile after a good first load: every case keeps the old
 * keys verifying, makes exactly one request, and reports the failure in status() and in /metrics.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Metrics } from '../../src/telemetry/metrics.js';
import { JWKS_PATH, type JwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwksOf } from '../helpers/tokens.js';
import { FakeScheduler, MINUTE, ca, decide, fetchCount, gauge, keyServer, load, registry, remoteIssuer, statusOf } from './keys-support.js';

const k1 = generateKey('RS256', 'k1');
const k2 = generateKey('ES256', 'k2');

/** Just enough of a key server for what jwks-server cannot send: a 200 with an HTML page. */
async function htmlAfterFirstServer(): Promise<{ url: string; jwksUrl: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = https.createServer({ cert: ca().serverCert, key: ca().serverKey }, (_req, res) => {
    requests++;
    if (requests === 1) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwksOf(k1)));
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body><h1>Sign in</h1></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, jwksUrl: `${url}/jwks`, requests: () => requests, close: () => new Promise((r) => server.close(() => r())) };
}

interface Case {
  name: string;
  outcome: string;
  message: RegExp;
  /** breaks the endpoint after the first load */
  breakIt(s: JwksServer, extra: { redirectTarget: JwksServer }): void;
  /** the registry's limits (--key-fetch-timeout, --jwks-max-bytes, --jwks-max-keys) */
  limits?: { fetchTimeoutMs?: number; jwksMaxBytes?: number; jwksMaxKeys?: number };
}

const cases: Case[] = [
  { name: 'a body over 512 KiB', outcome: 'too_large', message: /524288 bytes/, breakIt: (s) => s.setFault({ hugeBodyBytes: 600 * 1024 }) },
  {
    name: 'more than 100 keys',
    outcome: 'too_many_keys',
    message: /more than 100 keys/,
    breakIt: (s) => s.setJwks({ keys: Array.from({ length: 101 }, (_, i) => ({ ...k2.jwk, kid: `many-${i}` })) }),
  },
  { name: 'a redirect', outcome: 'redirect', message: /302/, breakIt: (s, { redirectTarget }) => s.setFault({ redirectTo: redirectTarget.jwksUrl }) },
  { name: 'HTTP 500', outcome: 'http_error', message: /HTTP 500/, breakIt: (s) => s.setFault({ status: 500 }) },
  { name: 'invalid JSON', outcome: 'invalid_json', message: /not JSON/, breakIt: (s) => s.setFault({ invalidJson: true }) },
  { name: '`keys` not an array', outcome: 'invalid_jwks', message: /no keys array/, breakIt: (s) => s.setJwks({ keys: { k1: k1.jwk } } as never) },
  { name: 'no `keys` member', outcome: 'invalid_jwks', message: /no keys array/, breakIt: (s) => s.setJwks({ jwks: [k1.jwk] } as never) },
  { name: 'only unusable keys', outcome: 'no_usable_keys', message: /no usable keys/, breakIt: (s) => s.setJwks({ keys: [{ ...k1.jwk, use: 'enc' }] }) },
  { name: 'a closed connection', outcome: 'connect_error', message: /connection/, breakIt: (s) => s.setFault({ closeConnection: true }) },
  // The answer comes after three timeouts' worth: late enough to time out, soon enough not to keep the run alive.
  { name: 'a slow endpoint', outcome: 'timeout', message: /timed out after 300 ms/, breakIt: (s) => s.setFault({ delayMs: 1000 }), limits: { fetchTimeoutMs: 300 } },
  { name: 'a body over a lowered --jwks-max-bytes', outcome: 'too_large', message: /4096 bytes/, breakIt: (s) => s.setFault({ hugeBodyBytes: 8 * 1024 }), limits: { jwksMaxBytes: 4096 } },
  {
    name: 'more keys than a lowered --jwks-max-keys',
    outcome: 'too_many_keys',
    message: /more than 3 keys/,
    breakIt: (s) => s.setJwks({ keys: Array.from({ length: 4 }, (_, i) => ({ ...k2.jwk, kid: `few-${i}` })) }),
    limits: { jwksMaxKeys: 3 },
  },
];

describe('a broken or hostile JWKS endpoint after a good load', () => {
  for (const c of cases) {
    test(`${c.name}: old keys kept, one request, state reported as ${c.outcome}`, async () => {
      const s = await keyServer([k1]);
      const redirectTarget = await keyServer([k2]);
      const clock = new FakeScheduler();
      const metrics = new Metrics();
      const reg = registry(clock, { metrics, ...c.limits });
      // The refresh is due at 10 min; a cooldown past 11 min keeps the unknown kid below from refetching.
      const issuer = remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 2 * MINUTE });
      await load(reg, issuer);
      const loadedAt = clock.now();
      c.breakIt(s, { redirectTarget });
      clock.advance(11 * MINUTE);
      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'the due refresh runs in the background');
      await reg.idle();
      assert.equal(statusOf(reg, issuer).failures, 1, 'the refresh failed');

      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok', 'the old key still verifies');
      assert.equal(await decide(reg, issuer, k2, clock.now()), 'unknown_kid', 'nothing from the broken answer was taken');
      assert.equal(s.count(JWKS_PATH), 2, 'one request for the refresh, none for the retries yet');
      assert.equal(redirectTarget.totalRequests(), 0, 'redirects are never followed');

      const st = statusOf(reg, issuer);
      assert.deepEqual(
        [st.state, st.ready, st.stale, st.keyCount, st.errorCode, st.staleSeconds, st.lastRefresh],
        ['stale', true, true, 1, c.outcome, 11 * 60, new Date(loadedAt).toISOString()],
      );
      assert.match(st.error ?? '', c.message);
      assert.equal(await fetchCount(metrics, { issuer: issuer.key, document: 'jwks', outcome: c.outcome }), 1);
      assert.equal(await fetchCount(metrics, { issuer: issuer.key, document: 'jwks', outcome: 'ok' }), 1);
      assert.equal(await gauge(metrics, 'claimcheck_issuer_keys_stale_seconds', issuer.key), 11 * 60);
      assert.equal(await gauge(metrics, 'claimcheck_issuer_keys', issuer.key), 1);
      assert.equal(await gauge(metrics, 'claimcheck_issuer_keys_ready', issuer.key), 1);
    });
  }

  test('an HTML page with status 200: old keys kept, one request, state reported as invalid_json', async () => {
    const s = await htmlAfterFirstServer();
    try {
      const clock = new FakeScheduler();
      const metrics = new Metrics();
      const reg = registry(clock, { metrics });
      const issuer = remoteIssuer(s);
      await load(reg, issuer);
      clock.advance(11 * MINUTE);
      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
      await reg.idle();
      assert.equal(statusOf(reg, issuer).failures, 1, 'the refresh failed');
      assert.equal(await decide(reg, issuer, k1, clock.now()), 'ok');
      assert.equal(s.requests(), 2);
      const st = statusOf(reg, issuer);
      assert.deepEqual([st.state, st.errorCode, st.keyCount], ['stale', 'invalid_json', 1]);
      assert.doesNotMatch(st.error ?? '', /html|Sign in/i, 'server text never reaches the status');
      assert.equal(await fetchCount(metrics, { issuer: issuer.key, outcome: 'invalid_json' }), 1);
    } finally {
      await s.close();
    }
  });

  test('the same faults on the first load leave the issuer not ready, failing closed with 503', async () => {
    for (const c of cases) {
      const s = await keyServer([k1]);
      const redirectTarget = await keyServer([k2]);
      c.breakIt(s, { redirectTarget });
      const reg = registry(new FakeScheduler(), { ...c.limits });
      const issuer = remoteIssuer(s);
      const st = await load(reg, issuer);
      assert.deepEqual([st.state, st.ready, st.keyCount, st.errorCode], ['failed', false, 0, c.outcome], c.name);
      const r = await reg.resolve(issuer, { alg: 'RS256', kid: 'k1' });
      assert.deepEqual(r.ok ? 'ok' : [r.status, r.reason], ['unavailable', 'keys_unavailable'], c.name);
    }
  });
});
