import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests } from '../../src/model/parse-manifests.js';
import { validateResource } from '../../src/model/validate-resource.js';

const ISSUER_HEAD = `apiVersion: claimcheck.io/v1alpha1
kind: TrustedIssuer
metadata: {name: idp}
spec:
  issuer: https://idp.example.com
`;
const POLICY_HEAD = `apiVersion: claimcheck.io/v1alpha1
kind: AuthPolicy
metadata: {name: p}
spec:
  issuers: [idp]
  rules:
`;

interface Case {
  name: string;
  yaml: string;
  path: string;
  line: number;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: 'a typo in a rule match names the unknown field and its line',
    yaml: `${POLICY_HEAD}    - name: r
      match:
        pathz: [/a]
`,
    path: '/spec/rules/0/match',
    line: 9,
    message: /unknown field "pathz"/,
  },
  {
    name: 'a list where a string belongs is a type error',
    yaml: `${ISSUER_HEAD}  jwks: {uri: https://idp.example.com/jwks}
  clockSkew: [30s]
`,
    path: '/spec/clockSkew',
    line: 7,
    message: /must be a string/,
  },
  {
    name: 'two key sources are rejected',
    yaml: `${ISSUER_HEAD}  jwks:
    uri: https://idp.example.com/jwks
    discovery: true
`,
    path: '/spec/jwks',
    line: 7,
    message: /exactly one of uri, discovery, inline, secretRef is allowed, found uri and discovery/,
  },
  {
    name: 'no key source is rejected',
    yaml: `${ISSUER_HEAD}  jwks:
    refreshInterval: 5m
`,
    path: '/spec/jwks',
    line: 7,
    message: /exactly one of uri, discovery, inline, secretRef is required/,
  },
  {
    name: 'two claim operators are rejected',
    yaml: `${POLICY_HEAD}    - name: r
      require:
        claims:
          - {claim: tenant, equals: acme, in: [acme]}
`,
    path: '/spec/rules/0/require/claims/0',
    line: 10,
    message: /exactly one of equals, in, contains, matches, exists is allowed, found equals and in/,
  },
  {
    name: 'alg none is never allowed',
    yaml: `${ISSUER_HEAD}  jwks: {discovery: true}
  algorithms:
    - RS256
    - none
`,
    path: '/spec/algorithms/1',
    line: 9,
    message: /"none" is never allowed/,
  },
  {
    name: 'a bad duration says what a duration looks like',
    yaml: `${ISSUER_HEAD}  jwks:
    discovery: true
    refreshInterval: 10 minutes
`,
    path: '/spec/jwks/refreshInterval',
    line: 8,
    message: /must be a duration like "30s"/,
  },
  {
    name: 'an unknown action lists the allowed ones',
    yaml: `${POLICY_HEAD}    - name: r
      action: permit
`,
    path: '/spec/rules/0/action',
    line: 8,
    message: /must be one of: require, allowAnonymous, deny/,
  },
  {
    name: 'a token source with two kinds is rejected',
    yaml: `${POLICY_HEAD}    - name: r
  tokenSources:
    - {cookie: a, query: b}
`,
    path: '/spec/tokenSources/0',
    line: 9,
    message: /exactly one of header, cookie, query is allowed/,
  },
  {
    name: 'a metadata name must be a DNS-1123 subdomain',
    yaml: `apiVersion: claimcheck.io/v1alpha1
kind: AuthPolicy
metadata:
  name: Not_Valid
spec: {rules: []}
`,
    path: '/metadata/name',
    line: 4,
    message: /DNS-1123 subdomain/,
  },
  {
    name: 'a revocation date must be RFC 3339',
    yaml: `apiVersion: claimcheck.io/v1alpha1
kind: TokenRevocation
metadata: {name: r}
spec:
  issuer: idp
  expiresAt: tomorrow
`,
    path: '/spec/expiresAt',
    line: 6,
    message: /RFC 3339/,
  },
  {
    name: 'a missing required field is named',
    yaml: `apiVersion: claimcheck.io/v1alpha1
kind: TrustedIssuer
metadata: {name: r}
spec:
  jwks: {discovery: true}
`,
    path: '/spec',
    line: 5,
    message: /missing required field "issuer"/,
  },
  {
    name: 'an issuer needs jwks or introspection',
    yaml: `${ISSUER_HEAD}  audiences: [api]
`,
    path: '/spec',
    line: 5,
    message: /^at least one of jwks, introspection is required$/,
  },
];

describe('schema validation', () => {
  for (const c of cases) {
    test(c.name, () => {
      const { resources, problems } = parseManifests(c.yaml, 'x.yaml');
      assert.equal(resources.length, 0);
      const p = problems.find((q) => q.path === c.path);
      assert.ok(p, `no problem at ${c.path}: ${JSON.stringify(problems)}`);
      assert.match(p.message, c.message);
      assert.equal(p.line, c.line);
      assert.equal(p.file, 'x.yaml');
    });
  }

  test('the claim path accepts a string or a list of strings and nothing else', () => {
    const base = { apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'p' } };
    const withClaim = (claim: unknown) => ({ ...base, spec: { rules: [{ name: 'r', require: { claims: [{ claim, exists: true }] } }] } });
    assert.deepEqual(validateResource(withClaim('a.b')), []);
    assert.deepEqual(validateResource(withClaim(['https://x/claims', 'org'])), []);
    const bad = validateResource(withClaim(3));
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.path, '/spec/rules/0/require/claims/0/claim');
  });

  test('introspection takes exactly one client credential: a secret (client_secret_basic) or a key (private_key_jwt)', () => {
    const withAuth = (auth: Record<string, unknown>) => validateResource({ apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'i' }, spec: { issuer: 'https://idp.example.com', introspection: { endpoint: 'https://idp.example.com/introspect', clientId: 'c', ...auth } } });
    assert.deepEqual(withAuth({ clientKeyRef: { path: './k.pem' }, clientAssertionAudience: 'https://idp.example.com' }), []);
    const both = withAuth({ clientKeyRef: { path: './k.pem' }, clientSecretRef: { path: './s' } });
    assert.deepEqual(both.map((p) => [p.path, p.message]), [['/spec/introspection', 'exactly one of clientSecretRef, clientKeyRef is allowed, found clientSecretRef and clientKeyRef']]);
    const neither = withAuth({});
    assert.deepEqual(neither.map((p) => [p.path, p.message]), [['/spec/introspection', 'exactly one of clientSecretRef, clientKeyRef is required']]);
  });

  test('introspection without jwks is a valid issuer', () => {
    const spec = { issuer: 'https://idp.example.com', introspection: { endpoint: 'https://idp.example.com/introspect', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } } };
    assert.deepEqual(validateResource({ apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'i' }, spec }), []);
  });

  test('a resource that is not a mapping is one readable problem', () => {
    const problems = validateResource('nope');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /must be a mapping/);
  });

  test('status and extra metadata fields from the API server are accepted', () => {
    const problems = validateResource({
      apiVersion: 'claimcheck.io/v1alpha1',
      kind: 'TokenRevocation',
      metadata: { name: 'r', namespace: 'ns', labels: { a: 'b' }, managedFields: [] },
      spec: { issuer: 'idp', jtis: ['a'] },
      status: { conditions: [] },
    });
    assert.deepEqual(problems, []);
  });
});
