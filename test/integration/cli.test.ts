import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN, REPO } from '../helpers/claimcheck-process.js';
import { createFixture } from '../helpers/fixture-config.js';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the claimcheck CLI', () => {
  test('check allows a demo token on the bundled examples and exits 0', () => {
    const tok = cli(['demo-token', '--sub', 'alice', '--scope', 'api:read']);
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const r = cli(['check', '--host', 'localhost', '--path', '/api/orders', '--token', token]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /decision: ALLOW/);
    assert.match(r.stdout, /x-user-id: alice/);
  });

  test('check denies without a token, explains the failed step and exits 1', () => {
    const r = cli(['check', '--host', 'localhost', '--path', '/api/orders']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /decision: DENY 401/);
    assert.match(r.stdout, /rule/);
  });

  test('check names the failing verification step for an expired token', async () => {
    const fx = await createFixture();
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = await fx.sign({ iat: now - 900, exp: now - 700 });
      const r = cli(['check', '--config-dir', fx.dir, '--host', 'payments.example.com', '--path', '/v1/x', '--token', token]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /FAIL\s+verify\s+token_expired/);
      assert.ok(!r.stdout.includes(token.split('.')[2]!), 'the explanation never prints the token');
    } finally {
      await fx.cleanup();
    }
  });

  test('validate accepts the bundled examples', () => {
    const r = cli(['validate', 'examples']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 error\(s\)/);
  });

  test('validate reports file:line for an invalid manifest and exits 1', async () => {
    const fx = await createFixture();
    try {
      await fx.writeRaw('bad.yaml', 'apiVersion: claimcheck.io/v1alpha1\nkind: TrustedIssuer\nmetadata: {name: x}\nspec:\n  issuer: https://x\n  jwks: {uri: "https://x/k", discovery: true}\n  clockSkew: 10m\n');
      const r = cli(['validate', fx.dir]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /bad\.yaml:\d+: /);
    } finally {
      await fx.cleanup();
    }
  });

  test('a bad flag is one clear line and a non-zero exit', () => {
    for (const args of [['serve', '--grpc-adr', 'x'], ['serve', '--unmatched-host', 'maybe'], ['serve', '--grpc-addr', 'nope'], ['frobnicate']]) {
      const r = cli(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^claimcheck: /);
    }
  });

  test('flags are read from CLAIMCHECK_ environment variables', () => {
    const r = cli(['serve'], { CLAIMCHECK_UNMATCHED_HOST: 'sometimes' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--unmatched-host must be one of deny, allow/);
  });
});
