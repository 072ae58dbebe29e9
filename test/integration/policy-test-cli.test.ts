/** `claimcheck test` through the built bin (bin/claimcheck.js → dist/). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from '../helpers/claimcheck-process.js';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const doc = (cases: string) => `apiVersion: claimcheck.io/v1alpha1\nkind: PolicyTest\nspec:\n  config: ${join(REPO, 'examples')}\n  cases:\n${cases}`;

describe('claimcheck test', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-test-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('passes on the bundled examples: one PASS line per case, a summary, exit 0', () => {
    const r = cli(['test', 'examples/']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    const summary = lines.pop()!;
    assert.match(summary, /^(\d+) passed, 0 failed$/);
    assert.ok(lines.length >= 10);
    assert.equal(Number(summary.split(' ')[0]), lines.length);
    for (const line of lines) assert.match(line, /^PASS {2}examples\/tests\/demo\.test\.yaml {2}\S/);
    assert.ok(lines.some((l) => l.includes('revoked')));
  });

  test('a failing case is a FAIL line that says what differed, and exit 1', async () => {
    const file = join(dir, 'failing.test.yaml');
    await writeFile(file, doc([
      '    - name: passes',
      '      request: {host: localhost, path: /healthz}',
      '      expect: {decision: allow}',
      '    - name: a reader is not an admin',
      '      request: {host: localhost, path: /admin/users}',
      '      token: {issuer: demo, claims: {sub: alice, scope: "api:read", tenant: acme}}',
      '      expect: {decision: allow, headers: {x-user-id: alice}}',
      '',
    ].join('\n')));
    const r = cli(['test', file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^PASS {2}${file} {2}passes$`, 'm'));
    assert.match(r.stdout, new RegExp(`^FAIL {2}${file}:9 {2}a reader is not an admin: expected allow, got deny 403 insufficient_scope; expected x-user-id: alice, got no x-user-id$`, 'm'));
    assert.match(r.stdout, /FAIL {2}scopes +missing scope; needs admin/);
    assert.match(r.stdout, /\n1 passed, 1 failed\n$/);
  });

  test('a broken test file is reported with file:line, and exit 2', async () => {
    const file = join(dir, 'broken.test.yaml');
    await writeFile(file, doc([
      '    - name: typo',
      '      request: {host: localhost, path: /api/orders, methd: GET}',
      '      expect: {decision: deny}',
      '',
    ].join('\n')));
    const r = cli(['test', file]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ERROR ${file}:7: PolicyTest: /spec/cases/0/request: unknown field "methd"$`, 'm'));
    assert.match(r.stdout, /0 passed, 0 failed, 1 error\(s\)\n$/);
  });

  test('a test whose configuration does not load is exit 2', async () => {
    const file = join(dir, 'noconfig.test.yaml');
    await writeFile(file, doc('    - {name: a, request: {host: localhost, path: /}, expect: {decision: deny}}\n').replace(join(REPO, 'examples'), './nowhere'));
    const r = cli(['test', file]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ERROR ${file}:1: configuration ./nowhere has 1 error\\(s\\)`, 'm'));
  });

  test('no file or a bad flag is one line on stderr and exit 2', () => {
    for (const args of [['test'], ['test', '--frobnicate', 'examples']]) {
      const r = cli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^claimcheck: [^\n]+\n$/);
    }
  });
});
