/** The HTTP authorization listener of a real claimcheck process, over real keep-alive connections. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixture, type Fixture } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { openHttp1, type Http1Connection, type Http1Response } from '../helpers/http1-connection.js';

const host = 'payments.example.com';
const one = (r: Http1Response, name: string) => r.headers.get(name)?.[0];
const removed = (r: Http1Response) => (one(r, 'x-envoy-auth-headers-to-remove') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const forward = (uri: string, extra: [string, string][] = []): [string, string][] => [['host', '127.0.0.1'], ['x-forwarded-uri', uri], ['x-forwarded-host', host], ['x-forwarded-method', 'GET'], ['x-forwarded-proto', 'https'], ...extra];

describe('HTTP authorization listener (--authz-http-addr)', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let conn: Http1Connection;
  let token: string;
  before(async () => {
    fx = await createFixture();
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--authz-http-addr', '127.0.0.1:0'] });
    assert.ok(cc.authzHttpPort > 0, 'the serving line names the listener');
    conn = await openHttp1({ port: cc.authzHttpPort });
    token = await fx.sign({ sub: 'alice', tenant: 'acme' });
  });
  after(async () => {
    conn?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  test('forward auth: allowed with the identity headers, and names the spoofable headers to remove', async () => {
    const r = await conn.request('GET', '/forward-auth', forward('/v1/accounts?x=1', [['authorization', `Bearer ${token}`], ['x-user-id', 'admin'], ['x-claimcheck-role', 'root']]));
    assert.equal(r.status, 200, r.body);
    assert.equal(one(r, 'x-user-id'), 'alice');
    assert.equal(one(r, 'x-tenant'), 'acme');
    assert.ok(removed(r).includes('x-claimcheck-role'));
    assert.ok(!removed(r).includes('x-user-id'), 'a header this answer sets is not also removed');
    assert.equal(r.body, '');
  });

  test('an alias of an identity header: removed in ext-authz mode, refused in forward-auth mode', async () => {
    const ext = await conn.request('GET', '/ext-authz/v1/accounts', [['host', host], ['authorization', `Bearer ${token}`], ['x_user_id', 'admin'], ['x_claimcheck_role', 'root']]);
    assert.equal(ext.status, 200, ext.body);
    assert.ok(removed(ext).includes('x_user_id'));
    assert.ok(removed(ext).includes('x_claimcheck_role'));
    const fwd = await conn.request('GET', '/forward-auth', forward('/v1/accounts', [['authorization', `Bearer ${token}`], ['x_user_id', 'admin']]));
    assert.equal(fwd.status, 400);
    assert.equal(JSON.parse(fwd.body).error_description, 'header name aliases an identity header');
    const plain = await conn.request('GET', '/forward-auth', forward('/v1/accounts', [['authorization', `Bearer ${token}`], ['x_request_id', 'r1']]));
    assert.equal(plain.status, 200, 'an underscore name that aliases nothing claimcheck sets is ordinary');
  });

  test('forward auth: method from X-Forwarded-Method, else X-Original-Method; URI from X-Original-URI and X-Original-URL', async () => {
    const write = forward('/v1/payments/p1', [['authorization', `Bearer ${token}`]]).map(([n, v]): [string, string] => (n === 'x-forwarded-method' ? [n, 'POST'] : [n, v]));
    const post = await conn.request('GET', '/forward-auth', write);
    assert.equal(post.status, 403, 'POST needs payments:write');
    assert.match(one(post, 'www-authenticate') ?? '', /error="insufficient_scope", scope="payments:write"/);
    assert.equal(JSON.parse(post.body).error, 'insufficient_scope');
    const nginx = await conn.request('GET', '/forward-auth', [['host', '127.0.0.1'], ['x-original-uri', '/v1/payments/p1'], ['x-original-method', 'PUT'], ['x-forwarded-host', host], ['authorization', `Bearer ${token}`]]);
    assert.equal(nginx.status, 403);
    const ingress = await conn.request('GET', '/forward-auth', [['host', '127.0.0.1'], ['x-original-url', `https://${host}/v1/accounts`], ['x-original-method', 'GET'], ['authorization', `Bearer ${token}`]]);
    assert.equal(ingress.status, 200, ingress.body);
    assert.equal(one(ingress, 'x-user-id'), 'alice');
  });

  test('ext-authz: the path follows the prefix, the host is Host, and X-Forwarded-* steer nothing', async () => {
    const allowed = await conn.request('GET', '/ext-authz/v1/accounts?page=2', [['host', host], ['authorization', `Bearer ${token}`], ['x-forwarded-uri', '/v0/legacy'], ['x-forwarded-host', 'other.example.com']]);
    assert.equal(allowed.status, 200, allowed.body);
    assert.equal(one(allowed, 'x-user-id'), 'alice');
    const legacy = await conn.request('GET', '/ext-authz/v0/legacy', [['host', host], ['authorization', `Bearer ${token}`], ['x-forwarded-uri', '/v1/accounts']]);
    assert.equal(legacy.status, 403, 'the deny rule for /v0/** applies, whatever X-Forwarded-Uri says');
    const otherHost = await conn.request('GET', '/ext-authz/v1/accounts', [['host', 'other.example.com'], ['authorization', `Bearer ${token}`], ['x-forwarded-host', host]]);
    assert.equal(otherHost.status, 403);
    assert.equal(JSON.parse(otherHost.body).error_description, 'no policy');
  });

  test('denials carry the gRPC table\'s status, challenge and body, and the connection stays usable after each', async () => {
    const cases: [string, string, [string, string][], number, RegExp | undefined, string][] = [
      ['no token', '/ext-authz/v1/x', [['host', host]], 401, /^Bearer realm="payments\.example\.com"$/, 'unauthorized'],
      ['bad token', '/ext-authz/v1/x', [['host', host], ['authorization', 'Bearer not.a.token']], 401, /error="invalid_token"/, 'invalid_token'],
      ['dot-dot', '/ext-authz/v1/../admin', [['host', host], ['authorization', `Bearer ${token}`]], 400, /error="invalid_request"/, 'invalid_request'],
      ['forward auth dot-dot', '/forward-auth', forward('/v1/a/../../admin', [['authorization', `Bearer ${token}`]]), 400, /error="invalid_request"/, 'invalid_request'],
      ['no URI', '/forward-auth', [['host', host]], 400, /forward auth request without the original URI/, 'invalid_request'],
      ['not an endpoint', '/other', [['host', host]], 404, undefined, 'invalid_request'],
      ['prefix without a slash', '/ext-authzv1', [['host', host]], 404, undefined, 'invalid_request'],
    ];
    for (const [what, target, headers, status, challenge, error] of cases) {
      const r = await conn.request('GET', target, headers);
      assert.equal(r.status, status, `${what}: ${r.body}`);
      if (challenge) assert.match(one(r, 'www-authenticate') ?? '', challenge, what);
      assert.equal(one(r, 'content-type'), 'application/json', what);
      assert.equal(one(r, 'cache-control'), 'no-store', what);
      assert.equal(JSON.parse(r.body).error, error, what);
      assert.equal(r.closed, false, `${what}: keep-alive`);
    }
    const after = await conn.request('GET', '/ext-authz/v1/x', [['host', host], ['authorization', `Bearer ${token}`]]);
    assert.equal(after.status, 200, 'the same connection answers the next request');
  });

  test('431 over 100 header lines or 60 KiB of headers, with the connection kept; past 80 KiB it closes', async () => {
    const c = await openHttp1({ port: cc.authzHttpPort });
    try {
      const lines = Array.from({ length: 100 }, (_, i): [string, string] => [`x-h${i}`, 'v']);
      const many = await c.request('GET', '/ext-authz/v1/x', [['host', host], ...lines]);
      assert.equal(many.status, 431);
      assert.equal(JSON.parse(many.body).error, 'invalid_request');
      assert.equal(many.closed, false);
      const big = await c.request('GET', '/ext-authz/v1/x', [['host', host], ['x-big', 'a'.repeat(61 * 1024)]]);
      assert.equal(big.status, 431);
      const fine = await c.request('GET', '/ext-authz/v1/x', [['host', host], ['authorization', `Bearer ${token}`], ...lines.slice(0, 90)]);
      assert.equal(fine.status, 200, '99 lines pass');
      const huge = await c.request('GET', '/ext-authz/v1/x', [['host', host], ['x-big', 'a'.repeat(90 * 1024)]]);
      assert.equal(huge.status, 431);
      assert.equal(huge.closed, true);
    } finally {
      c.close();
    }
  });

  test('a body is read and dropped up to 1 MiB; a larger one is a 413 and the connection closes', async () => {
    const c = await openHttp1({ port: cc.authzHttpPort });
    try {
      const small = await c.request('POST', '/ext-authz/v1/x', [['host', host], ['authorization', `Bearer ${token}`]], 'x'.repeat(10_000));
      assert.equal(small.status, 200);
      const next = await c.request('GET', '/ext-authz/v1/x', [['host', host]]);
      assert.equal(next.status, 401, 'the body did not leak into the next request');
      const large = await c.raw(`POST /ext-authz/v1/x HTTP/1.1\r\nhost: ${host}\r\ncontent-length: ${2 * 1024 * 1024}\r\n\r\n`);
      assert.equal(large.status, 413);
      assert.equal(large.closed, true);
    } finally {
      c.close();
    }
  });

  test('bytes that are not HTTP get a 400 denial, not a Node error page', async () => {
    const c = await openHttp1({ port: cc.authzHttpPort });
    try {
      const r = await c.raw('NOT HTTP AT ALL\r\n\r\n');
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.body).error, 'invalid_request');
    } finally {
      c.close();
    }
  });

  test('counts decisions and refusals with protocol="http"', async () => {
    const m = (await cc.http('/metrics')).body;
    assert.match(m, /claimcheck_checks_total\{decision="allow",reason="allowed",policy="default\/payments",protocol="http"\} [1-9]/);
    assert.match(m, /claimcheck_checks_total\{decision="deny",reason="missing_token",policy="default\/payments",protocol="http"\} [1-9]/);
    assert.match(m, /claimcheck_malformed_requests_total\{kind="headers_too_large",protocol="http"\} [1-9]/);
    assert.match(m, /claimcheck_check_duration_seconds_count\{decision="allow",protocol="http"\} [1-9]/);
    assert.doesNotMatch(m, /protocol="grpc"/, 'no gRPC traffic in this suite');
  });

  test('never logs the token', () => {
    assert.ok(!cc.rawLog().includes(token.split('.')[2]!));
  });
});

describe('the answer cache (--answer-cache-size)', () => {
  test('a repeated request gets the answer it got decided; a new alias, path or revocation is decided afresh', async () => {
    const fx = await createFixture();
    const cc = await startClaimcheck({ configDir: fx.dir, args: ['--authz-http-addr', '127.0.0.1:0', '--workers', '1'] });
    try {
      const c = await openHttp1({ port: cc.authzHttpPort });
      const req = forward('/v1/accounts', [['authorization', `Bearer ${await fx.sign({ sub: 'carol', jti: 'j-1' })}`], ['x-request-id', 'r-1']]);
      const withId = (id: string) => req.map(([n, v]): [string, string] => [n, n === 'x-request-id' ? id : v]);
      // decided; decided again (the token's second use: now remembered); answered from the cache
      const answers = [await c.request('GET', '/forward-auth', req), await c.request('GET', '/forward-auth', withId('r-2')), await c.request('GET', '/forward-auth', withId('r-3'))];
      for (const r of answers) assert.equal(r.status, 200, r.body);
      const headers = (r: Http1Response) => [...r.headers].filter(([n]) => n !== 'date');
      assert.deepEqual(headers(answers[2]!), headers(answers[0]!));
      assert.equal(one(answers[2]!, 'x-user-id'), 'carol');
      const hits = /claimcheck_answer_cache_lookups_total\{result="hit"\} (\d+)/.exec((await cc.http('/metrics')).body);
      assert.equal(hits?.[1], '1', 'the third request was a hit');
      const metrics = (await cc.http('/metrics')).body;
      assert.match(metrics, /claimcheck_checks_total\{decision="allow",reason="allowed",policy="default\/payments",protocol="http"\} 3/, 'a hit counts as the Check it answers');

      const alias = await c.request('GET', '/forward-auth', [...req, ['x_user_id', 'admin']]);
      assert.equal(alias.status, 400, 'an added alias of an identity header is refused, not answered from the cache');
      const legacy = await c.request('GET', '/forward-auth', req.map(([n, v]): [string, string] => [n, n === 'x-forwarded-uri' ? '/v0/accounts' : v]));
      assert.equal(legacy.status, 403);

      await fx.write('revoked.yaml', [{ apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'incident' }, spec: { issuer: 'corp-idp', jtis: ['j-1'] } }]);
      const revoked = await eventually(async () => {
        const r = await c.request('GET', '/forward-auth', req);
        return r.status === 401 ? r : undefined;
      }, 5_000, 50);
      assert.equal(JSON.parse(revoked!.body).error_description, 'token revoked');
      c.close();
    } finally {
      await cc.stop();
      await fx.cleanup();
    }
  });
});

describe('HTTP authorization listener on a unix socket', () => {
  test('answers on the socket path', async () => {
    const fx = await createFixture();
    const dir = await mkdtemp(join(tmpdir(), 'cc-authz-sock-'));
    const path = join(dir, 'authz.sock');
    const cc = await startClaimcheck({ configDir: fx.dir, args: ['--authz-http-addr', `unix:${path}`, '--workers', '1'] });
    try {
      const c = await openHttp1({ path });
      const r = await c.request('GET', '/forward-auth', forward('/v1/x', [['authorization', `Bearer ${await fx.sign({ sub: 'bob' })}`]]));
      c.close();
      assert.equal(r.status, 200, r.body);
      assert.equal(one(r, 'x-user-id'), 'bob');
    } finally {
      await cc.stop();
      await fx.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
