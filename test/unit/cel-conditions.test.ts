import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CelHarness, compileWhen, outcome, type CelRequestInput } from '../helpers/cel-harness.js';

const h = new CelHarness();
after(() => h.close());

interface Row {
  when: string;
  req: CelRequestInput;
  want: 'allow' | 'condition_false' | 'condition_error';
}

const acme = { tenant: 'acme', roles: ['reader', 'admin'], realm_access: { roles: ['ops'] }, level: 3, email_verified: true };

const TABLE: Row[] = [
  // claims
  { when: "claims.tenant == 'acme'", req: { claims: acme }, want: 'allow' },
  { when: "claims.tenant == 'globex'", req: { claims: acme }, want: 'condition_false' },
  { when: "'admin' in claims.roles", req: { claims: acme }, want: 'allow' },
  { when: "claims.roles.exists(r, r.startsWith('adm'))", req: { claims: acme }, want: 'allow' },
  { when: "claims.roles.all(r, r != 'banned')", req: { claims: acme }, want: 'allow' },
  { when: "claims.realm_access.roles.exists(r, r in ['ops', 'sre'])", req: { claims: acme }, want: 'allow' },
  { when: 'claims.level >= 3', req: { claims: acme }, want: 'allow' },
  { when: 'claims.level > 3', req: { claims: acme }, want: 'condition_false' },
  { when: 'claims.email_verified', req: { claims: acme }, want: 'allow' },
  { when: 'claims.email_verified == true', req: { claims: { email_verified: 'true' } }, want: 'condition_false' },
  { when: 'has(claims.act)', req: { claims: acme }, want: 'condition_false' },
  { when: "claims.?department.orValue('none') == 'none'", req: { claims: acme }, want: 'allow' },
  { when: 'int(claims.iat) < int(claims.exp)', req: { claims: acme }, want: 'allow' },
  { when: "timestamp(int(claims.exp)) > request.time", req: { claims: acme }, want: 'allow' },
  { when: "request.time - timestamp(int(claims.iat)) < duration('5m')", req: { claims: acme }, want: 'allow' },
  // headers (lowercase names, repeated values joined)
  { when: "claims.tenant == request.headers['x-tenant']", req: { claims: acme, headers: { 'X-Tenant': 'acme' } }, want: 'allow' },
  { when: "claims.tenant == request.headers['x-tenant']", req: { claims: acme, headers: { 'x-tenant': 'globex' } }, want: 'condition_false' },
  { when: "claims.tenant == request.headers['x-tenant']", req: { claims: acme }, want: 'condition_error' },
  { when: "claims.tenant == request.headers['x-tenant']", req: { claims: acme, headers: { 'x-tenant': ['acme', 'globex'] } }, want: 'condition_false' },
  { when: "request.headers['x-tenant'] == 'acme,globex'", req: { claims: acme, headers: { 'x-tenant': ['acme', 'globex'] } }, want: 'allow' },
  { when: "!('x-debug' in request.headers)", req: { claims: acme, headers: { 'x-debug': '1' } }, want: 'condition_false' },
  { when: "request.headers[?'x-tenant'].orValue(claims.tenant) == claims.tenant", req: { claims: acme }, want: 'allow' },
  // paths: normalised, no query
  { when: "request.path.startsWith('/tenants/' + claims.tenant + '/')", req: { claims: acme, path: '/tenants/acme/orders' }, want: 'allow' },
  { when: "request.path.startsWith('/tenants/' + claims.tenant + '/')", req: { claims: acme, path: '/tenants/%61cme/orders' }, want: 'allow' },
  { when: "request.path.startsWith('/tenants/' + claims.tenant + '/')", req: { claims: acme, path: '/tenants//acme/./orders' }, want: 'allow' },
  { when: "request.path.startsWith('/tenants/' + claims.tenant + '/')", req: { claims: acme, path: '/tenants/globex/orders' }, want: 'condition_false' },
  { when: "request.path == '/a'", req: { claims: acme, path: '/a?x=1#f' }, want: 'allow' },
  { when: "request.path.matches('^/v[0-9]+/')", req: { claims: acme, path: '/v2/items' }, want: 'allow' },
  { when: "request.path.matches('items')", req: { claims: acme, path: '/v2/items/7' }, want: 'allow' },
  { when: "request.path.matches('^items$')", req: { claims: acme, path: '/v2/items/7' }, want: 'condition_false' },
  { when: "request.headers['x-id'].matches('^\\\\d{3}$')", req: { claims: acme, headers: { 'x-id': '123' } }, want: 'allow' },
  { when: "request.method == 'DELETE'", req: { claims: acme, method: 'delete' }, want: 'allow' },
  { when: "request.host == 'api.example.com'", req: { claims: acme, host: 'API.Example.com.:443' }, want: 'allow' },
  // query: decoded, repeated keys joined with ","
  { when: 'request.query.tenant == claims.tenant', req: { claims: acme, path: '/x?tenant=acme' }, want: 'allow' },
  { when: 'request.query.tenant == claims.tenant', req: { claims: acme, path: '/x?tenant=acme&tenant=globex' }, want: 'condition_false' },
  { when: "request.query.q == 'a b/c'", req: { claims: acme, path: '/x?q=a+b%2Fc' }, want: 'allow' },
  { when: 'has(request.query.debug)', req: { claims: acme, path: '/x' }, want: 'condition_false' },
  { when: "request.query['__proto__'] == 'x'", req: { claims: acme, path: '/x?__proto__=x' }, want: 'allow' },
  // peers
  { when: "source.principal.endsWith('/sa/web')", req: { claims: acme }, want: 'allow' },
  { when: "source.address.startsWith('10.')", req: { claims: acme, source: { principal: '', address: '192.168.0.1' } }, want: 'condition_false' },
  // run-time errors deny, never allow
  { when: "claims.department == 'eng'", req: { claims: acme }, want: 'condition_error' },
  { when: "!(claims.department == 'eng')", req: { claims: acme }, want: 'condition_error' },
  { when: "claims.department != 'eng'", req: { claims: acme }, want: 'condition_error' },
  { when: "claims.department == 'eng' || false", req: { claims: acme }, want: 'condition_error' },
  { when: 'claims.tenant + 1 == 2', req: { claims: acme }, want: 'condition_error' },
  { when: 'int(claims.tenant) > 0', req: { claims: acme }, want: 'condition_error' },
  { when: "claims.roles[7] == 'admin'", req: { claims: acme }, want: 'condition_error' },
  { when: 'claims.level / 0.0 > 1.0 && 1 / 0 == 0', req: { claims: acme }, want: 'condition_error' },
  { when: 'claims.roles.exists(r, r.missing == 1)', req: { claims: acme }, want: 'condition_error' },
  { when: 'claims.tenant', req: { claims: acme }, want: 'condition_error' },
  { when: 'claims.roles', req: { claims: acme }, want: 'condition_error' },
  { when: 'dyn(claims.level)', req: { claims: acme }, want: 'condition_error' },
  { when: "claims.tenant.matches('^a')", req: { claims: { tenant: 7 } }, want: 'condition_error' },
  // errors absorbed by CEL's commutative logic still decide on a real boolean
  { when: "claims.department == 'eng' || claims.tenant == 'acme'", req: { claims: acme }, want: 'allow' },
  { when: "claims.department == 'eng' && claims.tenant == 'globex'", req: { claims: acme }, want: 'condition_false' },
];

