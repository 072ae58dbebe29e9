/**
 * claimcheck behind Envoy's HTTP ext_authz client, configured as deploy/envoy/envoy-http.yaml:
 * a real claimcheck process gets byte for byte the request Envoy sends (test/helpers/
 * envoy-http-authz.ts, modelled from Envoy's source), and its answer is read the way
 * Envoy reads it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import YAML from 'yaml';
import { BIN, REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { openHttp1, type Http1Connection, type Http1Response } from '../helpers/http1-connection.js';
import { ENVOY_ADDRESS, checkRequest, envoyOutcome, fromExtAuthz, type DownstreamRequest, type EnvoyHttpAuthz } from '../helpers/envoy-http-authz.js';
import { createFixture, issuerDoc, type Fixture } from '../helpers/fixture-config.js';

const bootstrap = YAML.parse(readFileSync(join(REPO, 'deploy/envoy/envoy-http.yaml'), 'utf8'));
const ENVOY: EnvoyHttpAuthz = fromExtAuthz(bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config);

function demoToken(scope: string, extra: string[] = []): string {
  const r = spawnSync(process.execPath, [BIN, 'demo-token', '--sub', 'alice', '--scope', scope, ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** What the connection manager hands the filter for `curl -H ... localhost:8080<path>` (use_remote_address: true). */
function downstream(method: string, path: string, headers: [string, string][] = []): DownstreamRequest {
  return {
    method,
    path,
    authority: 'localhost:8080',
    headers: [['user-agent', 'curl/8.5.0'], ['accept', '*/*'], ['x-forwarded-for', '10.0.0.7'], ['x-forwarded-proto', 'http'], ['x-request-id', 'req-1'], ['x-envoy-external-address', '10.0.0.7'], ...headers],
  };
}

const one = (r: Http1Response, name: string) => r.headers.get(name)?.[0];
const removed = (r: Http1Response) => (one(r, 'x-envoy-auth-headers-to-remove') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const upstream = (o: ReturnType<typeof envoyOutcome>, name: string) => (o.kind === 'allowed' ? o.upstreamHeaders.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v) : assert.fail(`not allowed: ${JSON.stringify(o)}`));

