/** AuthPolicy.spec.identity.token compiled: defaults, problems at their field, the header stripped everywhere. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import type { AnyResource, IdentitySpec } from '../../src/model/types.js';

const issuer: AnyResource = {
  apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'idp' },
  spec: { issuer: 'https://idp.example.com', jwks: { uri: 'https://idp.example.com/jwks' }, audiences: ['api'] },
};
const policy = (identity: IdentitySpec, name = 'p', hosts = ['api.example.com']): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name },
  spec: { hosts, issuers: ['idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }], identity },
});
const compile = (identityIssuer: string | null | undefined, ...p: AnyResource[]) => compileSnapshot([issuer, ...p], { namespace: 'claimcheck', generation: 1, ...(identityIssuer !== undefined ? { identityIssuer } : {}) });
const paths = (r: ReturnType<typeof compile>) => r.problems.map((x) => x.path);

describe('identity.token', () => {
  test('defaults: x-claimcheck-identity, no prefix, the request host as audience, 5 minutes; its header stripped by every policy', () => {
    const r = compile('http://cc.test', policy({ token: {} }), policy({}, 'other', ['b.example.com']));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.snapshot!.policies.get('claimcheck/p')!.identity.token, { header: 'x-claimcheck-identity', prefix: '', ttlSec: 300, claims: [] });
    assert.ok(r.snapshot!.emittedHeaders.has('x-claimcheck-identity'));
  });

  test('the fields as given: header lowercased, audiences, ttl, claims', () => {
    const r = compile('http://cc.test', policy({ token: { header: 'X-Identity', prefix: 'Bearer ', audiences: ['orders', 'orders'], ttl: '90s', claims: { sub: 'sub', roles: ['realm.access', 'roles'] } } }));
    assert.deepEqual(r.snapshot!.policies.get('claimcheck/p')!.identity.token, {
      header: 'x-identity', prefix: 'Bearer ', audiences: ['orders'], ttlSec: 90,
      claims: [{ name: 'sub', claimPath: ['sub'] }, { name: 'roles', claimPath: ['realm.access', 'roles'] }],
    });
  });

  test('a server without --identity-issuer refuses the policy; offline commands do not ask', () => {
    assert.deepEqual(paths(compile(null, policy({ token: {} }))), ['/spec/identity/token']);
    assert.match(compile(null, policy({ token: {} })).problems[0]!.message, /--identity-issuer/);
    assert.deepEqual(compile(undefined, policy({ token: {} })).problems, []);
  });

  test('problems at their field: own claims, a ttl above 1h or below 1s, a reserved or reused header, an empty path', () => {
    const r = compile('http://cc.test', policy({
      headers: { 'x-user': 'sub' },
      token: { header: 'x-user', ttl: '2h', claims: { exp: 'exp', act: 'sub', ok: 'a..b' } },
    }));
    assert.deepEqual(paths(r).sort(), ['/spec/identity/token/claims/act', '/spec/identity/token/claims/exp', '/spec/identity/token/claims/ok', '/spec/identity/token/header', '/spec/identity/token/ttl']);
    assert.deepEqual(paths(compile('http://cc.test', policy({ token: { header: 'authorization', ttl: '0s' } }))).sort(), ['/spec/identity/token/header', '/spec/identity/token/ttl']);
  });

  test('a policy reading its token from another policy\'s identity-token header is refused', () => {
    const reader: AnyResource = { ...policy({}, 'reader', ['b.example.com']) };
    (reader as { spec: { tokenSources: unknown } }).spec.tokenSources = [{ header: 'x-claimcheck-identity' }];
    assert.deepEqual(paths(compile('http://cc.test', policy({ token: {} }), reader)), ['/spec/tokenSources/0/header']);
  });
});
