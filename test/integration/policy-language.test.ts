/**
 * The policy language through the real server: CEL conditions, audit mode, dynamic
 * metadata (decoded with Envoy's own protos) and the decision log on stderr.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createFixture, paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { BIN, REPO, eventually, startClaimcheck, type ClaimcheckProcess, type LogLine } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type CheckInput, type EnvoyClient } from '../helpers/envoy-client.js';

const CEL_HOST = 'tenants.example.com';
const AUDIT_HOST = 'audit.example.com';

const TENANT_WHEN = "request.path.startsWith('/tenants/' + claims.tenant + '/') && claims.tenant == request.headers['x-tenant']";
const ADMIN_WHEN = "claims.roles.exists(r, r == 'admin') && request.query.confirm == 'yes'";
const GROUPS_WHEN = 'claims.groups.all(a, claims.groups.all(b, a == b || a != b))';

const celPolicy = {
  apiVersion: 'claimcheck.io/v1alpha1',
  kind: 'AuthPolicy',
  metadata: { name: 'tenants' },
  spec: {
    hosts: [CEL_HOST],
    issuers: ['corp-idp'],
    rules: [
      { name: 'tenant-data', match: { paths: ['/tenants/*/**'] }, require: { scopes: { allOf: ['payments:read'] }, when: TENANT_WHEN } },
      { name: 'admin', match: { paths: ['/admin/**'], methods: ['POST'] }, require: { when: ADMIN_WHEN } },
      { name: 'groups', match: { paths: ['/groups/**'] }, require: { when: GROUPS_WHEN } },
    ],
    identity: { headers: { 'x-user-id': 'sub', 'x-tenant': 'tenant' } },
  },
};

function auditPolicy() {
  const p = paymentsPolicy({ hosts: [AUDIT_HOST], mode: 'audit' }) as { metadata: { name: string }; spec: { rules: unknown[] } };
  p.metadata.name = 'payments-audit';
  p.spec.rules.splice(3, 0, { name: 'tenant-data', match: { paths: ['/tenants/*/**'] }, require: { when: TENANT_WHEN } });
  return p;
}

const revocations = { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'incident' }, spec: { issuer: 'corp-idp', jtis: ['revoked-jti'] } };