describe('claimcheck behind Envoy http_service (deploy/envoy/envoy-http.yaml, bundled examples)', () => {
  let cc: ClaimcheckProcess;
  let conn: Http1Connection;
  const ask = async (req: DownstreamRequest) => {
    const sent = checkRequest(ENVOY, req);
    const answer = await conn.request(sent.method, sent.target, sent.headers);
    return { sent, answer, outcome: envoyOutcome(ENVOY, req, answer) };
  };
  before(async () => {
    cc = await startClaimcheck({ configDir: join(REPO, 'examples'), args: ['--authz-http-addr', '127.0.0.1:0'] });
    conn = await openHttp1({ port: cc.authzHttpPort });
  });
  after(async () => {
    conn?.close();
    await cc?.stop();
  });

  test('the request Envoy sends: the method, /ext-authz + path and query, Host with its port, only the allowed headers, content-length 0, Envoy\'s own x-forwarded-for', () => {
    const sent = checkRequest(ENVOY, downstream('GET', '/api/orders?limit=5', [['authorization', 'Bearer x'], ['x-user-id', 'admin'], ['x-claimcheck-role', 'root']]));
    assert.equal(sent.method, 'GET');
    assert.equal(sent.target, '/ext-authz/api/orders?limit=5');
    assert.deepEqual(sent.headers, [
      ['host', 'localhost:8080'], ['x-request-id', 'req-1'], ['authorization', 'Bearer x'], ['x-claimcheck-role', 'root'],
      ['content-length', '0'], ['x-envoy-internal', 'true'], ['x-forwarded-for', ENVOY_ADDRESS], ['x-envoy-expected-rq-timeout-ms', '500'],
    ]);
  });

  test('allowed: 200 with the identity headers, which Envoy sets upstream over the spoofed ones; the token and x-claimcheck-* are removed', async () => {
    const { answer, outcome } = await ask(downstream('GET', '/api/orders?limit=5', [['authorization', `Bearer ${demoToken('api:read', ['--tenant', 'acme'])}`], ['x-user-id', 'admin'], ['x-claimcheck-role', 'root']]));
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.body, '');
    assert.equal(one(answer, 'x-user-id'), 'alice');
    assert.equal(one(answer, 'x-scopes'), 'api:read');
    assert.equal(one(answer, 'x-tenant'), 'acme');
    assert.ok(removed(answer).includes('authorization'), 'forwardToken: false');
    assert.ok(removed(answer).includes('x-claimcheck-role'), 'reserved prefix');
    assert.deepEqual(upstream(outcome, 'x-user-id'), ['alice']);
    assert.deepEqual(upstream(outcome, 'x-tenant'), ['acme']);
    assert.deepEqual(upstream(outcome, 'authorization'), []);
    assert.deepEqual(upstream(outcome, 'x-claimcheck-role'), []);
    assert.equal(outcome.kind === 'allowed' && outcome.clientHeaders.length, 0, 'nothing extra to the client on success');
  });

  test('an identity header the answer does not set is removed although Envoy never sent it to claimcheck', async () => {
    const { answer, sent, outcome } = await ask(downstream('GET', '/api/orders', [['authorization', `Bearer ${demoToken('api:read')}`], ['x-tenant', 'globex']]));
    assert.ok(!sent.headers.some(([n]) => n === 'x-tenant'), 'x-tenant is not in allowed_headers');
    assert.equal(answer.status, 200, answer.body);
    assert.ok(removed(answer).includes('x-tenant'), `removes ${removed(answer).join(', ')}`);
    assert.deepEqual(upstream(outcome, 'x-tenant'), []);
  });

  test('aliases of identity headers (x_user_id, x.tenant) reach claimcheck through the safe_regex pattern and are removed upstream', async () => {
    const { answer, sent, outcome } = await ask(downstream('GET', '/api/orders', [['authorization', `Bearer ${demoToken('api:read')}`], ['x_user_id', 'admin'], ['x.tenant', 'globex'], ['x-trace', 't']]));
    assert.ok(sent.headers.some(([n]) => n === 'x_user_id') && !sent.headers.some(([n]) => n === 'x-trace'), 'only names outside [a-z0-9-] are added');
    assert.equal(answer.status, 200, answer.body);
    assert.ok(removed(answer).includes('x_user_id') && removed(answer).includes('x.tenant'), `removes ${removed(answer).join(', ')}`);
    assert.deepEqual(upstream(outcome, 'x_user_id'), []);
    assert.deepEqual(upstream(outcome, 'x.tenant'), []);
    assert.deepEqual(upstream(outcome, 'x-user-id'), ['alice']);
  });

  test('an anonymous rule sets nothing and removes every identity header name', async () => {
    const { answer, outcome } = await ask(downstream('GET', '/healthz', [['x-user-id', 'admin'], ['x-scopes', 'admin']]));
    assert.equal(answer.status, 200, answer.body);
    assert.equal(one(answer, 'x-user-id'), undefined);
    for (const h of ['x-user-id', 'x-scopes', 'x-tenant']) assert.ok(removed(answer).includes(h), h);
    assert.deepEqual(upstream(outcome, 'x-user-id'), []);
    assert.deepEqual(upstream(outcome, 'x-scopes'), []);
  });

  test('401 without a token: the challenge names the host without its port, the JSON body carries x-request-id, and the client gets both', async () => {
    const { answer, outcome } = await ask(downstream('GET', '/api/orders'));
    assert.equal(answer.status, 401);
    assert.equal(one(answer, 'www-authenticate'), 'Bearer realm="localhost"');
    assert.equal(one(answer, 'x-envoy-auth-headers-to-remove'), undefined);
    assert.deepEqual(JSON.parse(answer.body), { error: 'unauthorized', error_description: 'token required', request_id: 'req-1' });
    assert.equal(outcome.kind, 'denied');
    if (outcome.kind !== 'denied') return;
    assert.equal(outcome.status, 401);
    assert.equal(outcome.body, answer.body);
    const names = outcome.clientHeaders.map(([n]) => n).sort();
    assert.deepEqual(names, ['cache-control', 'content-length', 'content-type', 'www-authenticate']);
  });

  test('401 for a bad token and 403 for a missing scope or a deny rule, each with its challenge', async () => {
    const bad = await ask(downstream('GET', '/api/orders', [['authorization', 'Bearer not.a.token']]));
    assert.equal(bad.answer.status, 401);
    assert.match(one(bad.answer, 'www-authenticate') ?? '', /^Bearer realm="localhost", error="invalid_token", error_description="/);
    assert.equal(JSON.parse(bad.answer.body).error, 'invalid_token');
    const scope = await ask(downstream('DELETE', '/admin/users/7', [['authorization', `Bearer ${demoToken('api:read', ['--tenant', 'acme'])}`]]));
    assert.equal(scope.answer.status, 403);
    assert.equal(one(scope.answer, 'www-authenticate'), 'Bearer realm="localhost", error="insufficient_scope", scope="admin"');
    assert.equal(JSON.parse(scope.answer.body).error, 'insufficient_scope');
    const rule = await ask(downstream('GET', '/legacy/report', [['authorization', `Bearer ${demoToken('api:read')}`]]));
    assert.equal(rule.answer.status, 403);
    assert.equal(one(rule.answer, 'www-authenticate'), undefined);
    assert.equal(JSON.parse(rule.answer.body).error, 'access_denied');
    assert.equal(rule.outcome.kind === 'denied' && rule.outcome.status, 403);
  });

  test('two Authorization headers reach claimcheck joined with "," and are refused as several credentials', async () => {
    const t = demoToken('api:read');
    const { sent, answer } = await ask(downstream('GET', '/api/orders', [['authorization', `Bearer ${t}`], ['authorization', 'Bearer other']]));
    assert.deepEqual(sent.headers.filter(([n]) => n === 'authorization'), [['authorization', `Bearer ${t},Bearer other`]]);
    assert.equal(answer.status, 400, answer.body);
    assert.equal(JSON.parse(answer.body).error, 'invalid_request');
  });

  test('the keep-alive connection served every answer above', async () => {
    const { answer } = await ask(downstream('GET', '/healthz'));
    assert.equal(answer.closed, false);
    const m = (await cc.http('/metrics')).body;
    assert.match(m, /claimcheck_checks_total\{decision="allow",reason="allowed",policy="default\/demo",protocol="http"\} [1-9]/);
  });
});

