import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCondition } from '../../src/authz/cel/compile-condition.js';
import { MAX_EXPRESSION_LENGTH } from '../../src/authz/cel/environment.js';
import { validatePaths } from '../../src/commands/validate-paths.js';
import { compileWhen } from '../helpers/cel-harness.js';

function loadError(expression: string): string {
  const r = compileCondition(expression);
  assert.equal(r.ok, false, `${JSON.stringify(expression)} should be rejected at load`);
  return (r as { message: string }).message;
}

describe('CEL conditions are checked at load', () => {
  const rejected: [string, RegExp][] = [
    ["claims.tenant == 'acme' &&", /^CEL syntax error at line 1, column 27: /],
    ["claims.tenant ==\n  'acme' && (", /^CEL syntax error at line 2, column 14: Unexpected token: EOF$/],
    ["claims.tenant = 'acme'", /^CEL syntax error at line 1, column 15: /],
    ["request.methd == 'GET'", /^CEL type error at line 1, column 9: No such key: methd$/],
    ["claims.a == 'x' &&\n    request.headerz['x'] == 'y'", /^CEL type error at line 2, column 13: /],
    ['request.method == 1', /^CEL type error at line 1, column 1: no such overload: string == int$/],
    ["request.headers['x'] + 1 == 2", /^CEL type error at line 1, column 1: /],
    ["tenant == 'acme'", /^CEL type error at line 1, column 1: Unknown variable: tenant$/],
    ["claims.roles.exists(r, r + 1)", /^CEL type error at line 1, column 24: .*must return bool/],
    ["size(1) > 0", /^CEL type error at line 1, column 1: /],
    ["'a'", /must evaluate to bool, not string$/],
    ['request.path', /must evaluate to bool, not string$/],
    ['1 + 2', /must evaluate to bool, not int$/],
    [`[${Array.from({ length: 101 }, (_, i) => i).join(', ')}].size() > 0`, /^CEL is too complex at line 1, column \d+: Exceeded maxListElements \(100\)$/],
    [Array.from({ length: 300 }, () => 'true').join(' && '), /^CEL is too complex at line 1, column 1: Exceeded maxAstNodes \(500\)$/],
    ['x'.repeat(MAX_EXPRESSION_LENGTH + 1), new RegExp(`at most ${MAX_EXPRESSION_LENGTH} are allowed$`)],
    ["claims.sub.matches(request.headers['x-re'])", /^CEL type error at line 1, column 20: the pattern of matches\(\) must be a string literal$/],
    ["claims.sub.matches('^(a)\\\\1$')", /^CEL invalid regular expression at line 1, column 20: /],
    ["claims.sub.matches('(?=a)')", /^CEL invalid regular expression at line 1, column 20: /],
    ["claims.sub.matches(1)", /^CEL type error at line 1, column 20: the pattern of matches\(\) must be a string literal$/],
    ["claims.sub.matches_re2('x')", /^CEL type error at line 1, column 1\d?: unknown function matches_re2$/],
  ];
  for (const [expression, want] of rejected) {
    test(`rejects ${JSON.stringify(expression.length > 60 ? `${expression.slice(0, 57)}...` : expression)}`, () => {
      assert.match(loadError(expression), want);
    });
  }

  test('rejects an expression whose cost bound is over the limit even for empty inputs', () => {
    const list = `[${Array.from({ length: 60 }, (_, i) => i).join(',')}]`;
    const msg = loadError(`${list}.all(a, ${list}.all(b, ${list}.all(c, a + b + c >= 0)))`);
    assert.match(msg, /^CEL expression is too expensive: its cost bound is \d+ units even for empty inputs \(limit 50000\)$/);
  });

  test('accepts bool and dyn results (dyn is checked when evaluated)', () => {
    for (const e of ["claims.tenant == 'acme'", 'claims.flag', "request.headers[?'x'].hasValue()", 'has(claims.a) ? claims.a : false']) {
      const r = compileCondition(e);
      assert.equal(r.ok, true, `${e}: ${(r as { message?: string }).message}`);
    }
  });

  test('matches() runs on RE2: a pattern that backtracks exponentially in JavaScript takes linear time', () => {
    const r = compileCondition("request.headers['x-id'].matches('^(a+)+$')");
    assert.ok(r.ok);
    const input = {
      claims: {}, method: 'GET', host: 'h', path: '/', rawPath: '/', source: { principal: '', address: '' }, destination: { principal: '', address: '' }, nowSec: 0,
      headers: new Map([['x-id', [`${'a'.repeat(28)}!`]]]),
    };
    const started = process.hrtime.bigint();
    const out = r.condition.evaluate(input);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual([out.ok, (out as { value?: boolean }).value], [true, false]);
    assert.ok(ms < 1500, `took ${ms} ms (JavaScript's RegExp needs seconds for this)`);
  });

  test('every example in docs/cel.md compiles', async () => {
    const md = await readFile(new URL('../../docs/cel.md', import.meta.url), 'utf8');
    const examples = [...md.matchAll(/```cel\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    assert.ok(examples.length >= 8);
    for (const e of examples) {
      const r = compileCondition(e);
      assert.equal(r.ok, true, `${e}: ${(r as { message?: string }).message}`);
    }
  });

  test('a broken condition blocks the whole snapshot and names the rule path', () => {
    const { snapshot, problems } = compileWhen("claims.tenant == request.headers['x-tenant'] && request.methd == 'GET'");
    assert.equal(snapshot, undefined);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, '/spec/rules/0/require/when');
    assert.match(problems[0]!.message, /^CEL type error at line 1, column 57: No such key: methd$/);
  });

  test('claimcheck validate reports the file, the rule path and the position inside the expression', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cel-validate-'));
    try {
      await writeFile(
        join(dir, 'p.yaml'),
        [
          'apiVersion: claimcheck.io/v1alpha1',
          'kind: TrustedIssuer',
          'metadata: {name: idp}',
          'spec: {issuer: "https://idp.example.com", jwks: {uri: "https://idp.example.com/jwks"}, audiences: [api]}',
          '---',
          'apiVersion: claimcheck.io/v1alpha1',
          'kind: AuthPolicy',
          'metadata: {name: p}',
          'spec:',
          '  issuers: [idp]',
          '  hosts: [a.example.com]',
          '  rules:',
          '    - name: r',
          '      require:',
          '        when: |',
          "          claims.tenant == 'acme' &&",
          '            request.method in [GET]',
        ].join('\n'),
      );
      const report = await validatePaths([dir], { namespace: 'default' });
      assert.equal(report.problems.length, 1);
      const p = report.problems[0]!;
      assert.equal(p.file, join(dir, 'p.yaml'));
      assert.equal(p.line, 15, 'the line of the when field, not of the document');
      assert.equal(p.path, '/spec/rules/0/require/when');
      assert.match(p.message, /^CEL type error at line 2, column 22: Unknown variable: GET$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
