/**
 * TrustedIssuer `introspection` through a real claimcheck process over gRPC, against a local
 * HTTP introspection endpoint whose answers each test sets: client_secret_basic, the cache,
 * single flight, the hostile answers, the endpoint down, revocation and the one-issuer rule.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { AUDIENCE, resourceDoc } from '../helpers/fixture-config.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import type { ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import type { CheckOutcome, EnvoyClient } from '../helpers/envoy-client.js';

const ISS = 'https://opaque-idp.test.invalid';
const HOST = 'ledger.example.com';
const ONLY = 'https://opaque-only.test.invalid';
const CLIENT_SECRET = 'a secret with spaces & symbols';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };
/** resets: close the connection without an answer this many times first */
type Reply = { status?: number; body?: string; delayMs?: number; location?: string; resets?: number };

describe('token introspection over gRPC', () => {
  let server: FixtureServer;
  let cc: ClaimcheckProcess;
  let envoy: EnvoyClient;
  let endpoint: http.Server;
  /** token -> what the endpoint answers; every request is recorded */
  const replies = new Map<string, Reply>();
  const seen: { token: string; authorization: string | undefined; port: number }[] = [];
  const now = () => Math.floor(Date.now() / 1000);
  const active = (over: Record<string, unknown> = {}) => ({ body: JSON.stringify({ active: true, iss: ISS, aud: AUDIENCE, sub: 'ana', scope: 'ledger:read', client_id: 'app', exp: now() + 300, iat: now(), ...over }) });
  const opaque = () => randomBytes(24).toString('base64url');
  const asked = (token: string) => seen.filter((s) => s.token === token).length;
  const check = (token: string, host = HOST) => envoy.check({ host, path: '/entries', headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    endpoint = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token') ?? '';
        seen.push({ token, authorization: req.headers.authorization, port: req.socket.remotePort ?? 0 });
        const r = replies.get(token) ?? { body: JSON.stringify({ active: false }) };
        if (r.resets) {
          r.resets--;
          req.socket.destroy();
          return;
        }
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...(r.location ? { location: r.location } : {}) });
          res.end(r.body ?? '');
        }, r.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
    server = await startFixtureServer(async (f) => {
      const jwk = f.publicJwk('opaque-1');
      await f.writeRaw('secrets/client', `${CLIENT_SECRET}\n`);
      const introspection = { endpoint: url, clientId: 'claimcheck', clientSecretRef: { path: './secrets/client' }, cacheTTL: '2s', allowInsecureHttp: true };
      await f.write('ledger.yaml', [
        resourceDoc('TrustedIssuer', 'opaque-idp', { issuer: ISS, jwks: { inline: { keys: [jwk] } }, audiences: [AUDIENCE], introspection }),
        resourceDoc('TrustedIssuer', 'other-opaque', { issuer: 'https://other.test.invalid', jwks: { inline: { keys: [jwk] } }, audiences: [AUDIENCE], introspection }),
        resourceDoc('AuthPolicy', 'ledger', { hosts: [HOST], issuers: ['opaque-idp'], rules: [{ name: 'read', match: { paths: ['/**'] }, require: { scopes: { anyOf: ['ledger:read'] } } }], identity: { headers: { 'x-user-id': 'sub', 'x-client': 'client_id' } } }),
        resourceDoc('AuthPolicy', 'jwt-only', { hosts: ['jwt.example.com'], issuers: ['corp-idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }] }),
        resourceDoc('TrustedIssuer', 'opaque-only', { issuer: ONLY, audiences: [AUDIENCE], introspection }),
        resourceDoc('AuthPolicy', 'opaque-only', { hosts: ['only.example.com'], issuers: ['opaque-only'], rules: [{ name: 'all', match: { paths: ['/**'] } }] }),
        resourceDoc('AuthPolicy', 'two', { hosts: ['two.example.com'], issuers: ['opaque-idp', 'other-opaque'], rules: [{ name: 'all', match: { paths: ['/**'] } }] }),
        resourceDoc('TokenRevocation', 'revoked', { issuer: 'opaque-idp', jtis: ['revoked-jti'], subjects: [{ subject: 'mallory', issuedBefore: '2099-01-01T00:00:00Z' }] }),
      ]);
    }, ['--workers', '1']);
    ({ cc, client: envoy } = server);
  });
  after(async () => {
    await server?.close();
    endpoint?.close();
  });

  test('an active token: allowed, its members are the claims; client_secret_basic with form-encoded credentials', async () => {
    const t = opaque();
    replies.set(t, active());
    const r = await check(t);
    assert.equal(r.code, 0, r.body);
    assert.deepEqual([r.headers['x-user-id'], r.headers['x-client']], ['ana', 'app']);
    const auth = seen.find((s) => s.token === t)!.authorization!;
    assert.equal(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString(), `claimcheck:${new URLSearchParams({ v: CLIENT_SECRET }).toString().slice(2)}`);
  });

  test('a repeated token is introspected once; ten at once are one request', async () => {
    const t = opaque();
    replies.set(t, active());
    for (let i = 0; i < 3; i++) assert.equal((await check(t)).code, 0);
    assert.equal(asked(t), 1);
    const u = opaque();
    replies.set(u, { ...active(), delayMs: 50 });
    const all = await Promise.all(Array.from({ length: 10 }, () => check(u)));
    assert.ok(all.every((r) => r.code === 0));
    assert.equal(asked(u), 1);
  });

  test('inactive: 401, and the answer is reused for 10 s', async () => {
    const t = opaque();
    replies.set(t, { body: JSON.stringify({ active: false }) });
    for (let i = 0; i < 2; i++) {
      const r = await check(t);
      assert.equal(r.httpStatus, 401);
      assert.equal(errorOf(r).error_description, 'token is not active');
    }
    assert.equal(asked(t), 1);
  });

  test('hostile answers: active "true" as a string, another issuer, another audience, expired, a redirect, 10 MB, too slow', async () => {
    const cases: [Reply, number, string][] = [
      [active({ active: 'true' }), 401, 'token is not active'],
      [active({ iss: 'https://evil.test.invalid' }), 401, 'untrusted issuer'],
      [active({ aud: 'another-api' }), 401, 'audience not allowed'],
      [active({ exp: now() - 120 }), 401, 'token expired'],
      [{ status: 302, location: 'http://127.0.0.1:1/' }, 503, 'token introspection unavailable'],
      [{ body: JSON.stringify({ active: true, pad: 'x'.repeat(10 * 1024 * 1024) }) }, 503, 'token introspection unavailable'],
      [{ ...active(), delayMs: 1000 }, 503, 'token introspection unavailable'],
    ];
    for (const [reply, status, description] of cases) {
      const t = opaque();
      replies.set(t, reply);
      const started = Date.now();
      const r = await check(t);
      assert.deepEqual([r.httpStatus, errorOf(r).error_description], [status, description], JSON.stringify(reply).slice(0, 80));
      assert.ok(Date.now() - started < 900, 'a slow endpoint is not waited for');
    }
  });

  test('the slow answer that arrives later fills the cache: the retry is allowed', async () => {
    const t = opaque();
    replies.set(t, { ...active(), delayMs: 400 });
    assert.equal((await check(t)).httpStatus, 503);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await check(t)).code, 0);
    assert.equal(asked(t), 1);
  });

  test('the endpoint down: cached answers serve until their TTL, then 503', async () => {
    const t = opaque();
    replies.set(t, active());
    assert.equal((await check(t)).code, 0);
    replies.set(t, { status: 500, body: 'down' });
    assert.equal((await check(t)).code, 0, 'cached');
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal((await check(t)).httpStatus, 503);
  });

  test('an answer with cnf (RFC 9449 §6.2, RFC 8705 §3.2) binds the opaque token: as a bearer token it is refused', async () => {
    const dpopBound = opaque();
    replies.set(dpopBound, active({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }));
    const r = await check(dpopBound);
    assert.equal(r.httpStatus, 401);
    assert.match(r.headers['www-authenticate'] ?? '', /^DPoP /);
    const certBound = opaque();
    replies.set(certBound, active({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }));
    assert.equal((await check(certBound)).httpStatus, 401);
  });

  test('revocation applies to introspected tokens: by jti, and by subject for tokens issued before the cut-off', async () => {
    for (const over of [{ jti: 'revoked-jti' }, { sub: 'mallory' }]) {
      const t = opaque();
      replies.set(t, active(over));
      const r = await check(t);
      assert.deepEqual([r.httpStatus, errorOf(r).error_description], [401, 'token revoked'], JSON.stringify(over));
    }
  });

  test('an opaque token is never sent to a rule without an introspection issuer; two per rule is a validation error', async () => {
    const t = opaque();
    replies.set(t, active());
    const r = await check(t, 'jwt.example.com');
    assert.deepEqual([r.httpStatus, errorOf(r).error_description], [401, 'malformed token']);
    assert.equal(asked(t), 0);
    const ready = JSON.parse((await cc.http('/readyz')).body) as { rejected: string[] };
    assert.ok(ready.rejected.some((x) => /AuthPolicy default\/two/.test(x) && /2 issuers with introspection/.test(x)), ready.rejected.join('\n'));
  });

  test('an issuer with introspection and no jwks: its opaque tokens are allowed, a JWT naming it has no key', async () => {
    const t = opaque();
    replies.set(t, active({ iss: ONLY }));
    assert.equal((await check(t, 'only.example.com')).code, 0);
    const jwt = await server.fx.sign({ iss: ONLY, aud: AUDIENCE, sub: 'ana', exp: now() + 300 }, { header: { kid: 'opaque-1' } });
    const r = await check(jwt, 'only.example.com');
    assert.equal(r.httpStatus, 401);
    assert.equal(errorOf(r).error, 'invalid_token');
  });

  test('metrics: endpoint requests by issuer and outcome, cache lookups by result', async () => {
    const metrics = (await cc.http('/metrics')).body;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const of = (outcome: string) => value(`claimcheck_introspection_requests_total{issuer="default/opaque-idp",outcome="${outcome}"}`);
    assert.ok(of('active') >= 8, metrics);
    assert.ok(of('inactive') >= 2);
    assert.equal(of('redirect'), 1);
    assert.equal(of('too_large'), 1);
    assert.ok(of('http_error') >= 1);
    assert.ok(value('claimcheck_introspection_cache_lookups_total{result="hit"}') >= 3);
    assert.ok(value('claimcheck_introspection_cache_lookups_total{result="miss"}') >= 10);
    assert.ok(!/claimcheck_introspection_requests_total\{[^}]*token/.test(metrics));
  });

  test('connections are kept alive; one reset on a reused connection is retried once on a new one', async () => {
    const [a, b] = [opaque(), opaque()];
    replies.set(a, active());
    replies.set(b, active());
    assert.equal((await check(a)).code, 0);
    assert.equal((await check(b)).code, 0);
    const ports = seen.filter((x) => x.token === a || x.token === b).map((x) => x.port);
    assert.equal(ports[0], ports[1], 'the second miss reuses the first connection');
    const once = opaque();
    replies.set(once, { ...active(), resets: 1 });
    assert.equal((await check(once)).code, 0);
    assert.equal(asked(once), 2);
    const always = opaque();
    replies.set(always, { ...active(), resets: 5 });
    assert.equal((await check(always)).httpStatus, 503);
    assert.equal(asked(always), 2, 'retried once only');
  });

  test('a rotated client secret is used within 2 s', async () => {
    await server.fx.writeRaw('secrets/client', 'the next secret\n');
    await new Promise((r) => setTimeout(r, 2100));
    const t = opaque();
    replies.set(t, active());
    assert.equal((await check(t)).code, 0);
    const auth = seen.find((x) => x.token === t)!.authorization!;
    assert.equal(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString(), 'claimcheck:the+next+secret');
  });

  test('tokens and the client secret never appear in the log', () => {
    const raw = cc.rawLog();
    assert.ok(!raw.includes(CLIENT_SECRET));
    for (const s of seen) assert.ok(!raw.includes(s.token));
  });
});
