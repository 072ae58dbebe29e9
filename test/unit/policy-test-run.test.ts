import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePolicyTests } from '../../src/policy-test/parse-policy-test.js';
import { runPolicyTest, type PolicyTestReport } from '../../src/policy-test/run-policy-test.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, signToken } from '../helpers/tokens.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const OPTS = { namespace: 'default', maxTokenBytes: 16_384 };

const issuer = (name: string, spec: string, namespace = 'default') =>
  `apiVersion: claimcheck.io/v1alpha1\nkind: TrustedIssuer\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec}---\n`;

const policy = (name: string, spec: string, namespace = 'default') =>
  `apiVersion: claimcheck.io/v1alpha1\nkind: AuthPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec}---\n`;

async function run(dir: string, cases: string, extra = ''): Promise<PolicyTestReport> {
  const file = join(dir, 'case.test.yaml');
  await writeFile(file, `apiVersion: claimcheck.io/v1alpha1\nkind: PolicyTest\n${extra}spec:\n  config: config\n  cases:\n${cases}`);
  const { tests, problems } = parsePolicyTests(await readFile(file, 'utf8'), file);
  assert.deepEqual(problems, []);
  return runPolicyTest(tests[0]!, OPTS);
}

function outcomes(r: PolicyTestReport): [string, boolean, string][] {
  return r.results.map((x) => [x.testCase.name, x.passed, x.differences.join('; ')]);
}

