/** decideRequest as a table: every kind of outcome, with a key lookup that answers at once or is down. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { decideRequest } from '../../src/pipeline/decide-request.js';
import type { KeyLookup } from '../../src/authn/types.js';
import type { Decision } from '../../src/decision.js';
import type { AnyResource } from '../../src/model/types.js';
import { generateKey, signToken } from '../helpers/tokens.js';
import { TokenCache } from '../../src/authn/token-cache.js';

const key = generateKey('ES256', 'k1');
const NOW = 1_900_000_000;
const issuer = (name: string, iss: string): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1',
  kind: 'TrustedIssuer',
  metadata: { name, namespace: 'default' },
  spec: { issuer: iss, jwks: { uri: `https://${name}.example/jwks` }, audiences: ['api'] },
});
const policy = (name: string, spec: Record<string, unknown>): AnyResource => ({ apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name, namespace: 'default' }, spec } as unknown as AnyResource);
const rules = [
  { name: 'anon', match: { paths: ['/public/**'] }, action: 'allowAnonymous' },
  { name: 'gone', match: { paths: ['/legacy/**'] }, action: 'deny' },
  { name: 'admin', match: { paths: ['/admin/**'] }, require: { scopes: { allOf: ['admin'] } } },
  { name: 'tenant', match: { paths: ['/tenants/**'] }, require: { claims: [{ claim: 'tenant', equals: 'acme' }] } },
  { name: 'cel', match: { paths: ['/cel/**'] }, require: { when: "claims.level > 2" } },
  { name: 'down', match: { paths: ['/down/**'] }, require: { issuers: ['down'] } },
  { name: 'api', match: { paths: ['/api/**'] } },
];
const compiled = compileSnapshot([
  issuer('idp', 'https://idp.example'),
  issuer('down', 'https://down.example'),
  policy('app', { hosts: ['app.example'], issuers: ['idp'], rules }),
  policy('audit', { hosts: ['audit.example'], issuers: ['idp'], mode: 'audit', rules: [{ name: 'admin', match: { paths: ['/**'] }, require: { scopes: { allOf: ['admin'] } } }] }),
  { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'r', namespace: 'default' }, spec: { issuer: 'idp', jtis: ['revoked'] } } as AnyResource,
], { namespace: 'default', generation: 1, nowMs: NOW * 1000 });
assert.deepEqual(compiled.problems, []);
const snapshot = compiled.snapshot!;

const keys: KeyLookup = {
  resolve: (i) => (i.name === 'down' ? { ok: false, status: 'unavailable', reason: 'keys_unavailable', description: 'keys unavailable' } : { ok: true, key: key.publicKey, kid: 'k1' }),
};
const token = (claims: Record<string, unknown> = {}, iss = 'https://idp.example') => signToken({ iss, aud: 'api', sub: 'alice', iat: NOW, exp: NOW + 60, ...claims }, { key });

async function decide(host: string, path: string, headers: Record<string, string> = {}, unmatchedHost: 'deny' | 'allow' = 'deny', ext: Record<string, string> = {}): Promise<Decision> {
  const req = {
    method: 'GET', host, path, requestId: 'r', scheme: 'https',
    headers: new Map(Object.entries(headers).map(([k, v]) => [k, [v]])),
    contextExtensions: ext,
    source: { principal: '', address: '' }, destination: { principal: '', address: '' },
  };
  return decideRequest(req, { tokenCache: new TokenCache({ size: 0 }), snapshot, keys, nowSec: NOW, options: { unmatchedHost, maxTokenBytes: 16384 } });
}
const bearer = async (claims?: Record<string, unknown>, iss?: string) => ({ authorization: `Bearer ${await token(claims, iss)}` });

describe('decideRequest outcomes', () => {
  const table: [string, () => Promise<Decision>, { allow: boolean; reason: string; kind?: string }][] = [
    ['a host without a policy', () => decide('other.example', '/api/x'), { allow: false, reason: 'no_policy', kind: 'access_denied' }],
    ['a host without a policy under --unmatched-host allow', () => decide('other.example', '/api/x', {}, 'allow'), { allow: true, reason: 'unmatched_host' }],
    ['a host that is not a host name, even under allow', () => decide('a..example', '/api/x', {}, 'allow'), { allow: false, reason: 'invalid_host', kind: 'invalid_request' }],
    ['a context extension naming no policy', () => decide('app.example', '/api/x', {}, 'deny', { 'claimcheck.io/policy': 'default/none' }), { allow: false, reason: 'policy_not_found', kind: 'access_denied' }],
    ['a path no rule matches', () => decide('app.example', '/other'), { allow: false, reason: 'no_rule', kind: 'access_denied' }],
    ['a deny rule', async () => decide('app.example', '/legacy/x', await bearer()), { allow: false, reason: 'rule_denies', kind: 'access_denied' }],
    ['a dot-dot path', () => decide('app.example', '/api/../admin'), { allow: false, reason: 'path_traversal', kind: 'invalid_request' }],
    ['an anonymous rule without a token', () => decide('app.example', '/public/x'), { allow: true, reason: 'anonymous' }],
    ['an anonymous rule with a valid token', async () => decide('app.example', '/public/x', await bearer()), { allow: true, reason: 'allowed' }],
    ['an anonymous rule with an expired token', async () => decide('app.example', '/public/x', await bearer({ exp: NOW - 120 })), { allow: true, reason: 'anonymous' }],
    ['no token', () => decide('app.example', '/api/x'), { allow: false, reason: 'missing_token', kind: 'unauthorized' }],
    ['two credentials', async () => decide('app.example', '/api/x', { authorization: `Bearer a,Bearer b` }), { allow: false, reason: 'multiple_credentials', kind: 'invalid_request' }],
    ['a valid token', async () => decide('app.example', '/api/x', await bearer()), { allow: true, reason: 'allowed' }],
    ['an untrusted issuer', async () => decide('app.example', '/api/x', await bearer({}, 'https://evil.example')), { allow: false, reason: 'untrusted_issuer', kind: 'invalid_token' }],
    ['a revoked jti', async () => decide('app.example', '/api/x', await bearer({ jti: 'revoked' })), { allow: false, reason: 'token_revoked', kind: 'invalid_token' }],
    ['a missing scope', async () => decide('app.example', '/admin/x', await bearer({ scope: 'read' })), { allow: false, reason: 'insufficient_scope', kind: 'insufficient_scope' }],
    ['a claim that does not match', async () => decide('app.example', '/tenants/x', await bearer({ tenant: 'globex' })), { allow: false, reason: 'claim_mismatch', kind: 'access_denied' }],
    ['a CEL condition that is false', async () => decide('app.example', '/cel/x', await bearer({ level: 1 })), { allow: false, reason: 'condition_false', kind: 'access_denied' }],
    ['a CEL condition that errors', async () => decide('app.example', '/cel/x', await bearer()), { allow: false, reason: 'condition_error', kind: 'access_denied' }],
    ['an issuer whose keys are unavailable', async () => decide('app.example', '/down/x', await bearer({}, 'https://down.example')), { allow: false, reason: 'keys_unavailable', kind: 'temporarily_unavailable' }],
    ['audit mode: a would-deny is allowed', async () => decide('audit.example', '/x', await bearer()), { allow: true, reason: 'audit_deny' }],
  ];
  for (const [what, run, want] of table) {
    test(`${what}: ${want.allow ? 'allow' : 'deny'} ${want.reason}`, async () => {
      const d = await run();
      assert.equal(d.allow, want.allow);
      assert.equal(d.reason, want.reason);
      if (!d.allow) assert.equal(d.kind, want.kind);
    });
  }

  test('audit mode keeps what enforce mode would have said, and the verified identity', async () => {
    const d = await decide('audit.example', '/x', await bearer({ sub: 'bob' }));
    assert.ok(d.allow);
    assert.equal(d.auditedDeny?.reason, 'insufficient_scope');
    assert.equal(d.verified?.claims.sub, 'bob');
  });

  test('a missing scope names the scopes the rule needs', async () => {
    const d = await decide('app.example', '/admin/x', await bearer());
    assert.ok(!d.allow);
    assert.deepEqual(d.scope, ['admin']);
  });
});

describe('the one table of reasons', () => {
  test('every reason has a kind and a coarse description, and decideRequest takes both from it', async () => {
    const { DENY_REASONS, kindOf, descriptionOf } = await import('../../src/reasons.js');
    for (const r of DENY_REASONS) {
      assert.ok(['invalid_request', 'unauthorized', 'invalid_token', 'invalid_dpop_proof', 'use_dpop_nonce', 'insufficient_scope', 'access_denied', 'temporarily_unavailable'].includes(kindOf(r)), r);
      assert.match(descriptionOf(r), /^[A-Za-z -]{3,60}$/, r);
    }
    const d = await decide('app.example', '/api/x', await bearer({ jti: 'revoked' }));
    assert.ok(!d.allow);
    assert.deepEqual([d.kind, d.description], [kindOf('token_revoked'), descriptionOf('token_revoked')]);
  });
});
