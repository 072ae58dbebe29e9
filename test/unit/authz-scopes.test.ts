import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkScopes, grantedScopes } from '../../src/authz/scopes.js';

describe('grantedScopes', () => {
  test('reads a space-separated scope string', () => {
    assert.deepEqual([...grantedScopes({ scope: 'a  b c' })].sort(), ['a', 'b', 'c']);
  });
  test('reads an scp array', () => {
    assert.deepEqual([...grantedScopes({ scp: ['a', 'b', 3] })].sort(), ['a', 'b']);
  });
  test('reads an scp string', () => {
    assert.deepEqual([...grantedScopes({ scp: 'a b' })].sort(), ['a', 'b']);
  });
  test('unions scope and scp', () => {
    assert.deepEqual([...grantedScopes({ scope: 'a', scp: ['b'] })].sort(), ['a', 'b']);
  });
  test('ignores a non-string scope and inherited properties', () => {
    assert.equal(grantedScopes({ scope: ['a'] }).size, 0);
    assert.equal(grantedScopes(Object.create({ scope: 'a' })).size, 0);
  });
});

describe('checkScopes', () => {
  const table: [string, Record<string, unknown>, { allOf: string[]; anyOf: string[] }, { ok: true } | { ok: false; needed: string[] }][] = [
    ['allOf satisfied', { scope: 'w r' }, { allOf: ['w'], anyOf: [] }, { ok: true }],
    ['allOf partly missing', { scope: 'w' }, { allOf: ['w', 'x'], anyOf: [] }, { ok: false, needed: ['w', 'x'] }],
    ['anyOf one present', { scp: ['r'] }, { allOf: [], anyOf: ['r', 'w'] }, { ok: true }],
    ['anyOf none present', { scope: 'x' }, { allOf: [], anyOf: ['r', 'w'] }, { ok: false, needed: ['r', 'w'] }],
    ['allOf and anyOf both satisfied', { scope: 'a r' }, { allOf: ['a'], anyOf: ['r', 'w'] }, { ok: true }],
    ['allOf ok but anyOf missing', { scope: 'a' }, { allOf: ['a'], anyOf: ['r', 'w'] }, { ok: false, needed: ['a', 'r', 'w'] }],
    ['no scopes claim at all', {}, { allOf: ['a'], anyOf: [] }, { ok: false, needed: ['a'] }],
    ['empty requirement', {}, { allOf: [], anyOf: [] }, { ok: true }],
    ['scope words are exact', { scope: 'payments:writer' }, { allOf: ['payments:write'], anyOf: [] }, { ok: false, needed: ['payments:write'] }],
  ];
  for (const [name, claims, scopes, want] of table) {
    test(name, () => {
      assert.deepEqual(checkScopes(claims, scopes), want);
    });
  }
});
