import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests } from '../../src/model/parse-manifests.js';
import { loadConfigDir } from '../../src/model/load-config-dir.js';

const revocation = (name: string) => `apiVersion: claimcheck.io/v1alpha1
kind: TokenRevocation
metadata: {name: ${name}}
spec: {issuer: idp, jtis: [a]}
`;

describe('parseManifests', () => {
  test('reads every document of a multi-document file with its first line', () => {
    const text = `# leading comment\n${revocation('one')}---\n${revocation('two')}`;
    const { resources, problems } = parseManifests(text, 'm.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(resources.map((r) => [r.metadata.name, r.origin]), [
      ['one', { file: 'm.yaml', line: 2 }],
      ['two', { file: 'm.yaml', line: 7 }],
    ]);
  });

  test('skips empty and comment-only documents', () => {
    const { resources, problems } = parseManifests(`---\n---\n# only a comment\n---\n${revocation('a')}---\n`, 'm.yaml');
    assert.deepEqual(problems, []);
    assert.equal(resources.length, 1);
  });

  test('ignores documents of other API groups without a problem', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n---\n${revocation('a')}`;
    const { resources, problems } = parseManifests(text, 'm.yaml');
    assert.deepEqual(problems, []);
    assert.equal(resources.length, 1);
  });

  test('ignores PolicyTest documents next to the resources, even with fields no resource has', () => {
    const policyTest = 'apiVersion: claimcheck.io/v1alpha1\nkind: PolicyTest\nmetadata: {name: t}\nspec:\n  config: .\n  cases: [{name: c, expect: {decision: allow}}]\n';
    const { resources, problems } = parseManifests(`${policyTest}---\n${revocation('a')}`, 'm.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(resources.map((r) => r.kind), ['TokenRevocation']);
  });

  test('reports an unknown kind under claimcheck.io', () => {
    const { problems } = parseManifests('apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicee\nmetadata: {name: x}\nspec: {}\n', 'm.yaml');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, '/kind');
    assert.equal(problems[0]!.line, 2);
    assert.match(problems[0]!.message, /unknown kind "AuthPolicee"/);
  });

  test('reports an unsupported claimcheck.io version', () => {
    const { problems } = parseManifests(revocation('a').replace('v1alpha1', 'v9'), 'm.yaml');
    assert.equal(problems[0]?.path, '/apiVersion');
    assert.equal(problems[0]?.line, 1);
  });

  test('reports a YAML syntax error with its line and keeps the other documents', () => {
    const text = `${revocation('ok')}---\nkind: [unclosed\n`;
    const { resources, problems } = parseManifests(text, 'm.yaml');
    assert.equal(resources.length, 1);
    assert.equal(problems.length >= 1, true);
    assert.match(problems[0]!.message, /YAML syntax error/);
    assert.ok((problems[0]!.line ?? 0) >= 6, `line ${problems[0]!.line}`);
  });

  test('reads documents one at a time: an error in the middle one keeps the ones after, with exact lines', () => {
    const text = `${revocation('one')}---\napiVersion: claimcheck.io/v1alpha1\nkind: TokenRevocation\nmetadata: {name: [two\n---\n${revocation('three')}`;
    const { resources, problems } = parseManifests(text, 'm.yaml');
    assert.deepEqual(resources.map((r) => [r.metadata.name, r.origin?.line]), [['one', 1], ['three', 10]]);
    assert.ok(problems.length >= 1);
    assert.ok(problems.every((p) => p.line !== undefined && p.line >= 6 && p.line <= 9), JSON.stringify(problems));
  });

  test('garbage input is one problem at line 1 and no resource, never a throw', () => {
    const inputs: [string, RegExp][] = [
      ['\u0000\u0001', /must be a mapping/],
      ['{{{{', /YAML syntax error: Flow map/],
      [': : :', /YAML syntax error/],
      ['- a\n- b', /must be a mapping/],
      ['&a [*a, *a]', /must be a mapping/],
      ['x'.repeat(10_000), /must be a mapping/],
      ['"unterminated', /YAML syntax error: Missing closing "quote/],
      ['\t\tkey: v', /YAML syntax error: Tabs/],
    ];
    for (const [text, message] of inputs) {
      const r = parseManifests(text, 'g.yaml');
      assert.equal(r.resources.length, 0, text.slice(0, 20));
      assert.equal(r.documents, 1, 'a broken document counts as one');
      assert.equal(r.problems.length, 1, JSON.stringify(r.problems));
      assert.equal(r.problems[0]!.file, 'g.yaml');
      assert.equal(r.problems[0]!.line, 1);
      assert.match(r.problems[0]!.message, message);
    }
  });

  test('rejects a billion-laughs alias expansion instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const { problems } = parseManifests(lines.join('\n'), 'bomb.yaml');
    assert.equal(problems.length, 1);
  });
});

describe('loadConfigDir', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-load-'));
    // the layout kubelet gives a mounted ConfigMap: real files under a timestamped
    // directory, `..data` pointing at it, and top-level symlinks through `..data`
    await mkdir(join(dir, '..2024_01_01_00_00_00.123'));
    await writeFile(join(dir, '..2024_01_01_00_00_00.123', 'b.yaml'), revocation('b'));
    await symlink('..2024_01_01_00_00_00.123', join(dir, '..data'));
    await symlink(join('..data', 'b.yaml'), join(dir, 'b.yaml'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c.yml'), revocation('c'));
    await writeFile(join(dir, 'a.yaml'), revocation('a'));
    await writeFile(join(dir, 'notes.txt'), 'not yaml');
    await writeFile(join(dir, '.hidden.yaml'), revocation('hidden'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads yaml files recursively in sorted order and each ConfigMap file once', async () => {
    const loaded = await loadConfigDir(dir);
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(loaded.files, [join(dir, 'a.yaml'), join(dir, 'b.yaml'), join(dir, 'sub', 'c.yml')]);
    assert.deepEqual(loaded.resources.map((r) => r.metadata.name), ['a', 'b', 'c']);
  });

  test('reports a missing directory as a problem instead of throwing', async () => {
    const loaded = await loadConfigDir(join(dir, 'nope'));
    assert.equal(loaded.resources.length, 0);
    assert.equal(loaded.problems.length, 1);
    assert.match(loaded.problems[0]!.message, /ENOENT/);
  });
});
