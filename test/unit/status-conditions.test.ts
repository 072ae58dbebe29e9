import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAST_REFRESH_WRITE_MS, desiredStatus, sameStatus, withTransitionTimes, type Condition, type StatusContext } from '../../src/config/kubernetes/status/conditions.js';
import type { WatchedObject } from '../../src/config/kubernetes/kubernetes-source.js';
import type { AnyResource } from '../../src/model/types.js';

const NS = 'claimcheck-system';

function obj(kind: 'TrustedIssuer' | 'AuthPolicy' | 'TokenRevocation', name: string, spec: Record<string, unknown>, generation = 1): WatchedObject {
  const plural = { TrustedIssuer: 'trustedissuers', AuthPolicy: 'authpolicies', TokenRevocation: 'tokenrevocations' }[kind];
  return { info: { kind, plural }, key: `${kind}/team/${name}`, obj: { metadata: { name, namespace: 'team', generation, resourceVersion: `${generation}` }, spec } };
}

function served(o: WatchedObject): AnyResource {
  return { apiVersion: 'claimcheck.io/v1alpha1', kind: o.info.kind, metadata: { ...o.obj.metadata }, spec: o.obj.spec } as AnyResource;
}

function ctx(over: Partial<StatusContext> = {}): StatusContext {
  return {
    namespace: NS,
    acceptance: { served: [], rejected: new Map(), warnings: new Map(), refusedIssuers: new Set(), global: [] },
    existing: new Set(),
    served: new Map(),
    keys: new Map(),
    lookupSecret: () => ({ state: 'found', message: 'ok' }),
    nowMs: Date.parse('2026-06-01T00:00:00Z'),
    ...over,
  };
}

