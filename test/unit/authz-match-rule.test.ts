import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleMatcher, findRule } from '../../src/authz/match-rule.js';
import type { CompiledPolicy, CompiledRule } from '../../src/compile/snapshot.js';
import { ClaimcheckError } from '../../src/errors.js';
import { DEFAULT_SENDER_CONSTRAINT } from '../../src/compile/sender-constraint.js';

function rule(name: string, index: number, match?: { paths?: string[]; methods?: string[] }): CompiledRule {
  return { name, index, action: 'require', matches: compileRuleMatcher(match), issuers: [], claims: [], senderConstraint: DEFAULT_SENDER_CONSTRAINT };
}

function policy(rules: CompiledRule[]): CompiledPolicy {
  return {
    key: 'ns/p', name: 'p', namespace: 'ns', mode: 'enforce', hosts: [], tokenSources: [], rules,
    identity: { headers: [], forwardToken: true },
  };
}

describe('compileRuleMatcher', () => {
  test('with no match, matches every method and path', () => {
    const m = compileRuleMatcher(undefined);
    assert.equal(m('DELETE', '/anything'), true);
    assert.equal(compileRuleMatcher({})('GET', '/'), true);
  });
  test('compares methods case-insensitively', () => {
    const m = compileRuleMatcher({ methods: ['get', 'Post'] });
    assert.equal(m('GET', '/x'), true);
    assert.equal(m('post', '/x'), true);
    assert.equal(m('PUT', '/x'), false);
  });
  test('requires both a method and a path match', () => {
    const m = compileRuleMatcher({ paths: ['/v1/**'], methods: ['POST'] });
    assert.equal(m('POST', '/v1/a'), true);
    assert.equal(m('GET', '/v1/a'), false);
    assert.equal(m('POST', '/v2/a'), false);
  });
  test('matches any of several paths', () => {
    const m = compileRuleMatcher({ paths: ['/a', '/b/*'] });
    assert.equal(m('GET', '/a'), true);
    assert.equal(m('GET', '/b/c'), true);
    assert.equal(m('GET', '/c'), false);
  });
  test('rejects a bad pattern at compile time', () => {
    assert.throws(() => compileRuleMatcher({ paths: ['nope'] }), (e: unknown) => e instanceof ClaimcheckError && e.code === 'invalid_path_pattern');
  });
});

describe('findRule', () => {
  const p = policy([
    rule('health', 0, { paths: ['/healthz'], methods: ['GET'] }),
    rule('write', 1, { paths: ['/v1/payments/**'], methods: ['POST', 'PUT'] }),
    rule('read', 2, { paths: ['/v1/**'] }),
    rule('legacy', 3, { paths: ['/v0/**'] }),
  ]);
  const table: [string, string, string | undefined][] = [
    ['GET', '/healthz', 'health'],
    ['POST', '/healthz', undefined],
    ['POST', '/v1/payments/1', 'write'],
    ['GET', '/v1/payments/1', 'read'],
    ['DELETE', '/v1', 'read'],
    ['GET', '/v0/old', 'legacy'],
    ['GET', '/v2', undefined],
  ];
  for (const [method, path, want] of table) {
    test(`${method} ${path} selects ${want ?? 'no rule'}`, () => {
      assert.equal(findRule(p, method, path)?.name, want);
    });
  }
  test('the first matching rule wins over a later, more specific one', () => {
    const q = policy([rule('broad', 0, { paths: ['/**'] }), rule('specific', 1, { paths: ['/v1/admin'] })]);
    assert.equal(findRule(q, 'GET', '/v1/admin')?.name, 'broad');
  });
});
