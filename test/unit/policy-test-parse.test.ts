import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parsePolicyTests } from '../../src/policy-test/parse-policy-test.js';

const head = 'apiVersion: claimcheck.io/v1alpha1\nkind: PolicyTest\nmetadata: {name: t, namespace: shop}\nspec:\n';

function parse(spec: string, file = join('/tests', 'shop.test.yaml')) {
  return parsePolicyTests(head + spec, file);
}

describe('parsePolicyTests', () => {
  test('reads a case with its defaults: GET, a 5m lifetime, lowercase header names, config relative to the file', () => {
    const { tests, problems } = parse(
      '  config: ../config\n  cases:\n' +
        '    - name: reader\n' +
        '      request: {host: shop.example.com, path: /v1/cart, headers: {X-Tenant: acme, Cookie: [a=1, b=2]}}\n' +
        '      token: {issuer: corp, claims: {sub: alice, exp: null}}\n' +
        '      expect: {decision: allow, headers: {X-User-Id: alice, x-gone: null}}\n',
    );
    assert.deepEqual(problems, []);
    assert.equal(tests.length, 1);
    const t = tests[0]!;
    assert.equal(t.name, 't');
    assert.equal(t.namespace, 'shop');
    assert.equal(t.config, '../config');
    assert.equal(t.configDir, join('/', 'config'));
    const c = t.cases[0]!;
    assert.equal(c.line, 7);
    assert.equal(c.request.method, 'GET');
    assert.deepEqual([...c.request.headers], [['x-tenant', ['acme']], ['cookie', ['a=1', 'b=2']]]);
    assert.equal(c.token?.lifetimeSec, 300);
    assert.equal(c.token?.line, 9);
    assert.deepEqual(c.token?.claims, { sub: 'alice', exp: null });
    assert.deepEqual([...c.expect.headers!], [['x-user-id', 'alice'], ['x-gone', null]]);
  });

  test('defaults spec.config to the test file\'s own directory and upper-cases the method', () => {
    const { tests } = parse('  cases:\n    - {name: a, request: {host: h, path: /, method: post}, raw: x.y.z, expect: {decision: deny, status: 401}}\n');
    assert.equal(tests[0]!.configDir, '/tests');
    assert.equal(tests[0]!.cases[0]!.request.method, 'POST');
    assert.equal(tests[0]!.cases[0]!.raw, 'x.y.z');
    assert.equal(tests[0]!.cases[0]!.token, undefined);
  });

  test('skips the configuration documents of a file and reads every PolicyTest in it', () => {
    const issuer = 'apiVersion: claimcheck.io/v1alpha1\nkind: TrustedIssuer\nmetadata: {name: x}\nspec: {issuer: https://x, jwks: {uri: https://x/k}}\n';
    const one = head + '  cases: [{name: a, request: {host: h, path: /}, expect: {decision: allow}}]\n';
    const { tests, problems } = parsePolicyTests(`${issuer}---\n${one}---\napiVersion: v1\nkind: ConfigMap\n---\n${one}`, 'f.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(tests.map((t) => t.line), [6, 15]);
  });

  test('reports unknown fields and bad values with the line of the offending field', () => {
    const { tests, problems } = parse(
      '  cases:\n' +
        '    - name: typo\n' +
        '      request: {host: h, path: /, methd: GET}\n' +
        '      token: {issuer: corp, lifetime: forever}\n' +
        '      expect: {decision: maybe, status: 42}\n' +
        '      expected: {}\n',
    );
    assert.equal(tests.length, 0);
    const got = problems.map((p) => [p.line, p.path, p.message]);
    assert.deepEqual(got, [
      [10, '/spec/cases/0', 'unknown field "expected"'],
      [7, '/spec/cases/0/request', 'unknown field "methd"'],
      [8, '/spec/cases/0/token/lifetime', 'must be a duration like "30s", "10m" or "1h30m"'],
      [9, '/spec/cases/0/expect/decision', '"maybe" is not allowed; must be one of: allow, deny'],
      [9, '/spec/cases/0/expect/status', 'must be >= 100'],
    ]);
    assert.ok(problems.every((p) => p.file === '/tests/shop.test.yaml' && p.kind === 'PolicyTest'));
  });

  test('requires cases, a request with host and path, and an expected decision', () => {
    assert.match(parse('  config: .\n').problems[0]!.message, /missing required field "cases"/);
    const { problems } = parse('  cases:\n    - name: a\n      request: {host: h}\n      expect: {status: 401}\n');
    assert.deepEqual(problems.map((p) => p.message).sort(), ['missing required field "decision"', 'missing required field "path"']);
  });

  test('reports a PolicyTest of another version', () => {
    const { problems } = parsePolicyTests(head.replace('v1alpha1', 'v2') + '  cases: [{name: a, request: {host: h, path: /}, expect: {decision: allow}}]\n', 'f.yaml');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, '/apiVersion');
    assert.equal(problems[0]!.line, 1);
  });

  test('reports what the schema cannot say: token with raw, a status on allow, a repeated name, header.alg', () => {
    const { tests, problems } = parse(
      '  cases:\n' +
        '    - name: a\n' +
        '      request: {host: h, path: /}\n' +
        '      token: {issuer: corp, header: {alg: none}}\n' +
        '      raw: x.y.z\n' +
        '      expect: {decision: allow, status: 200}\n' +
        '    - name: a\n' +
        '      request: {host: h, path: /}\n' +
        '      expect: {decision: allow}\n',
    );
    assert.equal(tests.length, 0);
    assert.deepEqual(problems.map((p) => [p.line, p.path]), [
      [9, '/spec/cases/0/raw'],
      [10, '/spec/cases/0/expect/status'],
      [8, '/spec/cases/0/token/header/alg'],
      [11, '/spec/cases/1/name'],
    ]);
    assert.match(problems[0]!.message, /either token .* or raw/);
    assert.match(problems[1]!.message, /an allowed request has none/);
    assert.match(problems[2]!.message, /alg cannot be set/);
    assert.match(problems[3]!.message, /duplicate case name "a"/);
  });

  test('reports a YAML syntax error with its line', () => {
    const { tests, problems } = parse('  cases: [unclosed\n');
    assert.equal(tests.length, 0);
    assert.match(problems[0]!.message, /YAML syntax error/);
    assert.ok((problems[0]!.line ?? 0) >= 5);
  });
});
