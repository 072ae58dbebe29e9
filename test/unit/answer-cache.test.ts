/** The HTTP listener's answer cache: its key (http-authz/answer-key.ts) and what it keeps (pipeline/answer-cache.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { answerKey, type CredentialSources } from '../../src/http-authz/answer-key.js';
import { ANSWERS_PER_CREDENTIAL, AnswerCache, type AnswerKey } from '../../src/pipeline/answer-cache.js';
import type { Allow, Decision } from '../../src/decision.js';
import type { CompiledIssuer, CompiledRule, Snapshot } from '../../src/compile/snapshot.js';
import type { KeyLookup } from '../../src/authn/types.js';
import type { OkPlan } from '../../src/respond/plan.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const sources: CredentialSources = { credentialHeaders: new Set(['authorization']), queryTokens: false };
const base = (): string[] => ['Host', 'auth.internal', 'X-Forwarded-Uri', '/v1/accounts', 'X-Forwarded-Host', 'payments.example.com', 'X-Forwarded-Method', 'GET', 'Authorization', `Bearer ${TOKEN}`, 'X-Request-Id', 'r-1', 'User-Agent', 'curl/8'];
const keyOf = (raw: string[], s = sources, url = '/forward-auth') => answerKey('GET', url, raw, s);
const set = (raw: string[], name: string, value: string) => raw.map((v, i) => (i % 2 === 1 && raw[i - 1]!.toLowerCase() === name ? value : v));

describe('answer key', () => {
  test('the same request again, with another request id or user agent, has the same key', () => {
    const a = keyOf(base())!;
    const b = keyOf(set(set(base(), 'x-request-id', 'r-2'), 'user-agent', 'other/1'))!;
    assert.deepEqual(a, b);
  });

  test('everything an allow turns on changes it: token, path, host, method, target, name case, a repeated or an added header', () => {
    const a = keyOf(base())!;
    const differs = (k: AnswerKey | undefined, what: string) => assert.ok(k && (k.credential !== a.credential || k.rest !== a.rest), what);
    differs(keyOf(set(base(), 'authorization', `Bearer ${TOKEN}x`)), 'another token');
    differs(keyOf(set(base(), 'x-forwarded-uri', '/v1/payments')), 'another path');
    differs(keyOf(set(base(), 'x-forwarded-host', 'admin.example.com')), 'another host');
    differs(keyOf(set(base(), 'x-forwarded-method', 'POST')), 'another method');
    differs(keyOf(set(base(), 'host', 'other.internal')), 'another Host');
    differs(answerKey('POST', '/forward-auth', base(), sources), 'the request method');
    differs(keyOf(base(), sources, '/ext-authz/v1/accounts'), 'the request target');
    differs(keyOf(base().map((v, i) => (v === 'User-Agent' && i % 2 === 0 ? 'user-agent' : v))), 'a name in another case');
    differs(keyOf([...base(), 'Authorization', `Bearer ${TOKEN}`]), 'the credential header twice');
    differs(keyOf([...base(), 'X_User_Id', 'admin']), 'an alias of an identity header');
    differs(keyOf([...base(), 'X-Original-Uri', '/v0/legacy']), 'a second steering header');
    differs(keyOf([...base(), 'x-claimcheck-role', 'root']), 'a reserved-prefix header');
  });

  test('never holds the credential; no key without one, nor when a policy reads tokens from the query', () => {
    const k = keyOf(base())!;
    assert.equal(k.credential.length, 32);
    assert.ok(!k.rest.includes(TOKEN) && !k.credential.includes(TOKEN));
    assert.equal(keyOf(base().filter((_, i, r) => r[i - (i % 2)] !== 'Authorization')), undefined);
    assert.equal(keyOf(base(), { ...sources, queryTokens: true }), undefined);
  });

  test('a cookie is a credential only when a policy reads one', () => {
    const withCookie = [...base(), 'Cookie', 'session=abc'];
    const k = keyOf(withCookie)!;
    assert.ok(k.rest.includes('\nCookie') && !k.rest.includes('session=abc'), 'not a credential here, and not decided on: only the name counts');
    assert.deepEqual(keyOf([...base(), 'Cookie', 'session=abd']), k);
    const cookieSources = { credentialHeaders: new Set(['authorization', 'cookie']), queryTokens: false };
    const c = keyOf(withCookie, cookieSources)!;
    assert.ok(!c.rest.includes('session=abc'));
    assert.notEqual(c.credential, keyOf([...base(), 'Cookie', 'session=abd'], cookieSources)!.credential);
  });
});

// The issuer and snapshot are compared by identity only.
const issuer = { key: 'default/idp', clockSkewSec: 30 } as unknown as CompiledIssuer;
const snapshot = () => ({}) as Snapshot;
function keysAt(version: number | undefined): KeyLookup & { version: number | undefined } {
  const k = { version, resolve: () => { throw new Error('not used'); }, keysVersion: () => k.version };
  return k;
}
const plan: OkPlan = { kind: 'ok', headersToSet: [{ name: 'x-user-id', value: 'alice' }], headersToRemove: [] };
const allow = (over: Partial<Allow> = {}): Allow => ({
  allow: true, reason: 'allowed', steps: [], rule: { name: 'read' } as CompiledRule,
  verified: { claims: { sub: 'alice', exp: 1000 }, issuer, token: TOKEN, alg: 'RS256', reused: true }, ...over,
});
const key = (n: number | string, rest = 'GET /forward-auth'): AnswerKey => ({ credential: `c${n}`.padEnd(32, '.'), rest });

describe('answer cache', () => {
  test('a remembered allow is found until exp + skew, then gone', () => {
    const cache = new AnswerCache(10);
    const snap = snapshot();
    const keys = keysAt(1);
    cache.remember(key(1), snap, keys, allow(), plan);
    assert.equal(cache.get(key(1), snap, keys, 900)?.plan, plan);
    assert.equal(cache.get(key(1, 'GET /other'), snap, keys, 900), undefined, 'the rest must match too');
    assert.equal(cache.get(key(2), snap, keys, 900), undefined);
    assert.ok(cache.get(key(1), snap, keys, 1029), 'within the skew');
    assert.equal(cache.get(key(1), snap, keys, 1030), undefined);
    assert.equal(cache.size, 0, 'an expired answer is dropped');
  });

  test('another snapshot, or the issuer\'s keys changed or unusable: a miss', () => {
    const cache = new AnswerCache(10);
    const snap = snapshot();
    const keys = keysAt(1);
    cache.remember(key(1), snap, keys, allow(), plan);
    keys.version = 2;
    assert.equal(cache.get(key(1), snap, keys, 900), undefined, 'rotated keys');
    cache.remember(key(1), snap, keys, allow(), plan);
    keys.version = undefined;
    assert.equal(cache.get(key(1), snap, keys, 900), undefined, 'keys stale past maxStaleness');
    keys.version = 2;
    cache.remember(key(1), snap, keys, allow(), plan);
    assert.equal(cache.get(key(1), snapshot(), keys, 900), undefined, 'a new configuration');
    assert.equal(cache.get(key(1), snap, keys, 900), undefined, 'and the old one is not back: the cache was cleared');
  });

  test('keeps only allows with a verified token, outside audit mode, without a CEL condition, that keep the cookie as is', () => {
    const cache = new AnswerCache(10);
    const snap = snapshot();
    const keys = keysAt(1);
    const refused: [string, Decision, OkPlan][] = [
      ['anonymous', allow({ reason: 'anonymous', verified: undefined }), plan],
      ['audit mode', allow({ reason: 'audit_deny', auditedDeny: { allow: false } as Allow['auditedDeny'] }), plan],
      ['a CEL condition', allow({ rule: { name: 'cel', condition: {} } as CompiledRule }), plan],
      ['a rewritten cookie', allow(), { ...plan, headersToSet: [{ name: 'cookie', value: 'other=1' }] }],
      ['a token without exp', allow({ verified: { claims: { sub: 'alice' }, issuer, token: TOKEN, alg: 'RS256', reused: true } }), plan],
      ['a token\'s first use', allow({ verified: { claims: { sub: 'alice', exp: 1000 }, issuer, token: TOKEN, alg: 'RS256' } }), plan],
    ];
    refused.forEach(([what, decision, p], i) => {
      cache.remember(key(i), snap, keys, decision, p);
      assert.equal(cache.get(key(i), snap, keys, 900), undefined, what);
    });
    cache.remember(key('unusable'), snap, keysAt(undefined), allow(), plan);
    assert.equal(cache.size, 0, 'nor when the keys have no version');
  });

  test('the remembered decision holds neither the token nor the explanation', () => {
    const cache = new AnswerCache(10);
    const snap = snapshot();
    const keys = keysAt(1);
    cache.remember(key(1), snap, keys, allow({ steps: [{ step: 'verify', ok: true, detail: 'x' }] }), plan);
    const hit = cache.get(key(1), snap, keys, 900)!;
    assert.equal(hit.decision.verified?.token, '');
    assert.deepEqual(hit.decision.steps, []);
    assert.equal(hit.decision.verified?.claims.sub, 'alice');
  });

  test('bounded: at most `capacity` answers, and ANSWERS_PER_CREDENTIAL for one credential, the oldest going first', () => {
    const cache = new AnswerCache(20);
    const snap = snapshot();
    const keys = keysAt(1);
    for (let i = 0; i < 50; i++) cache.remember(key(i), snap, keys, allow(), plan);
    assert.equal(cache.size, 20);
    assert.equal(cache.get(key(0), snap, keys, 900), undefined);
    assert.ok(cache.get(key(49), snap, keys, 900));
    for (let i = 0; i < ANSWERS_PER_CREDENTIAL + 3; i++) cache.remember(key('one', `GET /p${i}`), snap, keys, allow(), plan);
    assert.equal(cache.get(key('one', 'GET /p0'), snap, keys, 900), undefined);
    assert.ok(cache.get(key('one', `GET /p${ANSWERS_PER_CREDENTIAL + 2}`), snap, keys, 900));
    assert.ok(cache.size <= 20);
    const off = new AnswerCache(0);
    off.remember(key(1), snap, keys, allow(), plan);
    assert.equal(off.size, 0, 'size 0 keeps nothing');
  });
});
