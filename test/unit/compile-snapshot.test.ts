import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import type { AnyResource, AuthPolicySpec, TrustedIssuerSpec } from '../../src/model/types.js';

const ROOT = 'claimcheck';
const JWKS = { uri: 'https://idp.example.com/jwks' };

function issuer(name: string, namespace?: string, spec: Partial<TrustedIssuerSpec> = {}): AnyResource {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'TrustedIssuer',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { issuer: `https://${name}.example.com`, jwks: JWKS, audiences: ['api'], ...spec },
  };
}

function policy(name: string, namespace: string | undefined, spec: Partial<AuthPolicySpec> = {}, creationTimestamp?: string): AnyResource {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'AuthPolicy',
    metadata: { name, ...(namespace ? { namespace } : {}), ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec: { issuers: ['idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }], ...spec },
  };
}

const compile = (resources: AnyResource[]) => compileSnapshot(resources, { namespace: ROOT, generation: 7, nowMs: Date.parse('2026-01-01T00:00:00Z') });

describe('compileSnapshot: issuers', () => {
  test('fills verification defaults', () => {
    const { snapshot, problems } = compile([issuer('idp')]);
    assert.deepEqual(problems, []);
    const i = snapshot!.issuers.get(`${ROOT}/idp`)!;
    assert.deepEqual(i.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
    assert.equal(i.clockSkewSec, 30);
    assert.deepEqual(i.requiredClaims, ['exp']);
    assert.equal(i.jwks.refreshIntervalMs, 600_000);
    assert.equal(i.jwks.minRefreshIntervalMs, 30_000);
    assert.equal(i.jwks.maxStalenessMs, 86_400_000);
    assert.equal(snapshot!.generation, 7);
  });

  test('always requires exp and normalises token types', () => {
    const { snapshot } = compile([issuer('idp', undefined, { requiredClaims: ['sub', 'exp'], tokenTypes: ['AT+JWT', 'application/at+jwt', 'JWT'] })]);
    const i = snapshot!.issuers.get(`${ROOT}/idp`)!;
    assert.deepEqual(i.requiredClaims, ['exp', 'sub']);
    assert.deepEqual(i.tokenTypes, ['at+jwt', 'jwt']);
  });

  test('rejects HMAC algorithms without a secretRef', () => {
    const { snapshot, problems } = compile([issuer('idp', undefined, { algorithms: ['HS256'] })]);
    assert.equal(snapshot, undefined);
    assert.equal(problems[0]!.path, '/spec/algorithms');
    assert.match(problems[0]!.message, /secretRef/);
  });

  test('accepts HMAC with a secretRef path resolved against the manifest directory', () => {
    const r = issuer('idp', undefined, { algorithms: ['HS256'], jwks: { secretRef: { path: 'keys/secret.json' } } });
    r.origin = { file: '/etc/claimcheck/issuers/idp.yaml', line: 1 };
    const { snapshot, problems } = compile([r]);
    assert.deepEqual(problems, []);
    assert.equal(snapshot!.issuers.get(`${ROOT}/idp`)!.jwks.secretPath, '/etc/claimcheck/issuers/keys/secret.json');
  });

  test('decryption needs jwks: the inner token is verified with its keys', () => {
    const introspection = { endpoint: 'https://idp.example.com/introspect', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } };
    const ok = compile([issuer('idp', undefined, { jwks: undefined, introspection })]);
    assert.deepEqual(ok.problems, []);
    assert.equal(ok.snapshot!.issuers.get('claimcheck/idp')?.jwks.none, true);
    const bad = compile([issuer('idp', undefined, { jwks: undefined, introspection, decryption: { secretRef: { name: 'd', key: 'k' } } })]);
    assert.ok(bad.problems.some((p) => p.path === '/spec/decryption' && /needs jwks/.test(p.message)), JSON.stringify(bad.problems));
  });

  test('introspection: https only unless allowInsecureHttp (a warning then); cacheTTL at most 1h; a caBundle must hold a certificate', () => {
    const at = (over: Record<string, unknown>) => compile([issuer('idp', undefined, { introspection: { endpoint: 'http://idp.example.com/introspect', clientId: 'c', clientSecretRef: { name: 's' }, ...over } as never })]);
    assert.ok(at({}).problems.some((p) => p.path === '/spec/introspection/endpoint' && /allowInsecureHttp/.test(p.message)));
    const insecure = at({ allowInsecureHttp: true });
    assert.deepEqual(insecure.problems, []);
    assert.ok(insecure.warnings.some((w) => w.path === '/spec/introspection/allowInsecureHttp'));
    assert.ok(at({ endpoint: 'https://idp.example.com/i', cacheTTL: '2h' }).problems.some((p) => p.path === '/spec/introspection/cacheTTL'));
    assert.ok(at({ endpoint: 'https://idp.example.com/i', caBundle: 'not a certificate' }).problems.some((p) => p.path === '/spec/introspection/caBundle'));
  });

  test('introspection: the credential decides client_secret_basic or private_key_jwt; clientAssertionAudience needs the key', () => {
    const base = { endpoint: 'https://idp.example.com/introspect', clientId: 'c' };
    const secret = compile([issuer('idp', undefined, { introspection: { ...base, clientSecretRef: { name: 's' } } })]);
    assert.equal(secret.snapshot!.issuers.get('claimcheck/idp')?.introspection?.clientAuth, 'client_secret_basic');
    const key = compile([issuer('idp', undefined, { introspection: { ...base, clientKeyRef: { name: 'k' } } })]).snapshot!.issuers.get('claimcheck/idp')!.introspection!;
    assert.deepEqual([key.clientAuth, key.assertionAudience, key.secretRef?.name], ['private_key_jwt', base.endpoint, 'k']);
    const bad = compile([issuer('idp', undefined, { introspection: { ...base, clientSecretRef: { name: 's' }, clientAssertionAudience: 'https://idp.example.com' } })]);
    assert.ok(bad.problems.some((p) => p.path === '/spec/introspection/clientAssertionAudience'), JSON.stringify(bad.problems));
  });

  test('rejects a clockSkew above 5m', () => {
    const { problems } = compile([issuer('idp', undefined, { clockSkew: '6m' })]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, '/spec/clockSkew');
    assert.match(problems[0]!.message, /5m/);
    assert.deepEqual(compile([issuer('idp', undefined, { clockSkew: '5m' })]).problems, []);
  });

  test('rejects an http:// JWKS uri unless allowInsecureHttp, which is a warning', () => {
    const insecure = { uri: 'http://idp.local/jwks' };
    assert.match(compile([issuer('idp', undefined, { jwks: insecure })]).problems[0]!.message, /allowInsecureHttp/);
    const ok = compile([issuer('idp', undefined, { jwks: { ...insecure, allowInsecureHttp: true } })]);
    assert.deepEqual(ok.problems, []);
    assert.ok(ok.warnings.some((w) => w.path === '/spec/jwks/allowInsecureHttp'));
  });

  test('warns when no audiences are configured', () => {
    const { warnings, snapshot } = compile([issuer('idp', undefined, { audiences: [] })]);
    assert.ok(snapshot);
    assert.ok(warnings.some((w) => w.path === '/spec/audiences'));
  });

  test('rejects private key material in an inline JWKS', () => {
    const { problems } = compile([issuer('idp', undefined, { jwks: { inline: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' }] } } })]);
    assert.match(problems[0]!.message, /private key material/);
  });

  test('fingerprints are stable across key order and change with verification settings', () => {
    const a = compile([issuer('idp', undefined, { audiences: ['x', 'y'], clockSkew: '10s' })]).snapshot!.issuers.get(`${ROOT}/idp`)!;
    const b = compile([{ ...issuer('idp'), spec: { clockSkew: '10s', audiences: ['x', 'y'], jwks: JWKS, issuer: 'https://idp.example.com' } } as AnyResource]).snapshot!.issuers.get(`${ROOT}/idp`)!;
    const c = compile([issuer('idp', undefined, { audiences: ['x'], clockSkew: '10s' })]).snapshot!.issuers.get(`${ROOT}/idp`)!;
    const d = compile([issuer('idp', undefined, { audiences: ['x'], jwks: { uri: 'https://other/jwks' } })]).snapshot!.issuers.get(`${ROOT}/idp`)!;
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, c.fingerprint);
    assert.equal(a.keysFingerprint, c.keysFingerprint);
    assert.notEqual(a.keysFingerprint, d.keysFingerprint);
  });

  test('rejects duplicate names of the same kind and namespace', () => {
    const { problems } = compile([issuer('idp'), issuer('idp', ROOT)]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /duplicate TrustedIssuer claimcheck\/idp/);
  });
});

describe('compileSnapshot: issuer visibility', () => {
  test('issuers of the claimcheck namespace are visible to every namespace', () => {
    const { snapshot, problems } = compile([issuer('idp'), policy('p', 'team-a')]);
    assert.deepEqual(problems, []);
    assert.equal(snapshot!.policies.get('team-a/p')!.rules[0]!.issuers[0]!.key, `${ROOT}/idp`);
  });

  test('issuers of another namespace are not visible', () => {
    const { snapshot, problems } = compile([issuer('idp', 'team-b'), policy('p', 'team-a')]);
    assert.equal(snapshot, undefined);
    assert.equal(problems[0]!.path, '/spec/issuers/0');
    assert.match(problems[0]!.message, /TrustedIssuer "idp" not found in namespace team-a or claimcheck/);
  });

  test("the policy's own namespace wins over the claimcheck namespace", () => {
    const { snapshot } = compile([issuer('idp'), issuer('idp', 'team-a'), policy('p', 'team-a')]);
    assert.equal(snapshot!.policies.get('team-a/p')!.rules[0]!.issuers[0]!.key, 'team-a/idp');
  });

  test('require.issuers replaces the policy issuers and must resolve', () => {
    const ok = compile([issuer('idp'), issuer('other'), policy('p', undefined, { rules: [{ name: 'r', require: { issuers: ['other'] } }] })]);
    assert.deepEqual(ok.snapshot!.policies.get(`${ROOT}/p`)!.rules[0]!.issuers.map((i) => i.name), ['other']);
    const bad = compile([issuer('idp'), policy('p', undefined, { rules: [{ name: 'r', require: { issuers: ['ghost'] } }] })]);
    assert.equal(bad.problems[0]!.path, '/spec/rules/0/require/issuers/0');
  });

  test('a require rule without any issuer is a problem', () => {
    const { problems } = compile([policy('p', undefined, { issuers: undefined, rules: [{ name: 'r' }] })]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /names no issuers/);
  });

  test('an allowAnonymous or deny rule needs no issuer', () => {
    const { problems } = compile([policy('p', undefined, { issuers: undefined, rules: [{ name: 'a', action: 'allowAnonymous' }, { name: 'd', action: 'deny' }] })]);
    assert.deepEqual(problems, []);
  });
});

describe('compileSnapshot: policies', () => {
  test('action defaults to require', () => {
    const { snapshot } = compile([issuer('idp'), policy('p', undefined)]);
    assert.equal(snapshot!.policies.get(`${ROOT}/p`)!.rules[0]!.action, 'require');
  });

  test('a CEL condition compiles, and a broken one is a problem at its path with its position', () => {
    const ok = compile([issuer('idp'), policy('p', undefined, { rules: [{ name: 'r', require: { when: 'true' } }] })]);
    assert.equal(ok.snapshot!.policies.get(`${ROOT}/p`)!.rules[0]!.condition!.expression, 'true');
    const { problems } = compile([issuer('idp'), policy('p', undefined, { rules: [{ name: 'r', require: { when: 'true &&' } }] })]);
    assert.equal(problems[0]!.path, '/spec/rules/0/require/when');
    assert.match(problems[0]!.message, /^CEL syntax error at line 1, column 8: /);
  });

  test('a bad path pattern and a bad claim regex are problems at their paths', () => {
    const { problems } = compile([issuer('idp'), policy('p', undefined, { rules: [{ name: 'r', match: { paths: ['/a/b*'] }, require: { claims: [{ claim: 'sub', matches: '(a)\\1' }] } }] })]);
    assert.deepEqual(problems.map((p) => p.path).sort(), ['/spec/rules/0/match/paths/0', '/spec/rules/0/require/claims/0']);
  });

  test('default token source is the Bearer authorization header; names and prefixes are lowercased', () => {
    const { snapshot } = compile([issuer('idp'), policy('d', undefined), policy('p', undefined, { tokenSources: [{ header: 'X-Token', prefix: 'Token ' }, { cookie: 'Session' }] })]);
    assert.deepEqual(snapshot!.policies.get(`${ROOT}/d`)!.tokenSources, [{ type: 'header', header: 'authorization', prefix: 'bearer ' }]);
    assert.deepEqual(snapshot!.policies.get(`${ROOT}/p`)!.tokenSources, [{ type: 'header', header: 'x-token', prefix: 'token ' }, { type: 'cookie', cookie: 'Session' }]);
  });

  test('identity headers are lowercased and collected into emittedHeaders', () => {
    const { snapshot } = compile([issuer('idp'), policy('p', undefined, { identity: { headers: { 'X-User-Id': 'sub', 'x-roles': ['realm_access', 'roles'] }, payloadHeader: 'X-JWT-Payload' } })]);
    const id = snapshot!.policies.get(`${ROOT}/p`)!.identity;
    assert.deepEqual(id.headers, [{ name: 'x-user-id', claimPath: ['sub'] }, { name: 'x-roles', claimPath: ['realm_access', 'roles'] }]);
    assert.equal(id.forwardToken, true);
    assert.deepEqual([...snapshot!.emittedHeaders].sort(), ['x-jwt-payload', 'x-roles', 'x-user-id']);
  });

  for (const bad of [':path', 'host', 'content-length', 'authorization', 'x-envoy-foo', 'x-forwarded-user', 'x-forwarded-for', 'forwarded', 'bad header']) {
    test(`rejects ${JSON.stringify(bad)} as an identity header name`, () => {
      const { problems } = compile([issuer('idp'), policy('p', undefined, { identity: { headers: { [bad]: 'sub' } } })]);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]!.path, `/spec/identity/headers/${bad}`);
    });
  }

  test('rejects an identity header that another policy reads its token from', () => {
    const { problems } = compile([
      issuer('idp'),
      policy('a', undefined, { identity: { headers: { 'x-token': 'sub' } } }),
      policy('b', undefined, { tokenSources: [{ header: 'x-token' }] }),
    ]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.name, 'b');
  });
});

describe('compileSnapshot: host index', () => {
  const hosts = (name: string, h: string[], ts?: string) => policy(name, undefined, { hosts: h }, ts);

  test('normalises hosts and finds policies by exact host', () => {
    const { snapshot } = compile([issuer('idp'), hosts('p', ['API.Example.com:443', 'other.example.com.'])]);
    assert.equal(snapshot!.policyForHost('api.example.com')?.name, 'p');
    assert.equal(snapshot!.policyForHost('other.example.com')?.name, 'p');
    assert.equal(snapshot!.policyForHost('example.com'), undefined);
  });

  test('a wildcard matches one or more labels below its suffix but not the suffix itself', () => {
    const { snapshot } = compile([issuer('idp'), hosts('w', ['*.example.com'])]);
    assert.equal(snapshot!.policyForHost('a.example.com')?.name, 'w');
    assert.equal(snapshot!.policyForHost('a.b.example.com')?.name, 'w');
    assert.equal(snapshot!.policyForHost('example.com'), undefined);
    assert.equal(snapshot!.policyForHost('badexample.com'), undefined);
  });

  test('an exact host beats a wildcard and the longest wildcard wins', () => {
    const { snapshot } = compile([issuer('idp'), hosts('short', ['*.example.com']), hosts('long', ['*.api.example.com']), hosts('exact', ['v1.api.example.com'])]);
    assert.equal(snapshot!.policyForHost('v1.api.example.com')?.name, 'exact');
    assert.equal(snapshot!.policyForHost('v2.api.example.com')?.name, 'long');
    assert.equal(snapshot!.policyForHost('api.example.com')?.name, 'short');
  });

  test('the older policy keeps a contested host and the other is warned as Conflicted', () => {
    const { snapshot, problems, warnings } = compile([
      issuer('idp'),
      hosts('newer', ['shop.example.com'], '2025-06-01T00:00:00Z'),
      hosts('older', ['Shop.Example.com'], '2024-01-01T00:00:00Z'),
    ]);
    assert.deepEqual(problems, []);
    assert.equal(snapshot!.policyForHost('shop.example.com')?.name, 'older');
    const w = warnings.find((x) => x.name === 'newer');
    assert.match(w!.message, /^Conflicted: .*claimcheck\/older/);
    assert.equal(w!.path, '/spec/hosts/0');
  });

  test('without timestamps the namespace/name order decides a conflict', () => {
    const { snapshot } = compile([issuer('idp'), policy('z', 'aaa', { hosts: ['h.example.com'] }), policy('a', 'bbb', { hosts: ['h.example.com'] })]);
    assert.equal(snapshot!.policyForHost('h.example.com')?.key, 'aaa/z');
  });

  test('a policy without hosts is only reachable by key', () => {
    const { snapshot } = compile([issuer('idp'), policy('p', 'team', {})]);
    assert.ok(snapshot!.policies.get('team/p'));
    assert.equal(snapshot!.policyForHost('p'), undefined);
  });

  test('rejects malformed host patterns', () => {
    const { problems } = compile([issuer('idp'), hosts('p', ['*', 'a.*.com', 'a b'])]);
    assert.deepEqual(problems.map((p) => p.path), ['/spec/hosts/0', '/spec/hosts/1', '/spec/hosts/2']);
  });

  // Lookup cost against policy count is measured by `npm run bench` (10,000 vs 10 policies), not timed here.
  test('resolves every one of 10,000 policies by exact and wildcard host', () => {
    const many: AnyResource[] = [issuer('idp')];
    for (let i = 0; i < 10_000; i++) many.push(hosts(`p${i}`, [`h${i}.example.com`, `*.w${i}.example.com`]));
    const { snapshot, problems } = compile(many);
    assert.deepEqual(problems, []);
    for (let i = 0; i < 10_000; i++) {
      assert.equal(snapshot!.policyForHost(`x.y.w${i}.example.com`)?.name, `p${i}`);
      assert.equal(snapshot!.policyForHost(`h${i}.example.com`)?.name, `p${i}`);
    }
    assert.equal(snapshot!.policyForHost('w1.example.com'), undefined, 'a wildcard never matches its own suffix');
  });
});

describe('compileSnapshot: policies stamped from one template', () => {
  const template = (name: string, extra: Partial<AuthPolicySpec> = {}) =>
    policy(name, 'shop', {
      hosts: [`${name}.example.com`],
      rules: [
        {
          name: 'orders',
          match: { paths: ['/orders/**'], methods: ['GET'] },
          require: { scopes: { allOf: ['orders:read'] }, claims: [{ claim: 'tenant', in: ['acme'] }], when: "claims.sub.startsWith('user-')" },
        },
      ],
      ...extra,
    });

  test('share compiled claim checks, conditions, matchers and issuer lists, and still decide independently', () => {
    const { snapshot, problems } = compile([issuer('idp'), template('a'), template('b'), template('c', { issuers: ['other'] }), issuer('other')]);
    assert.deepEqual(problems, []);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => snapshot!.policies.get(`shop/${n}`)!.rules[0]!);
    assert.notEqual(a, b, 'each policy has its own rule object');
    assert.equal(a!.claims, b!.claims);
    assert.equal(a!.condition, b!.condition);
    assert.equal(a!.matches, b!.matches);
    assert.equal(a!.issuers, b!.issuers);
    assert.notEqual(a!.issuers, c!.issuers, 'another issuer list is another array');
    assert.deepEqual(c!.issuers.map((i) => i.key), [`${ROOT}/other`]);
    assert.equal(a!.matches('GET', '/orders/1'), true);
    assert.equal(b!.matches('POST', '/orders/1'), false);
  });

  test('report a problem or a warning for every resource that has it, not only the first', () => {
    const bad = (name: string) => template(name, { identity: { headers: { 'x-User': 'sub', 'X-USER': 'sub' } }, tokenSources: [{ header: 'Authorization' }] });
    const { problems, warnings } = compileSnapshot([issuer('idp'), bad('a'), bad('b')], { namespace: ROOT, generation: 1 });
    assert.deepEqual(problems.map((p) => p.name), ['a', 'b']);
    assert.deepEqual(warnings.map((w) => w.name), ['a', 'b']);
  });
});
