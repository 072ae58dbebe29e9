import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import type { AnyResource, TokenRevocationSpec } from '../../src/model/types.js';

const ROOT = 'claimcheck';
const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
const NOW = NOW_MS / 1000;
const CUTOFF = Date.parse('2026-11-28T12:00:00Z') / 1000;

const issuer = (name: string, namespace?: string): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1',
  kind: 'TrustedIssuer',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { issuer: `https://${name}`, jwks: { discovery: true }, audiences: ['a'] },
});
const revocation = (name: string, spec: TokenRevocationSpec, namespace?: string): AnyResource => ({
  apiVersion: 'claimcheck.io/v1alpha1',
  kind: 'TokenRevocation',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec,
});
const compile = (resources: AnyResource[]) => compileSnapshot(resources, { namespace: ROOT, generation: 1, nowMs: NOW_MS });

describe('revocations', () => {
  const { snapshot } = compile([
    issuer('idp'),
    revocation('r', {
      issuer: 'idp',
      jtis: ['bad-jti'],
      subjects: [{ subject: 'merchant_8421', issuedBefore: '2026-11-28T12:00:00Z' }],
    }),
  ]);
  const isRevoked = (claims: Record<string, unknown>, now = NOW) => snapshot!.revocations.isRevoked(`${ROOT}/idp`, claims, now);

  test('revokes a token by jti', () => {
    assert.equal(isRevoked({ jti: 'bad-jti', sub: 'x' }), true);
    assert.equal(isRevoked({ jti: 'good-jti', sub: 'x' }), false);
  });

  test('revokes tokens of a subject issued before the instant', () => {
    assert.equal(isRevoked({ sub: 'merchant_8421', iat: CUTOFF - 1 }), true);
    assert.equal(isRevoked({ sub: 'merchant_8421', iat: CUTOFF }), false);
    assert.equal(isRevoked({ sub: 'merchant_1', iat: CUTOFF - 1 }), false);
  });

  test('revokes a token of a revoked subject that has no iat', () => {
    assert.equal(isRevoked({ sub: 'merchant_8421' }), true);
    assert.equal(isRevoked({ sub: 'merchant_8421', iat: 'yesterday' }), true);
  });

  test('does not apply to other issuers', () => {
    assert.equal(snapshot!.revocations.isRevoked(`${ROOT}/other`, { jti: 'bad-jti' }, NOW), false);
  });

  test('is ignored after expiresAt', () => {
    const { snapshot: s } = compile([issuer('idp'), revocation('r', { issuer: 'idp', jtis: ['j'], expiresAt: '2026-11-29T00:00:00Z' })]);
    const expires = Date.parse('2026-11-29T00:00:00Z') / 1000;
    assert.equal(s!.revocations.isRevoked(`${ROOT}/idp`, { jti: 'j' }, expires - 1), true);
    assert.equal(s!.revocations.isRevoked(`${ROOT}/idp`, { jti: 'j' }, expires), false);
  });

  test('an already expired revocation is a warning, not a problem', () => {
    const { snapshot: s, warnings } = compile([issuer('idp'), revocation('r', { issuer: 'idp', jtis: ['j'], expiresAt: '2020-01-01T00:00:00Z' })]);
    assert.ok(s);
    assert.match(warnings.find((w) => w.kind === 'TokenRevocation')!.message, /Expired/);
  });

  test('the issuer resolves with the same visibility rules', () => {
    const local = compile([issuer('idp', 'team'), issuer('idp'), revocation('r', { issuer: 'idp', jtis: ['j'] }, 'team')]);
    assert.equal(local.snapshot!.revocations.isRevoked('team/idp', { jti: 'j' }, NOW), true);
    assert.equal(local.snapshot!.revocations.isRevoked(`${ROOT}/idp`, { jti: 'j' }, NOW), false);
    const hidden = compile([issuer('idp', 'other'), revocation('r', { issuer: 'idp', jtis: ['j'] }, 'team')]);
    assert.equal(hidden.snapshot, undefined);
    assert.equal(hidden.problems[0]!.path, '/spec/issuer');
  });
});