describe('claimcheck\'s own failures are denials to Envoy, whatever its failure mode', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  before(async () => {
    fx = await createFixture();
    // An issuer whose JWKS cannot be fetched: every token is a 503 temporarily_unavailable.
    await fx.write('issuer.yaml', [{ ...issuerDoc({}), spec: { ...issuerDoc({}).spec, jwks: { uri: 'https://127.0.0.1:1/jwks.json' } } }]);
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--authz-http-addr', '127.0.0.1:0', '--keys-ready-timeout', '0s'] });
  });
  after(async () => {
    await cc?.stop();
    await fx?.cleanup();
  });

  test('on /ext-authz keys unavailable is a 403 with the temporarily_unavailable body, denied also under failure_mode_allow; forward auth keeps the 503', async () => {
    const conn = await openHttp1({ port: cc.authzHttpPort });
    try {
      const req: DownstreamRequest = { method: 'GET', path: '/v1/accounts', authority: 'payments.example.com', headers: [['authorization', `Bearer ${await fx.sign({ sub: 'bob' })}`]] };
      const sent = checkRequest(ENVOY, req);
      const answer = await conn.request(sent.method, sent.target, sent.headers);
      // a 503 would be an error to Envoy, which failure_mode_allow turns into an allow
      assert.equal(answer.status, 403, answer.body);
      assert.equal(JSON.parse(answer.body).error, 'temporarily_unavailable');
      assert.equal(answer.headers.get('cache-control')?.[0], 'no-store');
      for (const failureModeAllow of [false, true]) {
        const outcome = envoyOutcome({ ...ENVOY, failureModeAllow }, req, answer);
        assert.equal(outcome.kind, 'denied', `failure_mode_allow: ${failureModeAllow}`);
        assert.equal(outcome.kind === 'denied' && JSON.parse(outcome.body).error, 'temporarily_unavailable');
      }
      const forward = await conn.request('GET', '/forward-auth', [['host', '127.0.0.1'], ['x-forwarded-uri', '/v1/accounts'], ['x-forwarded-host', 'payments.example.com'], ['authorization', req.headers[0]![1]]]);
      assert.equal(forward.status, 503, 'forward-auth proxies deny on any non-2xx: the status stays');
    } finally {
      conn.close();
    }
  });
});
