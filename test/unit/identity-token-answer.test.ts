/** The identity token in the answer: set with its prefix, or a 503 without a signer, never on anonymous or in place of a removal. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { identityTokenFor, type IdentityTokenSource } from '../../src/pipeline/identity-token.js';
import { buildAllowPlan } from '../../src/respond/build-allow.js';
import { buildDenyPlan } from '../../src/respond/build-deny.js';
import type { Allow } from '../../src/decision.js';
import type { CompiledPolicy, Snapshot } from '../../src/compile/snapshot.js';
import type { AuthRequest } from '../../src/request.js';

const token = { header: 'x-claimcheck-identity', prefix: 'Bearer ', ttlSec: 300, claims: [] };
const policy = (mode: 'enforce' | 'audit' = 'enforce') => ({ key: 'ns/p', name: 'p', namespace: 'ns', mode, hosts: [], tokenSources: [], rules: [], identity: { headers: [], forwardToken: true, token } }) as unknown as CompiledPolicy;
const verified = { claims: { sub: 'ana' }, token: 't', alg: 'RS256', issuer: { issuer: 'https://idp.example.com' } } as never;
const req = { host: 'API.example.com:443', headers: new Map([['x-claimcheck-identity', ['spoofed']]]), source: { principal: 'spiffe://a' } } as unknown as AuthRequest;
const allow = (extra: Partial<Allow> = {}): Allow => ({ allow: true, reason: 'allowed', policy: policy(), verified, steps: [], ...extra });
const snapshot = { emittedHeaders: new Set(['x-claimcheck-identity']) } as unknown as Snapshot;
const seen: unknown[] = [];
const signer: IdentityTokenSource = { mint: (m) => (seen.push(m), 'J.W.T') };
const none: IdentityTokenSource = { mint: () => undefined };

describe('identity token in the answer', () => {
  test('minted for the normalised host and the source principal, set with its prefix, not removed', () => {
    const out = identityTokenFor(allow(), req, signer, 1000);
    assert.deepEqual(out, { name: 'x-claimcheck-identity', value: 'Bearer J.W.T' });
    assert.deepEqual(seen.at(-1), { policyKey: 'ns/p', token, verified, host: 'api.example.com', actor: 'spiffe://a', nowSec: 1000 });
    const plan = buildAllowPlan(allow(), { snapshot, headers: req.headers, reservedPrefix: 'x-claimcheck-', identityToken: out as { name: string; value: string } });
    assert.deepEqual(plan.headersToSet, [{ name: 'x-claimcheck-identity', value: 'Bearer J.W.T' }]);
    assert.ok(!plan.headersToRemove.includes('x-claimcheck-identity'));
  });

  test('no signer: a 503 in enforce mode; audit mode goes through without it; the client\'s copy is removed either way', () => {
    const d = identityTokenFor(allow(), req, none, 1000);
    assert.ok(d && 'allow' in d && !d.allow);
    assert.equal(d.reason, 'identity_token_unavailable');
    const denied = buildDenyPlan(d, { host: 'api.example.com', requestId: 'r' });
    assert.equal(denied.kind === 'denied' ? denied.httpStatus : undefined, 503);
    assert.equal(identityTokenFor(allow({ policy: policy('audit') }), req, none, 1000), undefined);
    const noMinter = identityTokenFor(allow(), req, undefined, 1000);
    assert.ok(noMinter && 'allow' in noMinter, 'no minter at all is no signer');
    const plan = buildAllowPlan(allow({ policy: policy('audit') }), { snapshot, headers: req.headers, reservedPrefix: 'x-claimcheck-' });
    assert.ok(plan.headersToRemove.includes('x-claimcheck-identity'));
  });

  test('an anonymous allow mints nothing', () => {
    seen.length = 0;
    assert.equal(identityTokenFor(allow({ verified: undefined, reason: 'anonymous' }), req, signer, 1000), undefined);
    assert.equal(seen.length, 0);
  });
});