describe('CEL conditions decide requests through the real pipeline', () => {
  for (const row of TABLE) {
    const where = [row.req.method, row.req.path, row.req.headers ? JSON.stringify(row.req.headers) : ''].filter(Boolean).join(' ');
    test(`${row.when} ${where ? `[${where}] ` : ''}→ ${row.want}`, async () => {
      const { snapshot, problems } = compileWhen(row.when);
      assert.deepEqual(problems, []);
      const d = await h.decide(snapshot!, row.req);
      assert.equal(outcome(d), row.want, JSON.stringify(d.steps));
      if (!d.allow) {
        assert.equal(d.kind, 'access_denied');
        assert.ok(d.verified, 'a condition runs only after the token was verified');
      }
      const step = d.steps.find((s) => s.step === 'condition');
      assert.ok(step, 'the condition is a step of the explanation');
      assert.equal(step.ok, row.want === 'allow');
    });
  }

  test('a request without a token never reaches the condition', async () => {
    const { snapshot } = compileWhen('true');
    const d = await h.decide(snapshot!, {});
    assert.equal(outcome(d), 'missing_token');
    assert.equal(d.steps.some((s) => s.step === 'condition'), false);
  });

  test('the explanation shows the expression and its value, or the error code and where it failed', async () => {
    const ok = await h.decide(compileWhen("claims.tenant == 'acme'").snapshot!, { claims: acme });
    assert.match(ok.steps.find((s) => s.step === 'condition')!.detail, /^claims\.tenant == 'acme' = true \(cost \d+\)$/);
    const err = await h.decide(compileWhen("claims.tenant == 'acme' &&\n  claims.department == 'eng'").snapshot!, { claims: acme });
    assert.match(err.steps.find((s) => s.step === 'condition')!.detail, /= error no_such_key: no such key at line 2, column \d+/);
  });

  test('an evaluation error never quotes input values (the library message can)', async () => {
    const secret = 'Bearer-looking-secret-value';
    const d = await h.decide(compileWhen("claims[request.headers['x-k']] == 1").snapshot!, { claims: acme, headers: { 'x-k': secret } });
    assert.equal(outcome(d), 'condition_error');
    assert.ok(!JSON.stringify(d.steps).includes(secret), JSON.stringify(d.steps));
  });
});
