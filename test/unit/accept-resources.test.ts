import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptResources, keyOf } from '../../src/config/accept-resources.js';
import type { AnyResource, AuthPolicy, TrustedIssuer } from '../../src/model/types.js';
import { generateKey } from '../helpers/tokens.js';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';

const NS = 'claimcheck-system';
const jwk = generateKey('ES256', 'k1').jwk;

function issuer(name: string, ns: string, rv: string, spec: Partial<TrustedIssuer['spec']> = {}): TrustedIssuer {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'TrustedIssuer',
    metadata: { name, namespace: ns, resourceVersion: rv, generation: Number(rv) },
    spec: { issuer: `https://${name}.example`, jwks: { inline: { keys: [jwk] } }, audiences: ['api'], ...spec },
  };
}

function policy(name: string, ns: string, rv: string, host: string, issuers: string[], extra: Partial<AuthPolicy['spec']> = {}): AuthPolicy {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'AuthPolicy',
    metadata: { name, namespace: ns, resourceVersion: rv, generation: Number(rv) },
    spec: { hosts: [host], issuers, rules: [{ name: 'all', match: { paths: ['/**'] } }], ...extra },
  };
}

function run(resources: AnyResource[], lastGood = new Map<string, AnyResource>(), invalid = new Map()) {
  const existing = new Set([...resources.map((r) => keyOf(r, NS)), ...invalid.keys()]);
  return acceptResources({ resources, invalid, lastGood, existing, namespace: NS });
}

const served = (a: ReturnType<typeof run>) => a.served.map((r) => `${r.metadata.namespace}/${r.metadata.name}@${r.metadata.resourceVersion}`).sort();

test('an invalid policy is rejected alone and every other resource is served', () => {
  const a = run([
    issuer('idp', 'team-a', '1'),
    policy('good', 'team-a', '2', 'good.example', ['idp']),
    policy('bad', 'team-a', '3', 'bad.example', ['idp'], { hosts: ['not a host/'] }),
  ]);
  assert.deepEqual(served(a), ['team-a/good@2', 'team-a/idp@1']);
  assert.deepEqual([...a.rejected.keys()], ['AuthPolicy/team-a/bad']);
  assert.match(a.rejected.get('AuthPolicy/team-a/bad')![0]!.message, /not a host name/);
});

test('an edit that breaks a policy keeps its last good version serving', () => {
  const lastGood = new Map<string, AnyResource>();
  run([issuer('idp', 'team-a', '1'), policy('p', 'team-a', '2', 'p.example', ['idp'])], lastGood);
  const a = run([issuer('idp', 'team-a', '1'), policy('p', 'team-a', '5', 'p.example', ['missing-idp'])], lastGood);
  assert.deepEqual(served(a), ['team-a/idp@1', 'team-a/p@2']);
  assert.match(a.rejected.get('AuthPolicy/team-a/p')![0]!.message, /"missing-idp" not found/);
});

test('a current version that fails the schema check falls back to the last good version', () => {
  const lastGood = new Map<string, AnyResource>();
  run([issuer('idp', 'team-a', '1')], lastGood);
  const invalid = new Map([['TrustedIssuer/team-a/idp', [{ kind: 'TrustedIssuer', name: 'idp', namespace: 'team-a', message: 'broken' }]]]);
  const a = run([], lastGood, invalid);
  assert.deepEqual(served(a), ['team-a/idp@1']);
  assert.equal(a.rejected.get('TrustedIssuer/team-a/idp')![0]!.message, 'broken');
});

test('a policy naming a rejected new issuer is served and refuses that issuer, so its tokens are denied', () => {
  const a = run([
    issuer('idp', 'team-a', '1', { clockSkew: '10m' }),
    issuer('other', 'team-a', '1'),
    policy('p', 'team-a', '2', 'p.example', ['idp', 'other']),
    { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'r', namespace: 'team-a', generation: 1 }, spec: { issuer: 'idp', jtis: ['x'] } },
  ]);
  assert.deepEqual(served(a), ['team-a/other@1', 'team-a/p@2', 'team-a/r@undefined']);
  assert.deepEqual([...a.rejected.keys()], ['TrustedIssuer/team-a/idp']);
  assert.deepEqual([...a.refusedIssuers], ['team-a/idp']);
  assert.match(a.warnings.get('AuthPolicy/team-a/p')![0]!.message, /"idp" is not accepted: tokens it issued are denied/);
  const compiled = compileSnapshot(a.served, { namespace: NS, generation: 1, refusedIssuers: a.refusedIssuers });
  const p = compiled.snapshot!.policies.get('team-a/p')!;
  assert.deepEqual(p.rules[0]!.issuers.map((i) => i.key), ['team-a/other'], 'only the accepted issuer verifies tokens');
});

test('an issuer whose edit is rejected keeps its last good version and is not refused', () => {
  const lastGood = new Map<string, AnyResource>();
  run([issuer('idp', 'team-a', '1'), policy('p', 'team-a', '2', 'p.example', ['idp'])], lastGood);
  const a = run([issuer('idp', 'team-a', '3', { clockSkew: '10m' }), policy('p', 'team-a', '2', 'p.example', ['idp'])], lastGood);
  assert.deepEqual(served(a), ['team-a/idp@1', 'team-a/p@2']);
  assert.deepEqual([...a.refusedIssuers], []);
});

test('a deleted resource is forgotten: its last good version does not come back', () => {
  const lastGood = new Map<string, AnyResource>();
  run([issuer('idp', 'team-a', '1'), policy('p', 'team-a', '2', 'p.example', ['idp'])], lastGood);
  run([issuer('idp', 'team-a', '1')], lastGood);
  assert.deepEqual([...lastGood.keys()], ['TrustedIssuer/team-a/idp']);
});

test('a host conflict is a warning on the newer policy, not a rejection', () => {
  const older = policy('older', 'team-a', '2', 'same.example', ['idp']);
  older.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
  const newer = policy('a-newer', 'team-a', '3', 'same.example', ['idp']);
  newer.metadata.creationTimestamp = '2026-01-02T00:00:00Z';
  const a = run([issuer('idp', 'team-a', '1'), older, newer]);
  assert.equal(a.rejected.size, 0);
  assert.match(a.warnings.get('AuthPolicy/team-a/a-newer')![0]!.message, /^Conflicted: .*team-a\/older/);
});
