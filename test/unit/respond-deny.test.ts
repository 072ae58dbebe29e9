import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildDenyPlan } from '../../src/respond/build-deny.js';
import type { Deny, DenyKind } from '../../src/decision.js';
import type { DenyReason } from '../../src/reasons.js';

/** A reason of the kind under test: the plan depends on the kind, never on the reason. */
const REASON_OF: Record<DenyKind, DenyReason> = { invalid_request: 'path_traversal', unauthorized: 'missing_token', invalid_token: 'token_expired', insufficient_scope: 'insufficient_scope', access_denied: 'no_rule', temporarily_unavailable: 'keys_unavailable', invalid_dpop_proof: 'dpop_proof_signature', use_dpop_nonce: 'dpop_nonce_missing' };
import { internalErrorPlan, REQUEST_REFUSALS, requestRefusalPlan, type RequestRefusal } from '../../src/respond/request-refusals.js';

function deny(kind: DenyKind, description: string, scope?: string[]): Deny {
  return { allow: false, kind, reason: REASON_OF[kind], description, scope, steps: [] };
}

function header(plan: { headers: { name: string; value: string }[] }, name: string): string | undefined {
  const found = plan.headers.filter((h) => h.name === name);
  assert.ok(found.length <= 1, `duplicate ${name}`);
  return found[0]?.value;
}

const ctx = { host: 'api.example.com', requestId: 'req-1' };

describe('buildDenyPlan', () => {
  const table: [DenyKind, string, string[] | undefined, number, number, string | undefined][] = [
    ['invalid_request', 'path traversal', undefined, 3, 400, 'Bearer error="invalid_request", error_description="path traversal"'],
    ['unauthorized', 'token required', undefined, 16, 401, 'Bearer realm="api.example.com"'],
    ['invalid_token', 'token expired', undefined, 16, 401, 'Bearer realm="api.example.com", error="invalid_token", error_description="token expired"'],
    ['insufficient_scope', 'missing scope', ['payments:write', 'payments:admin'], 7, 403, 'Bearer realm="api.example.com", error="insufficient_scope", scope="payments:write payments:admin"'],
    ['access_denied', 'rule denies', undefined, 7, 403, undefined],
    ['temporarily_unavailable', 'keys unavailable', undefined, 14, 503, undefined],
  ];
  for (const [kind, description, scope, grpc, http, www] of table) {
    test(`${kind} answers gRPC ${grpc}, HTTP ${http} and ${www ? 'the RFC 6750 challenge' : 'no challenge'}`, () => {
      const plan = buildDenyPlan(deny(kind, description, scope), ctx);
      assert.equal(plan.kind, 'denied');
      assert.equal(plan.grpcCode, grpc);
      assert.equal(plan.httpStatus, http);
      assert.equal(header(plan, 'www-authenticate'), www);
      assert.equal(header(plan, 'content-type'), 'application/json');
      assert.equal(header(plan, 'cache-control'), 'no-store');
      assert.deepEqual(JSON.parse(plan.body), { error: kind, error_description: description, request_id: 'req-1' });
    });
  }

  test('DPoP (RFC 9449 §7.1, §8): the DPoP scheme with algs, use_dpop_nonce with the DPoP-Nonce header', () => {
    const dpop = { algorithms: ['ES256', 'PS256', 'EdDSA'] };
    const proof = buildDenyPlan({ ...deny('invalid_dpop_proof', 'DPoP proof replayed'), dpop }, ctx);
    assert.equal(proof.httpStatus, 401);
    assert.equal(proof.grpcCode, 16);
    assert.equal(header(proof, 'www-authenticate'), 'DPoP error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256 PS256 EdDSA"');
    assert.equal(JSON.parse(proof.body).error, 'invalid_dpop_proof');
    const token = buildDenyPlan({ ...deny('invalid_token', 'bound token sent as a bearer token'), dpop }, ctx);
    assert.equal(header(token, 'www-authenticate'), 'DPoP error="invalid_token", error_description="bound token sent as a bearer token", algs="ES256 PS256 EdDSA"');
    const nonce = buildDenyPlan({ ...deny('use_dpop_nonce', 'DPoP nonce required'), dpop: { ...dpop, nonce: 'n-1' } }, ctx);
    assert.equal(nonce.httpStatus, 401);
    assert.equal(header(nonce, 'www-authenticate'), 'DPoP error="use_dpop_nonce", error_description="DPoP nonce required"');
    assert.equal(header(nonce, 'dpop-nonce'), 'n-1');
    assert.equal(header(proof, 'dpop-nonce'), undefined, 'only use_dpop_nonce names a nonce');
  });

  test('strips quotes, backslashes, control characters and non-ASCII from challenge values', () => {
    const plan = buildDenyPlan(deny('invalid_token', 'bad "x"\\\r\nSet-Cookie: a=b é'), { host: 'h"o\\st\r\n', requestId: 'r' });
    assert.equal(
      header(plan, 'www-authenticate'),
      'Bearer realm="host", error="invalid_token", error_description="bad xSet-Cookie: a=b "',
    );
    for (const h of plan.headers) assert.ok(/^[\x20-\x7e]*$/.test(h.value), h.name);
  });

  test('strips unsafe characters from scope tokens and drops empty ones', () => {
    const plan = buildDenyPlan(deny('insufficient_scope', 'x', ['a"b', '\u00e9', 'c\\d']), ctx);
    assert.equal(header(plan, 'www-authenticate'), 'Bearer realm="api.example.com", error="insufficient_scope", scope="ab cd"');
  });

  test('falls back to a generic description when none is given', () => {
    const plan = buildDenyPlan(deny('invalid_token', ''), ctx);
    assert.equal(JSON.parse(plan.body).error_description, 'invalid token');
    assert.match(header(plan, 'www-authenticate') ?? '', /error_description="invalid token"$/);
  });
});

describe('denials without a decision', () => {
  const table: [RequestRefusal, number, number, string][] = [
    ['malformed_request', 3, 400, 'invalid_request'],
    ['request_too_large', 3, 413, 'invalid_request'],
    ['connection_busy', 14, 503, 'temporarily_unavailable'],
  ];
  for (const [refusal, grpc, http, error] of table) {
    test(`${refusal} answers gRPC ${grpc}, HTTP ${http} and error ${error}, uncacheable`, () => {
      const plan = requestRefusalPlan(refusal);
      assert.equal(plan.grpcCode, grpc);
      assert.equal(plan.httpStatus, http);
      assert.equal(header(plan, 'cache-control'), 'no-store');
      assert.equal(JSON.parse(plan.body).error, error);
    });
  }
  test('the table covers every refusal that is answered', () => assert.deepEqual([...REQUEST_REFUSALS].sort(), table.map(([r]) => r).sort()));

  test('the internal error is the 503 every path answers, with the request id and no challenge', () => {
    const plan = internalErrorPlan('rid-9', 'api.example.com');
    assert.equal(plan.grpcCode, 14);
    assert.equal(plan.httpStatus, 503);
    assert.equal(header(plan, 'cache-control'), 'no-store');
    assert.equal(header(plan, 'www-authenticate'), undefined);
    assert.deepEqual(JSON.parse(plan.body), { error: 'temporarily_unavailable', error_description: 'internal error', request_id: 'rid-9' });
  });
});
