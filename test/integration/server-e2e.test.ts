import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Fixture } from '../helpers/fixture-config.js';
import type { ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { createEnvoyClient, healthCheck } from '../helpers/envoy-client.js';

type Client = ReturnType<typeof createEnvoyClient>;

describe('claimcheck serve answers Envoy Check calls end to end', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: Client;
  const tokens: string[] = [];
  const sign = async (...a: Parameters<Fixture['sign']>) => {
    const t = await fx.sign(...a);
    tokens.push(t);
    return t;
  };

  let server: FixtureServer | undefined;
  before(async () => {
    server = await startFixtureServer(async (f) => {
      await f.write('revocations.yaml', [
        { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'incident' }, spec: { issuer: 'corp-idp', jtis: ['revoked-jti'] } },
      ]);
      // every allow is logged too: the log test needs a line about its allowed token
    }, ['--decision-log-allow-sample', '1']);
    ({ fx, cc, client } = server);
  });
  after(async () => {
    await server?.close();
  });

  const host = 'payments.example.com';

  test('reports SERVING on gRPC health and ready on /readyz once the config is loaded', async () => {
    assert.equal(await healthCheck(cc.grpcAddress, ''), 'SERVING');
    const r = await cc.http('/readyz');
    assert.equal(r.status, 200, r.body);
    assert.equal((await cc.http('/healthz')).status, 200);
  });

  test('allows a valid token and sets identity headers with overwrite semantics', async () => {
    const token = await sign({ sub: 'alice', tenant: 'acme' });
    const r = await client.check({ host, path: '/v1/accounts?x=1', method: 'GET', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.code, 0);
    assert.equal(r.headers['x-user-id'], 'alice');
    assert.equal(r.headers['x-tenant'], 'acme');
    for (const h of r.rawHeaders) {
      assert.equal(h.append?.value, false, `append false on ${h.header.key}`);
      assert.equal(h.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    }
  });

  test('replaces a spoofed x-user-id with the token subject and strips reserved-prefix headers', async () => {
    const token = await sign({ sub: 'alice' });
    const r = await client.check({ host, path: '/v1/x', headers: { authorization: `Bearer ${token}`, 'x-user-id': 'admin', 'x-claimcheck-role': 'root' } });
    assert.equal(r.code, 0);
    assert.equal(r.headers['x-user-id'], 'alice');
    assert.ok(r.headersToRemove.includes('x-claimcheck-role'));
    assert.ok(!r.headersToRemove.includes('x-user-id'), 'a set header is never also removed');
    assert.ok(r.headersToRemove.includes('x-tenant'), 'an emitted header the token does not fill is removed');
  });

  test('an anonymous rule removes identity and reserved-prefix headers', async () => {
    const r = await client.check({ host, path: '/healthz', headers: { 'x-user-id': 'admin', 'x-tenant': 'acme', 'x-claimcheck-sub': 'admin' } });
    assert.equal(r.code, 0);
    for (const h of ['x-user-id', 'x-tenant', 'x-scopes', 'x-claimcheck-sub']) assert.ok(r.headersToRemove.includes(h), h);
    assert.equal(r.headers['x-user-id'], undefined);
  });

  test('an anonymous rule with a valid token still sets identity headers', async () => {
    const token = await sign({ sub: 'bob' });
    const r = await client.check({ host, path: '/healthz', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.code, 0);
    assert.equal(r.headers['x-user-id'], 'bob');
  });

  test('no token on a protected rule is 401 with a bare realm challenge', async () => {
    const r = await client.check({ host, path: '/v1/accounts', headers: { 'x-request-id': 'req-42' } });
    assert.equal(r.code, 16);
    assert.equal(r.httpStatus, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="payments.example.com"');
    const body = JSON.parse(r.body!);
    assert.equal(body.error, 'unauthorized');
    assert.equal(body.request_id, 'req-42');
  });

  test('an expired token is 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ iat: now - 1000, exp: now - 600 });
    const r = await client.check({ host, path: '/v1/accounts', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.code, 16);
    assert.equal(r.httpStatus, 401);
    assert.match(r.headers['www-authenticate']!, /^Bearer realm="payments\.example\.com", error="invalid_token", error_description="[^"]+"$/);
    assert.equal(JSON.parse(r.body!).error, 'invalid_token');
  });

  test('a revoked jti is 401 token revoked', async () => {
    const token = await sign({ jti: 'revoked-jti' });
    const r = await client.check({ host, path: '/v1/accounts', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.httpStatus, 401);
    assert.equal(JSON.parse(r.body!).error_description, 'token revoked');
  });

  test('a missing scope is 403 insufficient_scope naming the needed scopes', async () => {
    const token = await sign({ scope: 'payments:read', tenant: 'acme' });
    const r = await client.check({ host, path: '/v1/payments/1', method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.code, 7);
    assert.equal(r.httpStatus, 403);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="payments.example.com", error="insufficient_scope", scope="payments:write"');
  });

  test('a claim mismatch is 403 access_denied without a challenge', async () => {
    const token = await sign({ scope: 'payments:write', tenant: 'initech' });
    const r = await client.check({ host, path: '/v1/payments/1', method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.code, 7);
    assert.equal(r.httpStatus, 403);
    assert.equal(r.headers['www-authenticate'], undefined);
    assert.equal(JSON.parse(r.body!).error, 'access_denied');
  });

  test('a deny rule, an unmatched path and an unknown host are 403', async () => {
    const token = await sign();
    for (const [h, p] of [[host, '/v0/old'], [host, '/elsewhere'], ['unknown.example.org', '/v1/x']] as const) {
      const r = await client.check({ host: h, path: p, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.code, 7, `${h}${p}`);
      assert.equal(r.httpStatus, 403, `${h}${p}`);
    }
  });

  test('path traversal and encoded slashes are 400 invalid_request', async () => {
    for (const p of ['/v1/../v0/x', '/v1/%2e%2e/v0/x', '/v1/a%2Fb', '/v1/a%5cb']) {
      const r = await client.check({ host, path: p });
      assert.equal(r.code, 3, p);
      assert.equal(r.httpStatus, 400, p);
      assert.match(r.headers['www-authenticate']!, /error="invalid_request"/);
    }
  });

  test('two credentials in one request are 400', async () => {
    const a = await sign({ sub: 'a' });
    const b = await sign({ sub: 'b' });
    const r = await client.check({ host, path: '/v1/x', headers: { authorization: `Bearer ${a},Bearer ${b}` } });
    assert.equal(r.code, 3);
    assert.equal(r.httpStatus, 400);
    const m = await client.check({ host, path: '/v1/x', headerMap: [['authorization', `Bearer ${a}`], ['authorization', `Bearer ${b}`]] });
    assert.equal(m.httpStatus, 400);
  });

  test('the header_map shape is read like the headers map', async () => {
    const token = await sign({ sub: 'carol' });
    const r = await client.check({ host, path: '/v1/x', headerMap: [['authorization', `Bearer ${token}`], ['x-user-id', 'admin']] });
    assert.equal(r.code, 0);
    assert.equal(r.headers['x-user-id'], 'carol');
  });

  test('the host port, case and wildcard subdomains select the policy', async () => {
    const token = await sign();
    for (const h of ['PAYMENTS.example.com:8443', 'api.payments.svc.cluster.local', 'a.b.payments.svc.cluster.local:80']) {
      const r = await client.check({ host: h, path: '/v1/x', headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.code, 0, h);
    }
  });

  test('the claimcheck.io/policy context extension wins over the host', async () => {
    const r = await client.check({ host: 'unknown.example.org', path: '/healthz', contextExtensions: { 'claimcheck.io/policy': 'default/payments' } });
    assert.equal(r.code, 0);
    const missing = await client.check({ host, path: '/healthz', contextExtensions: { 'claimcheck.io/policy': 'default/nope' } });
    assert.equal(missing.httpStatus, 403);
  });

  test('exports check counters on /metrics', async () => {
    const count = (body: string, labels: string) => Number(new RegExp(`claimcheck_checks_total\\{${labels}\\} (\\d+)`).exec(body)?.[1] ?? 0);
    const allow = 'decision="allow",reason="allowed",policy="default/payments",protocol="grpc"';
    const missing = 'decision="deny",reason="missing_token",policy="default/payments",protocol="grpc"';
    const before = (await cc.http('/metrics')).body;
    // this test's own traffic: one allow and two denials
    assert.equal((await client.check({ host, path: '/v1/x', headers: { authorization: `Bearer ${await sign()}` } })).code, 0);
    for (let i = 0; i < 2; i++) assert.equal((await client.check({ host, path: '/v1/x' })).httpStatus, 401);
    const m = await cc.http('/metrics');
    assert.equal(m.status, 200);
    assert.equal(count(m.body, allow) - count(before, allow), 1);
    assert.equal(count(m.body, missing) - count(before, missing), 2);
    assert.match(m.body, /claimcheck_check_duration_seconds_bucket/);
  });

  test('never writes a token to its logs', async () => {
    // this test's own tokens, one allowed and two denied after verification; each gets a decision line
    const run = Date.now().toString(36);
    const own: { requestId: string; sub: string; reason: string; token: string }[] = [];
    for (const [sub, claims, reason] of [
      ['log-a', {}, 'allowed'],
      ['log-b', { scope: 'nothing', tenant: 'acme' }, 'insufficient_scope'],
      ['log-c', { exp: Math.floor(Date.now() / 1000) - 600 }, 'token_expired'],
    ] as const) {
      const requestId = `log-${sub}-${run}`;
      const token = await sign({ sub, ...claims });
      const method = reason === 'insufficient_scope' ? 'POST' : 'GET';
      const path = reason === 'insufficient_scope' ? '/v1/payments/1' : '/v1/x';
      await client.check({ host, path, method, headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } });
      own.push({ requestId, sub, reason, token });
    }
    for (const o of own) {
      const line = await cc.waitForLog((l) => l.log === 'decision' && l.requestId === o.requestId, 5_000);
      assert.equal(line.reason, o.reason, o.requestId);
      if (o.reason !== 'token_expired') assert.equal(line.sub, o.sub, 'the line is about this token');
    }
    const raw = cc.rawLog();
    // this test's tokens, and those the tests before it signed
    for (const t of [...own.map((o) => o.token), ...tokens]) {
      const [, payload, signature] = t.split('.');
      assert.ok(!raw.includes(signature!), 'a token signature appeared in the logs');
      assert.ok(!raw.includes(payload!), 'a token payload appeared in the logs');
    }
  });
});
