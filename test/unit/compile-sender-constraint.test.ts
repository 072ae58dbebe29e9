/** AuthPolicy.spec.senderConstraint and require.senderConstraint, compiled into each rule. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { validateResource } from '../../src/model/validate-resource.js';
import type { AnyResource, AuthPolicySpec } from '../../src/model/types.js';

const issuer: AnyResource = {
  apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'idp' },
  spec: { issuer: 'https://idp.example.com', jwks: { uri: 'https://idp.example.com/jwks' }, audiences: ['api'] },
};
const policy = (spec: Partial<AuthPolicySpec>): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'p' },
  spec: { hosts: ['api.example.com'], issuers: ['idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }], ...spec },
});
const compile = (p: AnyResource) => compileSnapshot([issuer, p], { namespace: 'claimcheck', generation: 1 });
const rulesOf = (p: AnyResource) => [...compile(p).snapshot!.policies.values()][0]!.rules;

describe('senderConstraint', () => {
  test('defaults: not required; ES256, PS256 and EdDSA proofs of at most 60 s; no nonce; the request\'s origin', () => {
    assert.deepEqual(rulesOf(policy({}))[0]!.senderConstraint, { required: false, dpop: { algorithms: ['ES256', 'PS256', 'EdDSA'], proofMaxAgeSec: 60, nonce: false, origin: '' }, mtlsCertificate: 'envoy' });
  });

  test('a rule\'s fields replace the policy\'s one by one; the origin is normalised', () => {
    const rules = rulesOf(policy({
      senderConstraint: { required: true, dpop: { proofMaxAge: '30s', origin: 'HTTPS://API.Example.com:443' } },
      rules: [
        { name: 'pay', match: { paths: ['/pay/**'] }, require: { senderConstraint: { dpop: { nonce: true, algorithms: ['ES256'] }, mtls: { certificate: 'xfcc' } } } },
        { name: 'rest', match: { paths: ['/**'] } },
      ],
    }));
    assert.deepEqual(rules[0]!.senderConstraint, { required: true, dpop: { algorithms: ['ES256'], proofMaxAgeSec: 30, nonce: true, origin: 'https://api.example.com' }, mtlsCertificate: 'xfcc' });
    assert.deepEqual(rules[1]!.senderConstraint, { required: true, dpop: { algorithms: ['ES256', 'PS256', 'EdDSA'], proofMaxAgeSec: 30, nonce: false, origin: 'https://api.example.com' }, mtlsCertificate: 'envoy' });
  });

  test('a proofMaxAge above 5m or not positive, and an origin with a path, are problems at their field', () => {
    const { problems } = compile(policy({
      senderConstraint: { dpop: { proofMaxAge: '10m' } },
      rules: [{ name: 'all', require: { senderConstraint: { dpop: { proofMaxAge: '0s', origin: 'https://api.example.com/v1' } } } }],
    }));
    assert.deepEqual(problems.map((p) => p.path).sort(), ['/spec/rules/0/require/senderConstraint/dpop/origin', '/spec/rules/0/require/senderConstraint/dpop/proofMaxAge', '/spec/senderConstraint/dpop/proofMaxAge']);
  });

  test('the schema refuses a MAC or none as a proof algorithm, and unknown fields', () => {
    for (const dpop of [{ algorithms: ['HS256'] }, { algorithms: ['none'] }, { algorithms: [] }, { nonces: true }]) {
      const errors = validateResource(policy({ senderConstraint: { dpop: dpop as never } }) as never);
      assert.ok(errors.length > 0, JSON.stringify(dpop));
    }
    assert.equal(validateResource(policy({ senderConstraint: { required: true, dpop: { algorithms: ['EdDSA'], nonce: true } } }) as never).length, 0);
  });
});
