/** What a newcomer meets first: --version, --help, the demo's warning, and errors that point at the right place. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, startClaimcheck } from '../helpers/claimcheck-process.js';
import { FLAGS } from '../../src/cli/flag-table.js';
import { envName, type CommandName } from '../../src/cli/flag.js';
import { flagsOf } from '../../src/cli/read-flags.js';

function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'claimcheck-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const ISSUER = `apiVersion: claimcheck.io/v1alpha1
kind: TrustedIssuer
metadata: {name: idp}
spec: {issuer: "https://idp.example", jwks: {uri: "https://127.0.0.1:1/jwks"}, audiences: [api]}
`;

describe('claimcheck for a newcomer', () => {
  test('--version and -V print the package version and exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `claimcheck ${version}\n`);
    }
  });

  for (const command of ['serve', 'check', 'validate', 'test', 'healthcheck', 'demo-token'] as CommandName[]) {
    test(`${command} --help lists every flag of the command with its environment variable, exit 0`, () => {
      for (const h of ['--help', '-h']) {
        const r = cli([command, h]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^usage: claimcheck ${command}`));
        for (const n of flagsOf(command)) {
          assert.match(r.stdout, new RegExp(`--${n}\\b[^\\n]*(\\n\\s+[^\\n]*)?\\[${envName(n, FLAGS[n])}\\]`), `--${n} and its variable`);
        }
      }
    });
  }

  test('a missing config dir is one clear line and exit 2, at once', () => {
    const t0 = Date.now();
    const r = cli(['serve', '--config-dir', join(dir, 'nonexistent'), '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `claimcheck: --config-dir ${join(dir, 'nonexistent')}: no such directory\n`);
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('validate counts documents, and refuses an empty directory and a file without manifests', async () => {
    await mkdir(join(dir, 'empty'));
    const empty = cli(['validate', join(dir, 'empty')]);
    assert.equal(empty.code, 1);
    assert.match(empty.stdout, /empty: no \*\.yaml or \*\.yml files here/);
    await writeFile(join(dir, 'keys.json'), '{"keys": []}');
    const json = cli(['validate', join(dir, 'keys.json')]);
    assert.equal(json.code, 1);
    assert.match(json.stdout, /keys\.json: no claimcheck\.io\/v1alpha1 documents here/);
    await mkdir(join(dir, 'three'));
    await writeFile(join(dir, 'three', 'm.yaml'), `${ISSUER}---\n${ISSUER.replace('name: idp', 'name: idp2').replace('audiences: [api]', 'audiences: [api], bogus: 1')}---\n${ISSUER.replace('name: idp', 'name: idp3').replace('jwks:', 'jwkz:')}`);
    const three = cli(['validate', join(dir, 'three')]);
    assert.equal(three.code, 1);
    assert.match(three.stdout, /^3 document\(s\) in 1 file\(s\): 1 valid, \d+ error\(s\)/m);
  });

  test('a semantic error points at the field, and a syntax error at the line that is broken', async () => {
    await mkdir(join(dir, 'lines'));
    await writeFile(join(dir, 'lines', 'issuer.yaml'), ISSUER);
    await writeFile(join(dir, 'lines', 'policy.yaml'), [
      'apiVersion: claimcheck.io/v1alpha1', // 1
      'kind: AuthPolicy', // 2
      'metadata: {name: p}', // 3
      'spec:', // 4
      '  hosts: [a.example]', // 5
      '  issuers:', // 6
      '    - missing-idp', // 7
      '  rules: [{name: all, match: {paths: ["/**"]}}]', // 8
      '',
    ].join('\n'));
    const r = cli(['validate', join(dir, 'lines')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /policy\.yaml:7: AuthPolicy default\/p: \/spec\/issuers\/0: TrustedIssuer "missing-idp" not found/);
    await writeFile(join(dir, 'lines', 'policy.yaml'), 'apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: p\nspec: {}\n');
    const s = cli(['validate', join(dir, 'lines')]);
    assert.match(s.stdout, /policy\.yaml:3: YAML syntax error/);
  });

  test('check exits 2 on a broken configuration, and --explain-keys shows the last fetch error', async () => {
    const broken = cli(['check', '--config-dir', join(dir, 'lines'), '--host', 'a.example', '--path', '/']);
    assert.equal(broken.code, 2, broken.stdout);
    assert.match(broken.stdout, /no decision: the configuration .* has 1 error\(s\)/);
    await mkdir(join(dir, 'unreachable'));
    await writeFile(join(dir, 'unreachable', 'c.yaml'), `${ISSUER}---\napiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: p}\nspec: {hosts: [a.example], issuers: [idp], rules: [{name: all, match: {paths: ["/**"]}}]}\n`);
    const token = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIn0.c2ln';
    const r = cli(['check', '--config-dir', join(dir, 'unreachable'), '--host', 'a.example', '--path', '/', '--token', token, '--key-wait', '3s', '--explain-keys']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /decision: DENY 503/);
    assert.match(r.stdout, /issuer default\/idp: \w+, 0 key\(s\).*last error: .+/);
  });

  test('serving the bundled examples warns about the published demo key', async () => {
    const cc = await startClaimcheck({ cwd: dir });
    try {
      const w = await cc.waitForLog((l) => l.level === 'warn' && /demo key/.test(l.msg), 5_000);
      assert.equal(w.demoKey, 'examples/demo-keys/demo-signing-key.private.jwk.json');
    } finally {
      await cc.stop();
    }
  });
});