describe('runPolicyTest', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-ptest-'));
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'hmac.key'), 'a configured secret that the run must not need, 32+ bytes\n');
    await writeFile(
      join(dir, 'config', 'config.yaml'),
      // remote: no network in a test run; hmac: a secret file the run replaces
      issuer('remote', '  issuer: https://idp.invalid\n  jwks: {uri: "https://idp.invalid/jwks"}\n  audiences: [orders]\n  algorithms: [PS256]\n  tokenTypes: [at+jwt]\n') +
        issuer('hmac', '  issuer: https://hmac.invalid\n  jwks: {secretRef: {path: hmac.key}}\n  algorithms: [HS256]\n') +
        issuer('shop-idp', '  issuer: https://shop.invalid\n  jwks: {uri: "https://shop.invalid/jwks"}\n', 'shop') +
        policy('orders', '  hosts: [orders.example.com]\n  issuers: [remote]\n  rules:\n    - {name: all, match: {paths: ["/**"]}, require: {scopes: {allOf: [read]}}}\n  identity: {headers: {x-user-id: sub}}\n') +
        policy('cookies', '  hosts: [web.example.com]\n  issuers: [hmac]\n  tokenSources: [{cookie: session}]\n  rules: [{name: all, match: {paths: ["/**"]}}]\n  identity: {headers: {x-user-id: sub}, forwardToken: false}\n') +
        policy('query', '  hosts: [q.example.com]\n  issuers: [hmac]\n  tokenSources: [{query: access_token}]\n  rules: [{name: all, match: {paths: ["/**"]}}]\n') +
        policy('audit', '  hosts: [audit.example.com]\n  issuers: [remote]\n  mode: audit\n  rules: [{name: all, match: {paths: ["/**"]}}]\n') +
        policy('shop', '  hosts: [shop.example.com]\n  issuers: [shop-idp]\n  rules: [{name: all, match: {paths: ["/**"]}}]\n', 'shop'),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('every case of the bundled demo test passes', async () => {
    const file = join(EXAMPLES, 'tests', 'demo.test.yaml');
    const { tests, problems } = parsePolicyTests(await readFile(file, 'utf8'), file);
    assert.deepEqual(problems, []);
    const report = await runPolicyTest(tests[0]!, OPTS);
    assert.deepEqual(report.problems, []);
    assert.ok(report.results.length >= 10);
    assert.deepEqual(report.results.filter((r) => !r.passed).map((r) => [r.testCase.name, r.differences]), []);
  });

  test('signs for a remote PS256 issuer with token types', async () => {
    const r = await run(dir, [
      '    - name: allowed',
      '      request: {host: orders.example.com, path: /x, headers: {x-other: kept}}',
      '      token: {issuer: remote, claims: {sub: alice, scope: read}}',
      '      expect: {decision: allow, reason: allowed, headers: {x-user-id: alice, x-other: kept}}',
      '',
    ].join('\n'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(outcomes(r), [['allowed', true, '']]);
  });

  test('a test run fetches no keys: a remote issuer no case signs for has none', async () => {
    const real = generateKey('ES256', 'real');
    const server = await startJwksServer({ jwks: { keys: [real.jwk] } });
    const sub = await mkdtemp(join(tmpdir(), 'claimcheck-ptest-remote-'));
    try {
      await mkdir(join(sub, 'config'));
      const remoteIssuer = (name: string, iss: string) => issuer(name, `  issuer: ${iss}\n  jwks: {uri: "${server.jwksUrl}", allowInsecureHttp: true}\n  algorithms: [ES256]\n`);
      await writeFile(
        join(sub, 'config', 'c.yaml'),
        remoteIssuer('signed', 'https://signed.invalid') + remoteIssuer('unsigned', 'https://unsigned.invalid') +
          policy('p', '  hosts: [a.example.com]\n  issuers: [signed, unsigned]\n  rules: [{name: all, match: {paths: ["/**"]}}]\n'),
      );
      const now = Math.floor(Date.now() / 1000);
      const realToken = await signToken({ iss: 'https://unsigned.invalid', iat: now, exp: now + 60 }, { key: real });
      const r = await run(sub, [
        '    - {name: signed, request: {host: a.example.com, path: /}, token: {issuer: signed}, expect: {decision: allow}}',
        `    - {name: unsigned, request: {host: a.example.com, path: /}, raw: ${realToken}, expect: {decision: deny, status: 503, reason: keys_unavailable}}`,
        '',
      ].join('\n'));
      assert.deepEqual(outcomes(r), [['signed', true, ''], ['unsigned', true, '']]);
      assert.equal(server.totalRequests(), 0);
    } finally {
      await server.close();
      await rm(sub, { recursive: true, force: true });
    }
  });

  test('an HMAC issuer gets a throwaway secret; the token goes where the policy looks for it', async () => {
    const r = await run(dir, [
      '    - name: cookie',
      '      request: {host: web.example.com, path: /, headers: {cookie: theme=dark}}',
      '      token: {issuer: hmac, claims: {sub: carol}}',
      '      expect: {decision: allow, headers: {x-user-id: carol, cookie: theme=dark}}',
      '    - name: query',
      '      request: {host: q.example.com, path: /search?q=1}',
      '      token: {issuer: default/hmac}',
      '      expect: {decision: allow, reason: allowed}',
      '',
    ].join('\n'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(outcomes(r), [['cookie', true, ''], ['query', true, '']]);
  });

  test('a failing case says what differed and keeps the explanation', async () => {
    const r = await run(dir, [
      '    - name: scope',
      '      request: {host: orders.example.com, path: /x}',
      '      token: {issuer: remote, claims: {sub: alice}}',
      '      expect: {decision: allow, headers: {x-user-id: alice}}',
      '',
    ].join('\n'));
    const [res] = r.results;
    assert.equal(res!.passed, false);
    assert.deepEqual(res!.differences, ['expected allow, got deny 403 insufficient_scope', 'expected x-user-id: alice, got no x-user-id']);
    assert.deepEqual(res!.steps.filter((s) => !s.ok).map((s) => s.step), ['scopes']);
  });

  test('audit mode allows what it would deny, with reason audit_deny', async () => {
    const r = await run(dir, '    - {name: audit, request: {host: audit.example.com, path: /}, expect: {decision: allow, reason: audit_deny}}\n');
    assert.deepEqual(outcomes(r), [['audit', true, '']]);
  });

  test('a bare issuer name is looked up in the test\'s namespace, then claimcheck\'s own', async () => {
    const cases = '    - {name: shop, request: {host: shop.example.com, path: /}, token: {issuer: shop-idp}, expect: {decision: allow}}\n' +
      '    - {name: mesh-wide, request: {host: orders.example.com, path: /}, token: {issuer: remote, claims: {scope: read}}, expect: {decision: allow}}\n';
    const r = await run(dir, cases, 'metadata: {name: t, namespace: shop}\n');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(outcomes(r), [['shop', true, ''], ['mesh-wide', true, '']]);
    const outside = await run(dir, cases.split('\n')[0]! + '\n');
    assert.equal(outside.results.length, 0);
    assert.match(outside.problems[0]!.message, /token.issuer "shop-idp" is not a TrustedIssuer of config/);
    assert.equal(outside.problems[0]!.line, 6);
  });

  test('a broken configuration runs no case and reports its problems', async () => {
    await mkdir(join(dir, 'bad', 'config'), { recursive: true });
    await writeFile(join(dir, 'bad', 'config', 'x.yaml'), issuer('x', '  issuer: https://x\n  jwks: {uri: "https://x/k"}\n  clockSkew: 10m\n'));
    const r = await run(join(dir, 'bad'), '    - {name: a, request: {host: h, path: /}, expect: {decision: deny}}\n');
    assert.equal(r.results.length, 0);
    assert.match(r.problems[0]!.message, /configuration config has 1 error\(s\)/);
    assert.match(r.problems[1]!.message, /clockSkew 10m is above the maximum/);
  });
});
