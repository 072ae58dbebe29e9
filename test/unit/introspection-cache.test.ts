/**
 * keys/introspection-client.ts with a fake clock against a real local endpoint: how long an
 * answer is reused (cacheTTL, exp, 10 s for inactive, 0s), single flight, and the 150 ms wait.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { INACTIVE_TTL_MS, IntrospectionClient } from '../../src/keys/introspection-client.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { FakeScheduler, keyFile } from './keys-support.js';

describe('IntrospectionClient cache', () => {
  let server: http.Server;
  let url: string;
  const asked = new Map<string, number>();
  /** token -> the answer's members; absent: inactive */
  const answers = new Map<string, Record<string, unknown>>();
  let holdMs = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token') ?? '';
        asked.set(token, (asked.get(token) ?? 0) + 1);
        const a = answers.get(token);
        setTimeout(() => res.end(JSON.stringify(a ? { active: true, ...a } : { active: false })), holdMs);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  });
  after(() => server.close());

  const clientWith = (cacheTtlSec: number, clock: FakeScheduler, coldWaitMs = 5000) => {
    const introspection = { endpoint: url, clientId: 'c', clientAuth: 'client_secret_basic', assertionAudience: url, secretPath: keyFile('introspection-secret', 's'), cacheTtlSec, allowInsecureHttp: true, fingerprint: `f${cacheTtlSec}` };
    const issuer = { key: 'default/idp', issuer: 'https://idp.example', introspection } as unknown as CompiledIssuer;
    return new IntrospectionClient(issuer, { logger: silentLogger(), scheduler: clock, fetchTimeoutMs: 2000, coldWaitMs });
  };
  const nowSec = (clock: FakeScheduler) => Math.floor(clock.now() / 1000);

  test('an active answer is reused for cacheTTL, then asked again', async () => {
    const clock = new FakeScheduler();
    const c = clientWith(60, clock);
    answers.set('t-ttl', { exp: nowSec(clock) + 3600 });
    assert.equal((await c.introspect('t-ttl')).ok, true);
    clock.advance(59_999);
    assert.equal((await c.introspect('t-ttl')).ok, true);
    assert.equal(asked.get('t-ttl'), 1);
    clock.advance(1);
    await c.introspect('t-ttl');
    assert.equal(asked.get('t-ttl'), 2);
    c.close();
  });

  test('never past exp, even within cacheTTL', async () => {
    const clock = new FakeScheduler();
    const c = clientWith(600, clock);
    answers.set('t-exp', { exp: nowSec(clock) + 30 });
    await c.introspect('t-exp');
    clock.advance(29_000);
    await c.introspect('t-exp');
    assert.equal(asked.get('t-exp'), 1);
    clock.advance(1_000);
    await c.introspect('t-exp');
    assert.equal(asked.get('t-exp'), 2);
    c.close();
  });

  test('an inactive answer is reused for 10 s; cacheTTL 0s asks every time (the inactive answer still 10 s)', async () => {
    const clock = new FakeScheduler();
    const c = clientWith(60, clock);
    assert.equal((await c.introspect('t-inactive')).ok, false);
    clock.advance(INACTIVE_TTL_MS - 1);
    await c.introspect('t-inactive');
    assert.equal(asked.get('t-inactive'), 1);
    clock.advance(1);
    await c.introspect('t-inactive');
    assert.equal(asked.get('t-inactive'), 2);
    const zero = clientWith(0, clock);
    answers.set('t-zero', { exp: nowSec(clock) + 3600 });
    for (let i = 0; i < 3; i++) assert.equal((await zero.introspect('t-zero')).ok, true);
    assert.equal(asked.get('t-zero'), 3);
    c.close();
    zero.close();
  });

  test('one request in flight per token; a caller waits at most coldWaitMs, and the answer fills the cache', async () => {
    const clock = new FakeScheduler();
    const c = clientWith(60, clock, 150);
    answers.set('t-slow', { exp: nowSec(clock) + 3600 });
    holdMs = 100;
    const first = c.introspect('t-slow');
    const second = c.introspect('t-slow');
    clock.advance(150);
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a.ok, b.ok, !a.ok && a.reason], [false, false, 'introspection_unavailable']);
    holdMs = 0;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await c.introspect('t-slow')).ok, true);
    assert.equal(asked.get('t-slow'), 1);
    c.close();
  });
});