function counterValue(metrics: string, labels: Record<string, string>): number {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('claimcheck_checks_total{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

describe('policy language through the real server', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: EnvoyClient;
  const tokens: string[] = [];
  let seq = 0;
  const sign = async (claims: Record<string, unknown> = {}, opts?: Parameters<Fixture['sign']>[1]) => {
    const t = await fx.sign({ jti: `jti-${++seq}`, ...claims }, opts);
    tokens.push(t);
    return t;
  };
  const check = (input: CheckInput & { token?: string }) => {
    const headers = { ...input.headers, ...(input.token ? { authorization: `Bearer ${input.token}` } : {}) };
    return client.check({ ...input, headers, requestId: input.requestId ?? `rq-${++seq}` });
  };
  const decisionLine = (requestId: string): Promise<LogLine> => cc.waitForLog((l) => l.log === 'decision' && l.requestId === requestId, 5000);

  before(async () => {
    fx = await createFixture();
    await fx.write('cel.yaml', [celPolicy]);
    await fx.write('audit.yaml', [auditPolicy()]);
    await fx.write('revocations.yaml', [revocations]);
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--decision-log-allow-sample', '1'] });
    client = createEnvoyClient(cc.grpcAddress);
  });
  after(async () => {
    client?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  describe('CEL conditions', () => {
    const cases: { name: string; path: string; method?: string; claims: Record<string, unknown>; headers?: Record<string, string>; want: number; reason: string }[] = [
      { name: 'own tenant, matching header', path: '/tenants/acme/orders', claims: { tenant: 'acme' }, headers: { 'x-tenant': 'acme' }, want: 0, reason: 'allowed' },
      { name: 'own tenant through an encoded, dotted path', path: '/tenants/%61cme/./orders?x=1', claims: { tenant: 'acme' }, headers: { 'x-tenant': 'acme' }, want: 0, reason: 'allowed' },
      { name: "another tenant's path", path: '/tenants/globex/orders', claims: { tenant: 'acme' }, headers: { 'x-tenant': 'acme' }, want: 403, reason: 'condition_false' },
      { name: 'a mismatched tenant header', path: '/tenants/acme/orders', claims: { tenant: 'acme' }, headers: { 'x-tenant': 'globex' }, want: 403, reason: 'condition_false' },
      { name: 'no tenant header (missing key)', path: '/tenants/acme/orders', claims: { tenant: 'acme' }, want: 403, reason: 'condition_error' },
      { name: 'no tenant claim (missing key)', path: '/tenants/acme/orders', claims: {}, headers: { 'x-tenant': 'acme' }, want: 403, reason: 'condition_error' },
      { name: 'a numeric tenant claim: the type error is absorbed by a false conjunct', path: '/tenants/7/orders', claims: { tenant: 7 }, headers: { 'x-tenant': '7' }, want: 403, reason: 'condition_false' },
      { name: 'a roles claim that is not a list (type error)', path: '/admin/reindex?confirm=yes', method: 'POST', claims: { roles: 'admin' }, want: 403, reason: 'condition_error' },
      { name: 'admin role with confirm=yes', path: '/admin/reindex?confirm=yes', method: 'POST', claims: { roles: ['reader', 'admin'] }, want: 0, reason: 'allowed' },
      { name: 'admin role, confirm given twice', path: '/admin/reindex?confirm=yes&confirm=no', method: 'POST', claims: { roles: ['admin'] }, want: 403, reason: 'condition_false' },
      { name: 'no admin role', path: '/admin/reindex?confirm=yes', method: 'POST', claims: { roles: ['reader'] }, want: 403, reason: 'condition_false' },
      { name: 'small groups claim', path: '/groups/x', claims: { groups: ['a', 'b', 'c'] }, want: 0, reason: 'allowed' },
      { name: 'a groups claim over the cost limit', path: '/groups/x', claims: { groups: Array.from({ length: 400 }, (_, i) => `g${i}`) }, want: 403, reason: 'condition_error' },
    ];
    for (const c of cases) {
      test(`${c.name}: ${c.want === 0 ? 'allowed' : `403 ${c.reason}`}`, async () => {
        const token = await sign({ scope: 'payments:read', ...c.claims });
        const requestId = `cel-${++seq}`;
        const r = await check({ host: CEL_HOST, path: c.path, method: c.method ?? 'GET', headers: c.headers ?? {}, token, requestId });
        if (c.want === 0) {
          assert.equal(r.code, 0, r.body);
        } else {
          assert.equal(r.code, 7);
          assert.equal(r.httpStatus, 403);
          assert.equal(JSON.parse(r.body!).error, 'access_denied');
          assert.equal(r.headers['www-authenticate'], undefined);
        }
        const line = await decisionLine(requestId);
        assert.equal(line.reason, c.reason);
        assert.equal(line.decision, c.want === 0 ? 'allow' : 'deny');
      });
    }
  });

  describe('audit mode', () => {
    // every deny reason of the core matrix, each with spoofed identity and reserved headers
    const spoof = { 'x-user-id': 'admin', 'x-tenant': 'root', 'x-claimcheck-role': 'root' };
    const now = () => Math.floor(Date.now() / 1000);
    const matrix: { reason: string; identity: boolean; request: () => Promise<CheckInput & { token?: string }> }[] = [
      { reason: 'missing_token', identity: false, request: async () => ({ path: '/v1/accounts' }) },
      { reason: 'token_expired', identity: false, request: async () => ({ path: '/v1/accounts', token: await sign({ iat: now() - 1000, exp: now() - 600 }) }) },
      { reason: 'malformed_token', identity: false, request: async () => ({ path: '/v1/accounts', token: 'not-a-jwt' }) },
      { reason: 'token_revoked', identity: false, request: async () => ({ path: '/v1/accounts', token: await sign({ jti: 'revoked-jti' }) }) },
      { reason: 'insufficient_scope', identity: true, request: async () => ({ path: '/v1/payments/1', method: 'POST', token: await sign({ scope: 'payments:read', tenant: 'acme' }) }) },
      { reason: 'claim_mismatch', identity: true, request: async () => ({ path: '/v1/payments/1', method: 'PUT', token: await sign({ scope: 'payments:write', tenant: 'initech' }) }) },
      { reason: 'condition_false', identity: true, request: async () => ({ path: '/tenants/globex/x', headers: { 'x-tenant': 'acme' }, token: await sign({ tenant: 'acme' }) }) },
      { reason: 'condition_error', identity: true, request: async () => ({ path: '/tenants/acme/x', token: await sign() }) },
      { reason: 'no_rule', identity: true, request: async () => ({ path: '/nothing/here', token: await sign() }) },
      { reason: 'rule_denies', identity: true, request: async () => ({ path: '/v0/legacy', token: await sign() }) },
      { reason: 'path_traversal', identity: true, request: async () => ({ path: '/v1/../admin', token: await sign() }) },
      { reason: 'encoded_slash', identity: true, request: async () => ({ path: '/v1/a%2Fb', token: await sign() }) },
      { reason: 'multiple_credentials', identity: false, request: async () => ({ path: '/v1/accounts', headers: { authorization: `Bearer ${await sign()},Bearer ${await sign()}` } }) },
    ];

    test('the enforce-mode twin of the audit policy denies every case of the matrix', async () => {
      for (const m of matrix) {
        const input = await m.request();
        const r = await check({ ...input, host: 'payments.example.com' });
        assert.notEqual(r.code, 0, `${m.reason} must be denied in enforce mode`);
      }
    });

    for (const m of matrix) {
      test(`${m.reason} becomes audit_deny: allowed, ${m.identity ? 'identity headers set' : 'no identity'}, spoofed headers stripped, counted, logged`, async () => {
        const before = counterValue((await cc.http('/metrics')).body, { decision: 'audit_deny', reason: m.reason, policy: 'default/payments-audit' });
        const input = await m.request();
        const requestId = `audit-${++seq}`;
        const r = await check({ ...input, host: AUDIT_HOST, headers: { ...spoof, ...input.headers }, requestId });
        assert.equal(r.code, 0, `audit mode never denies: ${r.body}`);
        assert.equal(r.httpStatus, undefined);
        assert.ok(r.headersToRemove.includes('x-claimcheck-role'), 'reserved-prefix headers are stripped');
        if (m.identity) {
          assert.equal(r.headers['x-user-id'], 'user-1', 'the verified subject replaces the spoofed one');
          assert.ok(!r.headersToRemove.includes('x-user-id'));
          assert.equal(r.dynamicMetadata.sub, 'user-1');
        } else {
          assert.equal(r.headers['x-user-id'], undefined);
          assert.ok(r.headersToRemove.includes('x-user-id'), 'a spoofed identity header is removed');
          assert.ok(r.headersToRemove.includes('x-tenant'));
        }
        assert.equal(r.dynamicMetadata.audit_deny, m.reason);
        const line = await decisionLine(requestId);
        assert.deepEqual([line.decision, line.reason, line.policy, line.level], ['audit_deny', m.reason, 'default/payments-audit', 'info']);
        await eventually(async () => counterValue((await cc.http('/metrics')).body, { decision: 'audit_deny', reason: m.reason, policy: 'default/payments-audit' }) === before + 1);
      });
    }

    test('a request audit mode would allow is a plain allow', async () => {
      const r = await check({ host: AUDIT_HOST, path: '/v1/accounts', token: await sign({ sub: 'bob' }) });
      assert.equal(r.code, 0);
      assert.equal(r.headers['x-user-id'], 'bob');
      assert.equal(r.dynamicMetadata.audit_deny, undefined);
    });
  });

  describe('dynamic metadata', () => {
    test('an allowed response carries sub, iss, policy, rule and scopes, decoded with Envoy protos', async () => {
      const token = await sign({ sub: 'alice', scope: 'payments:read payments:export', scp: ['extra'], tenant: 'acme' });
      const r = await check({ host: CEL_HOST, path: '/tenants/acme/orders', headers: { 'x-tenant': 'acme' }, token });
      assert.equal(r.code, 0);
      // the struct travelled as google.protobuf.Struct in Envoy's CheckResponse.dynamic_metadata
      assert.ok(r.raw.dynamic_metadata?.fields, 'dynamic_metadata is a Struct');
      assert.deepEqual(r.dynamicMetadata, {
        sub: 'alice',
        iss: 'https://idp.test.invalid/realms/corp',
        policy: 'default/tenants',
        rule: 'tenant-data',
        scopes: ['payments:read', 'payments:export', 'extra'],
      });
    });

    test('a denied response carries no dynamic metadata', async () => {
      const r = await check({ host: CEL_HOST, path: '/tenants/globex/orders', headers: { 'x-tenant': 'acme' }, token: await sign({ tenant: 'acme' }) });
      assert.equal(r.code, 7);
      assert.equal(r.dynamicMetadata, undefined);
    });
  });

  describe('decision log', () => {
    test('every stderr line is JSON, decision lines carry the documented fields, and no token ever appears', async () => {
      const requestId = `log-${++seq}`;
      const token = await sign({ sub: 'carol', jti: 'jti-carol', tenant: 'acme' });
      await check({ host: CEL_HOST, path: `/tenants/globex/orders?access_token=${token}`, headers: { 'x-tenant': 'acme' }, token, requestId });
      const line = await decisionLine(requestId);
      assert.deepEqual(
        { ...line, time: undefined, worker: undefined },
        {
          level: 'info', time: undefined, worker: undefined, service: 'claimcheck', log: 'decision', requestId, decision: 'deny', reason: 'condition_false', error: 'access_denied', status: 403,
          policy: 'default/tenants', rule: 'tenant-data', issuer: 'default/corp-idp', sub: 'carol', jti: 'jti-carol', method: 'GET', host: CEL_HOST, path: '/tenants/globex/orders', msg: 'request denied',
        },
      );
      const raw = cc.rawLog();
      for (const l of raw.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(l), l);
      assert.ok(tokens.length > 20);
      for (const t of tokens) {
        assert.ok(!raw.includes(t), 'a token appears in the log');
        assert.ok(!raw.includes(t.split('.')[2]!), 'a signature appears in the log');
      }
    });

    test('sampled allows are logged; sub and jti can be turned off', async () => {
      const allowed = await decisionLine((await (async () => {
        const requestId = `log-${++seq}`;
        await check({ host: CEL_HOST, path: '/tenants/acme/a', headers: { 'x-tenant': 'acme' }, token: await sign({ tenant: 'acme' }), requestId });
        return requestId;
      })()));
      assert.deepEqual([allowed.decision, allowed.reason, allowed.rule], ['allow', 'allowed', 'tenant-data']);

      const quiet = await startClaimcheck({ configDir: fx.dir, args: ['--decision-log-subject=false', '--workers', '1'], env: { CLAIMCHECK_DECISION_LOG_JTI: 'false' } });
      const qc = createEnvoyClient(quiet.grpcAddress);
      try {
        const t = await sign({ sub: 'dave', jti: 'jti-dave', tenant: 'acme' });
        // the allow first: log lines keep their order, so its line would come before the deny's
        await qc.check({ host: CEL_HOST, path: '/tenants/acme/a', headers: { authorization: `Bearer ${t}`, 'x-tenant': 'acme' }, requestId: 'quiet-2' });
        await qc.check({ host: CEL_HOST, path: '/tenants/globex/a', headers: { authorization: `Bearer ${t}`, 'x-tenant': 'acme' }, requestId: 'quiet-1' });
        const denied = await quiet.waitForLog((l) => l.log === 'decision' && l.requestId === 'quiet-1');
        assert.equal(denied.reason, 'condition_false');
        assert.equal(denied.sub, undefined);
        assert.equal(denied.jti, undefined);
        assert.ok(!quiet.rawLog().includes('dave'));
        // the default sample is 0: the allow was counted but left no line
        const metrics = (await quiet.http('/metrics')).body;
        assert.equal(counterValue(metrics, { decision: 'allow', policy: 'default/tenants' }), 1);
        assert.equal(quiet.logs.some((l) => l.requestId === 'quiet-2'), false);
      } finally {
        qc.close();
        await quiet.stop();
      }
    });
  });

  describe('configuration errors', () => {
    test('a reload with a broken condition is rejected with file, line and position; the last good config keeps serving', async () => {
      const broken = { ...celPolicy, metadata: { name: 'broken' }, spec: { ...celPolicy.spec, hosts: ['broken.example.com'], rules: [{ name: 'r', require: { when: "claims.tenant == 'a' &&\n  request.methd == 'GET'" } }] } };
      await fx.write('broken.yaml', [broken]);
      try {
        const log = await cc.waitForLog((l) => l.level === 'error' && String(l.msg).includes('broken.yaml'), 10_000);
        assert.match(String(log.msg), /broken\.yaml:\d+: AuthPolicy default\/broken: \/spec\/rules\/0\/require\/when: CEL type error at line 2, column 11: No such key: methd/);
        const r = await check({ host: CEL_HOST, path: '/tenants/acme/a', headers: { 'x-tenant': 'acme' }, token: await sign({ tenant: 'acme' }) });
        assert.equal(r.code, 0, 'the last good configuration still serves');
      } finally {
        await fx.writeRaw('broken.yaml', '');
      }
    });

    test('claimcheck validate and check explain CEL: the position of a load error, the value of a condition, audit outcomes', async () => {
      const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
      const token = await sign({ tenant: 'acme' });
      const ok = cli(['check', '--config-dir', fx.dir, '--host', CEL_HOST, '--path', '/tenants/acme/a', '--header', 'x-tenant=acme', '--token', token]);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.ok(ok.stdout.includes(`ok   condition  ${TENANT_WHEN} = true (cost `), ok.stdout);
      const err = cli(['check', '--config-dir', fx.dir, '--host', CEL_HOST, '--path', '/tenants/acme/a', '--token', token]);
      assert.equal(err.status, 1);
      assert.match(err.stdout, /FAIL\s+condition\s+.* = error no_such_key: no such key at line 1, column \d+/);
      assert.match(err.stdout, /decision: DENY 403 \(condition_error\)/);
      const audit = cli(['check', '--config-dir', fx.dir, '--host', AUDIT_HOST, '--path', '/tenants/globex/a', '--header', 'x-tenant=acme', '--token', token]);
      assert.equal(audit.status, 0, audit.stdout);
      assert.match(audit.stdout, /FAIL\s+condition\s+.* = false/);
      assert.match(audit.stdout, /decision: ALLOW \(audit_deny\)\n\s+audit\s+policy default\/payments-audit is in audit mode; enforce mode would DENY 403 \(condition_false\)/);
      const json = JSON.parse(cli(['check', '--config-dir', fx.dir, '--host', AUDIT_HOST, '--path', '/tenants/globex/a', '--header', 'x-tenant=acme', '--token', token, '--json']).stdout);
      assert.deepEqual(json.auditedDeny, { reason: 'condition_false', error: 'access_denied', httpStatus: 403 });
      assert.equal(json.condition, TENANT_WHEN);

      await fx.writeRaw('bad-cel.yaml', `apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: bad}\nspec:\n  issuers: [corp-idp]\n  rules:\n    - name: r\n      require: {when: "claims.a == (1"}\n`);
      try {
        const v = cli(['validate', fx.dir]);
        assert.equal(v.status, 1);
        assert.match(v.stdout, /bad-cel\.yaml:8: AuthPolicy default\/bad: \/spec\/rules\/0\/require\/when: CEL syntax error at line 1, column 15: /);
      } finally {
        await fx.writeRaw('bad-cel.yaml', '');
      }
    });
  });
});
