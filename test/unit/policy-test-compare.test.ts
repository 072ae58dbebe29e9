import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { differences, type Observed } from '../../src/policy-test/compare-outcome.js';
import type { Expectation } from '../../src/policy-test/types.js';

const denied: Observed = { decision: 'deny', status: 401, reason: 'token_revoked', error: 'invalid_token', headers: new Map([['www-authenticate', 'Bearer realm="h"']]) };
const allowed: Observed = { decision: 'allow', reason: 'allowed', headers: new Map([['x-user-id', 'alice']]) };
const expect = (e: Partial<Expectation>): Expectation => ({ decision: 'deny', ...e });

describe('differences', () => {
  test('reason matches the decision\'s code or the deny body\'s error', () => {
    assert.deepEqual(differences(expect({ reason: 'token_revoked' }), denied), []);
    assert.deepEqual(differences(expect({ reason: 'invalid_token', status: 401 }), denied), []);
    assert.deepEqual(differences(expect({ reason: 'token_expired', status: 401 }), denied), ['expected deny 401 token_expired, got deny 401 token_revoked (invalid_token)']);
  });

  test('a wrong decision or status is one difference naming both sides', () => {
    assert.deepEqual(differences(expect({ status: 403, reason: 'insufficient_scope' }), allowed), ['expected deny 403 insufficient_scope, got allow (allowed)']);
    assert.deepEqual(differences(expect({ status: 403 }), denied), ['expected deny 403, got deny 401 token_revoked (invalid_token)']);
    assert.deepEqual(differences({ decision: 'allow', reason: 'anonymous' }, allowed), ['expected allow anonymous, got allow (allowed)']);
  });

  test('headers: a value must be equal, null must be absent; names not listed are not checked', () => {
    const e = (h: Record<string, string | null>): Expectation => ({ decision: 'allow', headers: new Map(Object.entries(h)) });
    assert.deepEqual(differences(e({ 'x-user-id': 'alice', 'x-tenant': null }), allowed), []);
    assert.deepEqual(differences(e({ 'x-user-id': 'bob' }), allowed), ['expected x-user-id: bob, got x-user-id: alice']);
    assert.deepEqual(differences(e({ 'x-user-id': null }), allowed), ['expected no x-user-id, got x-user-id: alice']);
    assert.deepEqual(differences(e({ 'x-tenant': 'acme' }), allowed), ['expected x-tenant: acme, got no x-tenant']);
  });
});
