/** Header names that alias an identity header (src/respond/header-alias.ts), and their removal from an allow. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderName, identityAliases } from '../../src/respond/header-alias.js';
import { buildAllowPlan } from '../../src/respond/build-allow.js';
import type { Allow } from '../../src/decision.js';
import type { CompiledPolicy, CompiledRule, Snapshot } from '../../src/compile/snapshot.js';

function snapshot(emitted: string[]): Snapshot {
  return { generation: 1, policies: new Map(), issuers: new Map(), policyForHost: () => undefined, emittedHeaders: new Set(emitted), credentialHeaders: new Set(['authorization']), queryTokens: false, revocations: { isRevoked: () => false } } as unknown as Snapshot;
}
const snap = snapshot(['x-user-id', 'x-tenant', 'X-Mixed_Case']);

describe('identity header aliases', () => {
  test('the canonical form folds case and every non-alphanumeric character to a dash', () => {
    assert.equal(canonicalHeaderName('X_User.Id'), 'x-user-id');
    assert.equal(canonicalHeaderName('x-user-id'), 'x-user-id');
  });

  test('underscore, dot and mixed spellings of an identity header are aliases; the header itself is not', () => {
    assert.deepEqual(identityAliases(['x_user_id', 'x.user.id', 'x-user_id', 'X_Tenant'], snap, 'x-claimcheck-'), ['x_user_id', 'x.user.id', 'x-user_id', 'x_tenant']);
    assert.equal(identityAliases(['x-user-id', 'x-tenant', 'authorization', 'cookie'], snap, 'x-claimcheck-'), undefined);
    // an identity header whose own name has an underscore is itself, not an alias
    assert.equal(identityAliases(['x-mixed_case'], snap, 'x-claimcheck-'), undefined);
    assert.deepEqual(identityAliases(['x-mixed-case'], snap, 'x-claimcheck-'), undefined, 'a dash-only name is never folded: upstreams fold towards it, not from it');
  });

  test('names under the reserved prefix count too; unrelated underscore names do not', () => {
    assert.deepEqual(identityAliases(['x_claimcheck_role', 'x_request_id', 'x.forwarded.for'], snap, 'x-claimcheck-'), ['x_claimcheck_role']);
    assert.equal(identityAliases(['x_claimcheck_role'], snap, ''), undefined, 'no reserved prefix configured');
  });

  test('an allow removes every alias it was sent, beside the spoofable names it already removes', () => {
    const policy = { key: 'p/p', name: 'p', namespace: 'p', mode: 'enforce', hosts: [], tokenSources: [], rules: [], identity: { headers: [{ name: 'x-user-id', claimPath: ['sub'] }], forwardToken: true } } as unknown as CompiledPolicy;
    const rule = { name: 'r', index: 0, action: 'require', matches: () => true, issuers: [], claims: [] } as unknown as CompiledRule;
    const decision = { allow: true, reason: 'allowed', policy, rule, verified: { claims: { sub: 'alice' }, issuer: {}, token: 't', alg: 'RS256' }, steps: [] } as unknown as Allow;
    const incoming = new Map<string, string[]>([['x_user_id', ['admin']], ['x.tenant', ['globex']], ['x_request_id', ['r1']]]);
    const plan = buildAllowPlan(decision, { snapshot: snap, headers: incoming, reservedPrefix: 'x-claimcheck-' });
    assert.deepEqual(plan.headersToSet, [{ name: 'x-user-id', value: 'alice' }]);
    assert.ok(plan.headersToRemove.includes('x_user_id'));
    assert.ok(plan.headersToRemove.includes('x.tenant'));
    assert.ok(!plan.headersToRemove.includes('x_request_id'));
  });
});
