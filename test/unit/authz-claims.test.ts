import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { claimPath, compileClaimCheck, getClaim } from '../../src/authz/claims.js';
import { checkClaims } from '../../src/authz/check-claims.js';
import { ClaimcheckError } from '../../src/errors.js';
import type { ClaimRequirementSpec } from '../../src/model/types.js';

const claims: Record<string, unknown> = {
  sub: 'merchant_42',
  tenant: 'acme',
  email_verified: true,
  email_verified_str: 'true',
  age: 42,
  scope: 'payments:read payments:write',
  groups: ['ops', 'dev'],
  realm_access: { roles: ['admin', 'user'] },
  'https://example.com/claims': { org: 'acme' },
  nested: { a: [1, { b: 2 }] },
  nothing: null,
  empty: '',
};

function isCode(code: string) {
  return (e: unknown) => e instanceof ClaimcheckError && e.code === code;
}

describe('claimPath and getClaim', () => {
  test('splits a dotted string and takes a list as is', () => {
    assert.deepEqual(claimPath('a.b.c'), ['a', 'b', 'c']);
    assert.deepEqual(claimPath(['https://x/claims', 'org']), ['https://x/claims', 'org']);
  });

  test('walks nested objects and list paths with dotted keys', () => {
    assert.deepEqual(getClaim(claims, ['realm_access', 'roles']), ['admin', 'user']);
    assert.equal(getClaim(claims, ['https://example.com/claims', 'org']), 'acme');
    assert.equal(getClaim(claims, ['realm_access', 'missing']), undefined);
    assert.equal(getClaim(claims, ['tenant', 'length']), undefined);
  });

  test('never walks into prototype properties', () => {
    assert.equal(getClaim(claims, ['constructor']), undefined);
    assert.equal(getClaim(claims, ['__proto__']), undefined);
    assert.equal(getClaim(claims, ['toString']), undefined);
    assert.equal(getClaim(claims, ['groups', 'length']), undefined);
    const parsed = JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": 1}}');
    assert.equal(getClaim(parsed, ['__proto__', 'admin']), undefined);
    assert.equal(getClaim(parsed, ['constructor', 'prototype']), undefined);
  });
});

describe('compileClaimCheck operators', () => {
  const table: [string, ClaimRequirementSpec, boolean][] = [
    ['equals string', { claim: 'tenant', equals: 'acme' }, true],
    ['equals other string', { claim: 'tenant', equals: 'globex' }, false],
    ['equals boolean true', { claim: 'email_verified', equals: true }, true],
    ['equals is type-strict: "true" is not true', { claim: 'email_verified', equals: 'true' }, false],
    ['equals is type-strict: true is not "true"', { claim: 'email_verified_str', equals: true }, false],
    ['equals is type-strict: "42" is not 42', { claim: 'age', equals: '42' }, false],
    ['equals number', { claim: 'age', equals: 42 }, true],
    ['equals array deeply', { claim: 'groups', equals: ['ops', 'dev'] }, true],
    ['equals array order matters', { claim: 'groups', equals: ['dev', 'ops'] }, false],
    ['equals object deeply', { claim: 'nested', equals: { a: [1, { b: 2 }] } }, true],
    ['equals object with an extra key fails', { claim: 'nested', equals: { a: [1, { b: 2 }], c: 1 } }, false],
    ['equals via list path', { claim: ['https://example.com/claims', 'org'], equals: 'acme' }, true],
    ['equals on a missing claim fails', { claim: 'missing', equals: 'x' }, false],
    ['in scalar', { claim: 'tenant', in: ['acme', 'globex'] }, true],
    ['in scalar not listed', { claim: 'tenant', in: ['globex'] }, false],
    ['in is type-strict', { claim: 'age', in: ['42'] }, false],
    ['in array claim with one element listed', { claim: 'groups', in: ['dev', 'qa'] }, true],
    ['in array claim with no element listed', { claim: 'groups', in: ['qa'] }, false],
    ['in object claim fails', { claim: 'nested', in: ['x'] }, false],
    ['in on a missing claim fails', { claim: 'missing', in: ['x'] }, false],
    ['contains array element', { claim: 'realm_access.roles', contains: 'admin' }, true],
    ['contains array element absent', { claim: 'realm_access.roles', contains: 'root' }, false],
    ['contains space-separated word', { claim: 'scope', contains: 'payments:write' }, true],
    ['contains is not a substring match', { claim: 'scope', contains: 'payments' }, false],
    ['contains on a number fails', { claim: 'age', contains: '4' }, false],
    ['contains on a missing claim fails', { claim: 'missing', contains: 'x' }, false],
    ['matches the whole string', { claim: 'sub', matches: '^merchant_[0-9]+$' }, true],
    ['matches is anchored even without ^$', { claim: 'sub', matches: 'merchant' }, false],
    ['matches unanchored full pattern', { claim: 'sub', matches: 'merchant_\\d+' }, true],
    ['matches a non-string claim fails', { claim: 'age', matches: '.*' }, false],
    ['matches on a missing claim fails', { claim: 'missing', matches: '.*' }, false],
    ['exists true on present claim', { claim: 'tenant', exists: true }, true],
    ['exists true on empty string', { claim: 'empty', exists: true }, true],
    ['exists true on missing claim', { claim: 'missing', exists: true }, false],
    ['exists false on missing claim', { claim: 'missing', exists: false }, true],
    ['exists false on present claim', { claim: 'tenant', exists: false }, false],
    ['null counts as missing for exists', { claim: 'nothing', exists: false }, true],
    ['null fails in', { claim: 'nothing', in: [null] }, false],
    ['a property of a string is missing', { claim: 'tenant.length', exists: false }, true],
    ['a property of an array is missing', { claim: 'groups.length', exists: false }, true],
  ];
  for (const [name, spec, want] of table) {
    test(`${name} -> ${want}`, () => {
      assert.equal(compileClaimCheck(spec).test(claims), want);
    });
  }

  test('records the operator and path', () => {
    const c = compileClaimCheck({ claim: 'realm_access.roles', contains: 'admin' });
    assert.equal(c.op, 'contains');
    assert.deepEqual(c.path, ['realm_access', 'roles']);
  });

  test('describes the requirement without token values', () => {
    assert.equal(compileClaimCheck({ claim: 'tenant', in: ['acme', 'globex'] }).description, 'claim tenant in ["acme", "globex"]');
    const many = compileClaimCheck({ claim: 'tenant', in: Array.from({ length: 30 }, (_, i) => `tenant-${i}`) });
    assert.equal(many.description, 'claim tenant in [30 values]');
    assert.equal(compileClaimCheck({ claim: 'act', exists: true }).description, 'claim act exists');
    const dotted = compileClaimCheck({ claim: ['https://example.com/claims', 'org'], equals: 'a' });
    assert.equal(dotted.description, 'claim ["https://example.com/claims","org"] equals "a"');
  });
});