const pick = (s: { conditions: Condition[] }) => Object.fromEntries(s.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

test('an accepted issuer with loaded keys is Accepted, ResolvedRefs and KeysReady, with its key ids', () => {
  const o = obj('TrustedIssuer', 'idp', { issuer: 'https://idp', jwks: { uri: 'https://idp/keys' } }, 3);
  const s = desiredStatus(o, ctx({
    served: new Map([[o.key, served(o)]]),
    keys: new Map([['team/idp', { issuer: 'team/idp', ready: true, keyCount: 2, keyIds: ['b', 'a'] }]]),
  }));
  assert.deepEqual(pick(s), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs', KeysReady: 'True/KeysLoaded' });
  assert.deepEqual(s.keyIds, ['a', 'b']);
  assert.ok(s.conditions.every((c) => c.observedGeneration === 3));
});

test('a policy rejected for a missing issuer reports UnresolvedRefs and says which generation still serves', () => {
  const o = obj('AuthPolicy', 'p', { issuers: ['gone'], rules: [] }, 2);
  const old = served(obj('AuthPolicy', 'p', { issuers: ['idp'], rules: [] }, 1));
  const s = desiredStatus(o, ctx({
    served: new Map([[o.key, old]]),
    acceptance: { served: [old], rejected: new Map([[o.key, [{ kind: 'AuthPolicy', name: 'p', path: '/spec/issuers/0', message: 'TrustedIssuer "gone" not found' }]]]), warnings: new Map(), refusedIssuers: new Set(), global: [] },
  }));
  assert.deepEqual(pick(s), { Accepted: 'False/UnresolvedRefs', ResolvedRefs: 'False/IssuerNotFound', Conflicted: 'False/NoConflict' });
  assert.match(s.conditions[0]!.message, /^\/spec\/issuers\/0: TrustedIssuer "gone" not found; still serving generation 1$/);
});

test('an issuer of claimcheck\'s namespace resolves for any namespace; a rejected one is IssuerNotAccepted', () => {
  const p = obj('AuthPolicy', 'p', { issuers: ['mesh', 'local'], rules: [] });
  const s = desiredStatus(p, ctx({
    existing: new Set([`TrustedIssuer/${NS}/mesh`, 'TrustedIssuer/team/local']),
    served: new Map([[p.key, served(p)], [`TrustedIssuer/${NS}/mesh`, served(obj('TrustedIssuer', 'mesh', {}))]]),
  }));
  assert.equal(pick(s).ResolvedRefs, 'False/IssuerNotAccepted');
  assert.match(s.conditions.find((c) => c.type === 'ResolvedRefs')!.message, /TrustedIssuer local is not accepted/);
});

test('a host conflict is Conflicted=True and not mentioned as a warning in Accepted', () => {
  const o = obj('AuthPolicy', 'p', { rules: [] });
  const s = desiredStatus(o, ctx({
    served: new Map([[o.key, served(o)]]),
    acceptance: { served: [], rejected: new Map(), warnings: new Map([[o.key, [{ message: 'Conflicted: host "a" is already claimed by the older AuthPolicy team/q; this policy does not receive it' }]]]), refusedIssuers: new Set(), global: [] },
  }));
  assert.deepEqual(pick(s), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'True/HostConflict' });
  assert.equal(s.conditions[0]!.message, 'accepted');
});

test('a revocation past expiresAt is Expired', () => {
  const o = obj('TokenRevocation', 'r', { issuer: 'idp', expiresAt: '2026-01-01T00:00:00Z' });
  assert.equal(pick(desiredStatus(o, ctx({ existing: new Set(['TrustedIssuer/team/idp']), served: new Map([['TrustedIssuer/team/idp', served(obj('TrustedIssuer', 'idp', {}))]]) }))).Expired, 'True/Expired');
});

test('a status that differs only in lastTransitionTime is not written again; a changed reason is', () => {
  const desired = { observedGeneration: 1, conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'accepted', observedGeneration: 1 }] };
  const written = { observedGeneration: 1, conditions: withTransitionTimes(desired.conditions, undefined, '2026-01-01T00:00:00Z') };
  assert.ok(sameStatus(written, desired));
  assert.ok(!sameStatus(written, { ...desired, conditions: [{ ...desired.conditions[0]!, reason: 'Other' }] }));
  assert.ok(!sameStatus(written, { ...desired, observedGeneration: 2 }));
  const later = withTransitionTimes([{ ...desired.conditions[0]!, message: 'changed' }], written.conditions, '2026-02-02T00:00:00Z');
  assert.equal(later[0]!.lastTransitionTime, '2026-01-01T00:00:00Z', 'same status keeps its transition time');
  const flipped = withTransitionTimes([{ ...desired.conditions[0]!, status: 'False' }], written.conditions, '2026-02-02T00:00:00Z');
  assert.equal(flipped[0]!.lastTransitionTime, '2026-02-02T00:00:00Z');
});

test('lastRefreshTime is written once, then again only when it moved by LAST_REFRESH_WRITE_MS', () => {
  const conditions = [{ type: 'KeysReady', status: 'True' as const, reason: 'KeysLoaded', message: 'ok', observedGeneration: 1 }];
  const at = (iso: string) => ({ observedGeneration: 1, conditions, lastRefreshTime: iso });
  const written = { observedGeneration: 1, conditions: withTransitionTimes(conditions, undefined, '2026-01-01T00:00:00Z'), lastRefreshTime: '2026-01-01T00:00:00Z' };
  assert.ok(!sameStatus({ ...written, lastRefreshTime: undefined }, at('2026-01-01T00:00:00Z')), 'absent: written');
  assert.ok(sameStatus(written, at('2026-01-01T00:04:59Z')), 'a refresh within 5 min: not written');
  assert.ok(!sameStatus(written, at(new Date(Date.parse('2026-01-01T00:00:00Z') + LAST_REFRESH_WRITE_MS).toISOString())), 'five minutes on: written');
  assert.ok(!sameStatus(written, { observedGeneration: 1, conditions }), 'keys gone: cleared');
});
