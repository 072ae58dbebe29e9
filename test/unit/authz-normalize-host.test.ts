import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeHost } from '../../src/authz/normalize-host.js';

describe('normalizeHost', () => {
  const table: [string, string][] = [
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com.:443', 'example.com'],
    ['[::1]:8080', '::1'],
    ['[::1]', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['10.0.0.1:80', '10.0.0.1'],
    ['', ''],
    ['[', ''],
    [':', ''],
    [' example.com', ''],
    ['exa mple.com', ''],
    ['a..b', ''],
    ['.example.com', ''],
    ['\u212Aey.example.com', ''],
    ['bücher.example', ''],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    [`${'a'.repeat(63)}.example.com`, `${'a'.repeat(63)}.example.com`],
    [`${'a'.repeat(64)}.example.com`, ''],
    [`${'a.'.repeat(125)}com`, `${'a.'.repeat(125)}com`], // 253 characters
    [`${'a.'.repeat(126)}com`, ''], // 255
    ['a.'.repeat(8192), ''],
  ];
  for (const [input, want] of table) {
    test(`normalises ${JSON.stringify(input)} to ${JSON.stringify(want)}`, () => {
      assert.equal(normalizeHost(input), want);
    });
  }

  test('never throws on non-string input', () => {
    assert.equal(normalizeHost(undefined as unknown as string), '');
  });
});
