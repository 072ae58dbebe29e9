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
  test('lists each scope once, in first-seen order', () => {
    assert.deepEqual(grantedScopes({ scope: 'b a b', scp: ['a', 'c', 'b'] }), ['b', 'a', 'c']);
    const many = Array.from({ length: 40 }, (_, i) => `s${i % 20}`).join(' ');
    assert.deepEqual(grantedScopes({ scope: many }), Array.from({ length: 20 }, (_, i) => `s${i}`));
  });
  test('ignores a non-string scope and inherited properties', () => {
    assert.equal(grantedScopes({ scope: ['a'] }).length, 0);
    assert.equal(grantedScopes(Object.create({ scope: 'a' })).length, 0);
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

describe('checkScopes agrees with grantedScopes', () => {
  test('on 5,000 random claims and requirements', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const vocab = ['a', 'ab', 'b', 'a:b', 'read', 'read:all', 'write', '', ' ', 'a b', 'x\ty'];
    const pick = () => vocab[rnd(vocab.length)]!;
    const words = () => Array.from({ length: rnd(5) }, pick);
    let granted = 0;
    for (let i = 0; i < 5000; i++) {
      const claims: Record<string, unknown> = {};
      if (rnd(3) > 0) claims.scope = words().join(rnd(2) ? ' ' : '  ');
      const scpKind = rnd(3);
      if (scpKind === 1) claims.scp = words();
      if (scpKind === 2) claims.scp = words().join(' ');
      const spec = { allOf: words().filter(() => rnd(2) === 0), anyOf: words().filter(() => rnd(2) === 0) };
      const set = new Set(grantedScopes(claims));
      const expected = spec.allOf.every((s) => set.has(s)) && (spec.anyOf.length === 0 || spec.anyOf.some((s) => set.has(s)));
      const got = checkScopes(claims, spec).ok;
      assert.equal(got, expected, JSON.stringify({ claims, spec }));
      if (got) granted++;
    }
    assert.ok(granted > 500 && granted < 4500, `${granted} granted: both outcomes exercised`);
  });
});