describe('compileClaimCheck validation', () => {
  const bad: [string, unknown][] = [
    ['no operator', { claim: 'a' }],
    ['two operators', { claim: 'a', equals: 1, exists: true }],
    ['empty in', { claim: 'a', in: [] }],
    ['in not a list', { claim: 'a', in: 'x' }],
    ['exists not boolean', { claim: 'a', exists: 'yes' }],
    ['matches not a string', { claim: 'a', matches: 1 }],
    ['contains an object', { claim: 'a', contains: { x: 1 } }],
    ['equals null', { claim: 'a', equals: null }],
    ['empty path segment', { claim: 'a..b', exists: true }],
    ['empty path', { claim: '', exists: true }],
    ['prototype key in path', { claim: '__proto__.x', exists: true }],
    ['non-string path', { claim: 5, exists: true }],
    ['backreference', { claim: 'a', matches: '(a)\\1' }],
    ['lookahead', { claim: 'a', matches: '(?=a)a' }],
    ['lookbehind', { claim: 'a', matches: '(?<=a)b' }],
  ];
  for (const [name, spec] of bad) {
    test(`rejects ${name} with invalid_claim_requirement`, () => {
      assert.throws(() => compileClaimCheck(spec as ClaimRequirementSpec), isCode('invalid_claim_requirement'));
    });
  }

  test("carries the regex engine's message for an unsupported pattern", () => {
    assert.throws(() => compileClaimCheck({ claim: 'a', matches: '(a)\\1' }), (e: unknown) => {
      return e instanceof ClaimcheckError && /invalid escape sequence/.test(e.message);
    });
  });

  test('runs a ReDoS-prone pattern in linear time', () => {
    const check = compileClaimCheck({ claim: 'x', matches: '^(a+)+$' });
    const start = performance.now();
    assert.equal(check.test({ x: 'a'.repeat(50_000) + 'b' }), false);
    assert.equal(check.test({ x: 'a'.repeat(50_000) }), true);
    assert.ok(performance.now() - start < 2000, 'took too long');
  });
});

describe('checkClaims', () => {
  test('passes when every check passes', () => {
    const checks = [compileClaimCheck({ claim: 'tenant', equals: 'acme' }), compileClaimCheck({ claim: 'sub', exists: true })];
    assert.deepEqual(checkClaims(claims, checks), { ok: true });
  });

  test('reports the first failing check', () => {
    const failing = compileClaimCheck({ claim: 'tenant', equals: 'globex' });
    const later = compileClaimCheck({ claim: 'missing', exists: true });
    const r = checkClaims(claims, [compileClaimCheck({ claim: 'sub', exists: true }), failing, later]);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.failed, failing);
  });

  test('passes with no checks', () => {
    assert.deepEqual(checkClaims({}, []), { ok: true });
  });
});
