/** The generated CRDs, installed in a real API server: what it accepts and what it rejects. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { k8sSkipReason, REPO, startKubeApiserver, type KubeApiserver } from './harness.js';
import { create, createNamespace, installCrds, testIssuer, type Plural } from './cluster-fixture.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Kubernetes suite', k8sSkipReason());

describe('CRDs in a real kube-apiserver', { skip }, () => {
  let api: KubeApiserver;
  let ns: string;
  const jwk = testIssuer().key.jwk;
  const issuer = (jwks: unknown, extra: Record<string, unknown> = {}) => ({ issuer: 'https://idp.example', jwks, audiences: ['api'], ...extra });
  const inline = { inline: { keys: [jwk] } };
  const policy = (rules: unknown[], extra: Record<string, unknown> = {}) => ({ hosts: ['a.example'], issuers: ['idp'], rules, ...extra });

  before(async () => {
    api = await startKubeApiserver();
    await installCrds(api);
    ns = await createNamespace(api, 'crds');
  });
  after(async () => {
    await api?.stop();
  });

  test('the bundled examples are accepted by the API server (server-side dry run)', async () => {
    const r = await api.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', join(REPO, 'examples')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /trustedissuer\.claimcheck\.io\/demo created \(server dry run\)/);
    assert.match(r.stdout, /authpolicy\.claimcheck\.io\/demo created \(server dry run\)/);
    assert.match(r.stdout, /tokenrevocation\.claimcheck\.io\/demo-incident created \(server dry run\)/);
  });

  test('the API server built by scripts/k8s-tools.sh reports its real version', async () => {
    const v = await api.request('GET', '/version');
    assert.match(v.body.gitVersion, /^v1\.\d+\.\d+$/);
    assert.notEqual(v.body.gitVersion, 'v0.0.0');
  });

  test('kubectl rejects a misspelled field (strict field validation) although the schema prunes unknown fields', async () => {
    const doc = ['apiVersion: claimcheck.io/v1alpha1', 'kind: AuthPolicy', `metadata: {name: typo, namespace: ${ns}}`,
      'spec: {hosts: [a.example], issuers: [idp], rules: [{name: r, match: {pathz: ["/x"]}}]}', ''].join('\n');
    const r = await api.kubectl(['apply', '-f', '-'], { input: doc });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec\.rules\[0\]\.match\.pathz"/);
  });

  const invalid: [string, Plural, unknown, RegExp][] = [
    // schema
    ['a TrustedIssuer without issuer', 'trustedissuers', { jwks: inline }, /spec\.issuer: Required value/],
    ['a TrustedIssuer with neither jwks nor introspection', 'trustedissuers', { issuer: 'https://idp.example', audiences: ['api'] }, /at least one of jwks, introspection must be set/],
    ['introspection with a client secret and a client key', 'trustedissuers', { issuer: 'https://idp.example', introspection: { endpoint: 'https://idp.example/introspect', clientId: 'c', clientSecretRef: { name: 's' }, clientKeyRef: { name: 'k' } } }, /exactly one of clientSecretRef, clientKeyRef must be set/],
    ['HS256 on an introspection-only issuer', 'trustedissuers', { issuer: 'https://idp.example', algorithms: ['HS256'], introspection: { endpoint: 'https://idp.example/introspect', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } } }, /HS256\/HS384\/HS512 need a shared secret/],
    ['an unknown algorithm', 'trustedissuers', issuer(inline, { algorithms: ['RS1'] }), /spec\.algorithms\[0\]: Unsupported value: "RS1"/],
    ['a duration in days', 'trustedissuers', issuer(inline, { clockSkew: '1d' }), /spec\.clockSkew: Invalid value: "1d"/],
    ['a rule without a name', 'authpolicies', policy([{ match: { paths: ['/x'] } }]), /spec\.rules\[0\]\.name: Required value/],
    ['a path not starting with /', 'authpolicies', policy([{ name: 'r', match: { paths: ['x/**'] } }]), /spec\.rules\[0\]\.match\.paths\[0\]: Invalid value: "x\/\*\*"/],
    ['an unknown mode', 'authpolicies', policy([{ name: 'r' }], { mode: 'permissive' }), /spec\.mode: Unsupported value: "permissive"/],
    ['a revocation with a bad issuedBefore', 'tokenrevocations', { issuer: 'idp', subjects: [{ subject: 's', issuedBefore: 'yesterday' }] }, /issuedBefore: Invalid value: "yesterday"/],
    // CEL
    ['two key sources', 'trustedissuers', issuer({ ...inline, uri: 'https://idp.example/keys' }), /exactly one of uri, discovery, inline, secretRef must be set/],
    ['no key source', 'trustedissuers', issuer({ caBundle: 'x' }), /exactly one of uri, discovery, inline, secretRef must be set/],
    ['discovery: false alone', 'trustedissuers', issuer({ discovery: false }), /discovery: false names no key source/],
    ['a clockSkew above 5m', 'trustedissuers', issuer(inline, { clockSkew: '6m' }), /clockSkew must be at most 5m/],
    ['a refreshInterval below 1s', 'trustedissuers', issuer({ uri: 'https://idp.example/keys', refreshInterval: '500ms' }), /refreshInterval must be at least 1s/],
    ['algorithm none (not in the enum)', 'trustedissuers', issuer(inline, { algorithms: ['none'] }), /spec\.algorithms\[0\]: Unsupported value: "none"/],
    ['HS256 without a secretRef', 'trustedissuers', issuer(inline, { algorithms: ['HS256'] }), /HS256\/HS384\/HS512 need a shared secret: use jwks.secretRef/],
    ['a deny rule with requirements', 'authpolicies', policy([{ name: 'r', action: 'deny', require: { scopes: { allOf: ['x'] } } }]), /a deny rule takes no require/],
    ['a claim requirement with two operators', 'authpolicies', policy([{ name: 'r', require: { claims: [{ claim: 'a', equals: 1, exists: true }] } }]), /must validate one and only one schema \(oneOf\)/],
    ['a token source naming two places', 'authpolicies', policy([{ name: 'r' }], { tokenSources: [{ header: 'authorization', cookie: 'session' }] }), /exactly one of header, cookie, query must be set/],
  ];

  for (const [what, plural, spec, message] of invalid) {
    test(`the API server rejects ${what}`, async () => {
      const r = await create(api, plural, ns, `bad-${Math.random().toString(36).slice(2, 8)}`, spec);
      assert.equal(r.status, 422, `expected 422 Invalid, got ${r.status}: ${JSON.stringify(r.body)}`);
      assert.match(String(r.body.message), message);
    });
  }

  test('valid edge cases pass: HS256 with a secretRef, introspection without jwks, a claim path as a list, clockSkew of exactly 5m', async () => {
    const hs = await create(api, 'trustedissuers', ns, 'hmac', issuer({ secretRef: { name: 'hmac-key' } }, { algorithms: ['HS256'], clockSkew: '5m' }));
    assert.equal(hs.status, 201, JSON.stringify(hs.body));
    const opaque = await create(api, 'trustedissuers', ns, 'opaque-only', { issuer: 'https://idp.example', introspection: { endpoint: 'https://idp.example/introspect', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } } });
    assert.equal(opaque.status, 201, JSON.stringify(opaque.body));
    const p = await create(api, 'authpolicies', ns, 'paths', policy([{ name: 'r', require: { claims: [{ claim: ['https://example.com/claims', 'org'], equals: 'acme' }] } }]));
    assert.equal(p.status, 201, JSON.stringify(p.body));
  });

  test('printer columns, short names and the claimcheck category are served', async () => {
    const r = await api.kubectl(['get', 'claimcheck', '-n', ns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /trustedissuer\.claimcheck\.io\/hmac\s+https:\/\/idp\.example/);
    const ti = await api.kubectl(['get', 'ccti', '-n', ns]);
    assert.match(ti.stdout.split('\n')[0]!, /^NAME\s+ISSUER\s+READY\s+ACCEPTED\s+AGE$/);
    const ap = await api.kubectl(['get', 'ccap', '-n', ns]);
    assert.match(ap.stdout.split('\n')[0]!, /^NAME\s+HOSTS\s+MODE\s+ACCEPTED\s+AGE$/);
    assert.equal((await create(api, 'tokenrevocations', ns, 'rev', { issuer: 'hmac', jtis: ['j1'] })).status, 201);
    const tr = await api.kubectl(['get', 'cctr', '-n', ns]);
    assert.match(tr.stdout.split('\n')[0]!, /^NAME\s+ISSUER\s+EXPIRED\s+ACCEPTED\s+AGE$/);
  });
});
