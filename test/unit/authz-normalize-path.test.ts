import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath } from '../../src/authz/normalize-path.js';

describe('normalizePath', () => {
  const rejected: [string, string][] = [
    ['/v1/../admin', 'path_traversal'],
    ['/v1/%2e%2e/admin', 'path_traversal'],
    ['/v1/%2E%2e/admin', 'path_traversal'],
    ['/v1/.%2e/admin', 'path_traversal'],
    ['/v1/%2E./admin', 'path_traversal'],
    ['/v1/..', 'path_traversal'],
    ['/tenants/acme/..;/globex/x', 'path_traversal'],
    ['/tenants/acme/..;jsessionid=1/globex', 'path_traversal'],
    ['/a/.;x/b', 'path_traversal'],
    ['/a/%2e%2e;/b', 'path_traversal'],
    ['/a/..%3b/b', 'path_traversal'],
    ['/a/..%3B/b', 'path_traversal'],
    ['/a/.%3Bx/b', 'path_traversal'],
    ['/a%2fb', 'encoded_slash'],
    ['/a%2Fb', 'encoded_slash'],
    ['/a%5cb', 'encoded_backslash'],
    ['/a%5Cb', 'encoded_backslash'],
    ['/a\\b', 'backslash'],
    ['/a%00', 'nul'],
    ['/a\u0000b', 'nul'],
    ['/a\nb', 'control_character'],
    ['/a%zz', 'invalid_encoding'],
    ['/a%2', 'invalid_encoding'],
    ['/a%', 'invalid_encoding'],
    ['http://evil/admin', 'not_origin_form'],
    ['*', 'not_origin_form'],
    ['', 'not_origin_form'],
    ['admin', 'not_origin_form'],
  ];
  for (const [input, reason] of rejected) {
    test(`rejects ${JSON.stringify(input)} as ${reason}`, () => {
      assert.deepEqual(normalizePath(input), { ok: false, reason });
    });
  }

  const accepted: [string, string, string][] = [
    ['/admin', '/admin', ''],
    ['/a/b;v=1/c', '/a/b;v=1/c', ''],
    ['/a/...;x', '/a/...;x', ''],
    ['/a/.x;y', '/a/.x;y', ''],
    ['/a/;/b', '/a/;/b', ''],
    ['//admin', '/admin', ''],
    ['/a//b///c', '/a/b/c', ''],
    ['/./admin', '/admin', ''],
    ['/%2e/admin', '/admin', ''],
    ['/a/./b/.', '/a/b/', ''],
    ['/admin?x=/../', '/admin', 'x=/../'],
    ['/admin?x=%2f&y=\\', '/admin', 'x=%2f&y=\\'],
    ['/%61dmin', '/admin', ''],
    ['/%41%7E%2D%5f', '/A~-_', ''],
    ['/admin#frag', '/admin', ''],
    ['/admin#frag?notquery', '/admin', ''],
    ['/admin?q=1#frag', '/admin', 'q=1'],
    ['/a%3ab', '/a%3Ab', ''],
    ['/a%25', '/a%25', ''],
    ['/a..b/c.', '/a..b/c.', ''],
    ['/', '/', ''],
    ['/v1/', '/v1/', ''],
  ];
  for (const [input, path, query] of accepted) {
    test(`normalises ${JSON.stringify(input)} to ${path}`, () => {
      assert.deepEqual(normalizePath(input), { ok: true, path, query });
    });
  }

  test('does not double-decode an escaped percent sign', () => {
    assert.deepEqual(normalizePath('/%252e%252e/admin'), { ok: true, path: '/%252e%252e/admin', query: '' });
  });
});
