import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compilePathGlob } from '../../src/authz/path-glob.js';
import { ClaimcheckError } from '../../src/errors.js';

describe('compilePathGlob', () => {
  const table: [string, string, boolean][] = [
    ['/v1/**', '/v1', true],
    ['/v1/**', '/v1/', true],
    ['/v1/**', '/v1/a', true],
    ['/v1/**', '/v1/a/b', true],
    ['/v1/**', '/v10', false],
    ['/v1/**', '/v2/a', false],
    ['/v1/**', '/', false],
    ['/v1/*', '/v1/a', true],
    ['/v1/*', '/v1', false],
    ['/v1/*', '/v1/', false],
    ['/v1/*', '/v1/a/b', false],
    ['/v1/*/items', '/v1/42/items', true],
    ['/v1/*/items', '/v1/items', false],
    ['/**/admin', '/admin', true],
    ['/**/admin', '/a/b/admin', true],
    ['/**/admin', '/a/b/admin/x', false],
    ['/a/**/b/**/c', '/a/x/b/y/z/c', true],
    ['/a/**/b/**/c', '/a/b/c', true],
    ['/a/**/b/**/c', '/a/c/b', false],
    ['/**', '/', true],
    ['/**', '/anything/at/all', true],
    ['/healthz', '/healthz', true],
    ['/healthz', '/healthz/', false],
    ['/healthz', '/HEALTHZ', false],
    ['/', '/', true],
    ['/', '/a', false],
    ['/%61dmin', '/admin', true],
    ['/a%3ab', '/a%3Ab', true],
  ];
  for (const [pattern, path, want] of table) {
    test(`${pattern} ${want ? 'matches' : 'does not match'} ${path}`, () => {
      assert.equal(compilePathGlob(pattern)(path), want);
    });
  }

  const bad = ['v1/**', '', '/v1/foo*', '/v1/**x', '/v1/a?b', '/v1#x', '/v1/../a', '/a%2fb', '/a\\b', '/***'];
  for (const pattern of bad) {
    test(`rejects the pattern ${JSON.stringify(pattern)} with invalid_path_pattern`, () => {
      assert.throws(
        () => compilePathGlob(pattern),
        (e: unknown) => e instanceof ClaimcheckError && e.code === 'invalid_path_pattern',
      );
    });
  }

  test('matches many ** segments without blowing up', () => {
    const m = compilePathGlob('/**/a/**/a/**/a/**/b');
    const path = '/' + Array(2000).fill('a').join('/');
    const start = performance.now();
    assert.equal(m(path), false);
    assert.ok(performance.now() - start < 2000);
  });
});

describe('compilePathGlob: the /prefix/** shortcut', () => {
  test('agrees with the general matcher (`/prefix/**/**`) on 20,000 random normalised paths', () => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const segs = ['a', 'ab', 'b', 'api', 'v1', ''];
    const path = () => {
      const n = rnd(5);
      const parts = Array.from({ length: n }, () => segs[rnd(segs.length - 1)]!);
      return `/${parts.join('/')}${rnd(4) === 0 ? '/' : ''}`.replace(/\/+/g, '/');
    };
    let matched = 0;
    for (const prefix of ['', '/a', '/a/b', '/api/v1']) {
      const fast = compilePathGlob(`${prefix}/**`);
      const general = compilePathGlob(`${prefix}/**/**`);
      for (let i = 0; i < 5000; i++) {
        const p = path();
        assert.equal(fast(p), general(p), `${prefix}/** on ${p}`);
        if (fast(p)) matched++;
      }
    }
    assert.ok(matched > 5000 && matched < 20000, `${matched} matched`);
  });
});
