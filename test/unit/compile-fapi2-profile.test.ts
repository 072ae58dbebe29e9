/** `profile: fapi2`: the FAPI 2.0 resource-server rules as validation errors, and required sender constraint. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { validateResource } from '../../src/model/validate-resource.js';
import type { AnyResource, AuthPolicySpec, TrustedIssuerSpec } from '../../src/model/types.js';

const issuer = (name: string, spec: Partial<TrustedIssuerSpec>): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name },
  spec: { issuer: `https://${name}.example.com`, jwks: { uri: `https://${name}.example.com/jwks` }, audiences: ['api'], ...spec },
});
const fapiIdp = issuer('bank-idp', { algorithms: ['PS256', 'ES256'], clockSkew: '10s' });
const policy = (spec: Partial<AuthPolicySpec>): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'p' },
  spec: { hosts: ['api.example.com'], issuers: ['bank-idp'], profile: 'fapi2', rules: [{ name: 'all', match: { paths: ['/**'] } }], ...spec },
});
const compile = (p: AnyResource, ...issuers: AnyResource[]) => compileSnapshot([fapiIdp, ...issuers, p], { namespace: 'claimcheck', generation: 1 });
const problemsOf = (p: AnyResource, ...issuers: AnyResource[]) => compile(p, ...issuers).problems.map((x) => `${x.path} ${x.message}`);

describe('profile: fapi2', () => {
  test('a conforming policy loads, and every rule requires a sender-constrained token without saying so', () => {
    const out = compile(policy({ rules: [{ name: 'pay', match: { paths: ['/pay/**'] }, require: { senderConstraint: { dpop: { nonce: true } } } }, { name: 'rest' }] }));
    assert.deepEqual(out.problems, []);
    const rules = [...out.snapshot!.policies.values()][0]!.rules;
    assert.deepEqual(rules.map((r) => r.senderConstraint.required), [true, true]);
    assert.equal(rules[0]!.senderConstraint.dpop.nonce, true);
  });

  test('without the profile the same policy does not require a sender constraint', () => {
    const rules = [...compile(policy({ profile: '' })).snapshot!.policies.values()][0]!.rules;
    assert.equal(rules[0]!.senderConstraint.required, false);
  });

  test('required: false on the policy or a rule is an error at that field', () => {
    const problems = problemsOf(policy({ senderConstraint: { required: false }, rules: [{ name: 'all', require: { senderConstraint: { required: false } } }] }));
    assert.deepEqual(problems.map((p) => p.split(' ')[0]), ['/spec/senderConstraint/required', '/spec/rules/0/require/senderConstraint/required']);
    assert.match(problems[0]!, /FAPI 2\.0 §5\.3\.4/);
  });

  test('a cookie, query or other header token source is an error; Authorization with any case is fine', () => {
    const problems = problemsOf(policy({ tokenSources: [{ header: 'Authorization', prefix: 'Bearer ' }, { cookie: 'session' }, { query: 'access_token' }, { header: 'x-token' }] }));
    assert.deepEqual(problems.map((p) => p.split(' ')[0]), ['/spec/tokenSources/1', '/spec/tokenSources/2', '/spec/tokenSources/3']);
  });

  test('an issuer allowing RS256 (the default list does) or a clockSkew above 10s is an error at the policy\'s reference', () => {
    const problems = problemsOf(policy({ issuers: ['bank-idp', 'legacy', 'slow'] }), issuer('legacy', { clockSkew: '5s' }), issuer('slow', { algorithms: ['ES256'] }));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^\/spec\/issuers\/1 TrustedIssuer "legacy" allows RS256: .*§5\.4\.1/);
    assert.match(problems[1]!, /^\/spec\/issuers\/2 TrustedIssuer "slow" has a clockSkew of 30s/);
  });

  test('an issuer whose keys may come over plain http is an error', () => {
    const plain = issuer('plain', { algorithms: ['ES256'], clockSkew: '5s', jwks: { uri: 'http://plain.example.com/jwks', allowInsecureHttp: true } });
    const problems = problemsOf(policy({ issuers: ['plain'] }), plain);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^\/spec\/issuers\/0 TrustedIssuer "plain" allows keys over plain http/);
  });

  test('a rule\'s own issuers are checked at the rule, and EdDSA, Ed25519 and a 10s skew conform', () => {
    const problems = problemsOf(
      policy({ rules: [{ name: 'a', match: { paths: ['/a'] }, require: { issuers: ['ed'] } }, { name: 'b', require: { issuers: ['rsa'] } }] }),
      issuer('ed', { algorithms: ['EdDSA', 'Ed25519'], clockSkew: '10s' }),
      issuer('rsa', { algorithms: ['RS256', 'PS256'], clockSkew: '0s' }),
    );
    assert.deepEqual(problems.map((p) => p.split(' ')[0]), ['/spec/rules/1/require/issuers/0']);
  });

  test('proof algorithms outside PS256, ES256 and EdDSA are an error, on the policy and on a rule', () => {
    const problems = problemsOf(policy({ senderConstraint: { dpop: { algorithms: ['ES256', 'RS256'] } }, rules: [{ name: 'all', require: { senderConstraint: { dpop: { algorithms: ['ES384'] } } } }] }));
    assert.deepEqual(problems.map((p) => p.split(' ')[0]), ['/spec/senderConstraint/dpop/algorithms', '/spec/rules/0/require/senderConstraint/dpop/algorithms']);
    assert.match(problems[0]!, /not RS256$/);
  });

  test('an allowAnonymous rule is a warning, not an error', () => {
    const out = compile(policy({ rules: [{ name: 'health', match: { paths: ['/healthz'] }, action: 'allowAnonymous' }, { name: 'all' }] }));
    assert.deepEqual(out.problems, []);
    assert.equal(out.warnings.filter((w) => w.path === '/spec/rules/0').length, 1);
  });

  test('the schema knows only "" and fapi2', () => {
    assert.ok(validateResource(policy({ profile: 'fapi1' as never }) as never).length > 0);
    assert.equal(validateResource(policy({}) as never).length, 0);
  });
});
