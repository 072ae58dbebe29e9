import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildAllowPlan } from '../../src/respond/build-allow.js';
import { DEFAULT_SENDER_CONSTRAINT } from '../../src/compile/sender-constraint.js';
import type { Allow } from '../../src/decision.js';
import type { CompiledIssuer, CompiledPolicy, CompiledRule, Snapshot } from '../../src/compile/snapshot.js';
import type { OkPlan } from '../../src/respond/plan.js';

const issuer = { key: 'ns/idp', name: 'idp', namespace: 'ns', issuer: 'https://idp.example.com' } as CompiledIssuer;

function policy(opts: { forwardToken?: boolean; payloadHeader?: string } = {}): CompiledPolicy {
  return {
    key: 'payments/payments', name: 'payments', namespace: 'payments', mode: 'enforce', hosts: ['a.example.com'],
    tokenSources: [{ type: 'header', header: 'authorization', prefix: 'bearer ' }],
    rules: [],
    identity: {
      headers: [
        { name: 'x-user-id', claimPath: ['sub'] },
        { name: 'x-tenant', claimPath: ['tenant'] },
        { name: 'x-roles', claimPath: ['realm_access', 'roles'] },
        { name: 'x-org', claimPath: ['org'] },
        { name: 'x-verified', claimPath: ['email_verified'] },
        { name: 'x-claimcheck-level', claimPath: ['level'] },
      ],
      payloadHeader: opts.payloadHeader,
      forwardToken: opts.forwardToken ?? true,
    },
  };
}

const rule = { name: 'read', index: 0, action: 'require', matches: () => true, issuers: [], claims: [], senderConstraint: DEFAULT_SENDER_CONSTRAINT } as CompiledRule;

function snapshot(emitted: string[]): Snapshot {
  return {
    generation: 1, policies: new Map(), issuers: new Map(), policyForHost: () => undefined,
    emittedHeaders: new Set(emitted),
    credentialHeaders: new Set(['authorization']), queryTokens: false,
    revocations: { isRevoked: () => false },
  };
}

const snap = snapshot(['x-user-id', 'x-tenant', 'x-roles', 'x-org', 'x-verified', 'x-claimcheck-level', 'x-other-policy', 'x-jwt-payload']);

function allow(claims: Record<string, unknown> | undefined, p: CompiledPolicy = policy(), extra: Partial<Allow> = {}): Allow {
  return {
    allow: true, reason: claims ? 'allowed' : 'anonymous', policy: p, rule,
    verified: claims ? { claims, issuer, token: 'tok', alg: 'RS256' } : undefined,
    steps: [], ...extra,
  };
}

function headers(h: Record<string, string | string[]>): ReadonlyMap<string, readonly string[]> {
  return new Map(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
}

function build(a: Allow, incoming: Record<string, string | string[]> = {}): OkPlan {
  return buildAllowPlan(a, { snapshot: snap, headers: headers(incoming), reservedPrefix: 'x-claimcheck-' });
}

function setValue(plan: OkPlan, name: string): string | undefined {
  return plan.headersToSet.find((h) => h.name === name)?.value;
}

function assertDisjoint(plan: OkPlan): void {
  const set = new Set(plan.headersToSet.map((h) => h.name));
  for (const n of plan.headersToRemove) assert.ok(!set.has(n), `${n} is both set and removed`);
  for (const n of [...set, ...plan.headersToRemove]) assert.ok(!n.startsWith(':') && n !== 'host', `touches ${n}`);
}

const claims = {
  sub: 'merchant_42', tenant: 'acme', realm_access: { roles: ['admin', 'user'] }, org: { id: 7, name: 'Acme' },
  email_verified: true, level: 3,
};

describe('buildAllowPlan', () => {
  test('sets identity headers from verified claims, formatted per type', () => {
    const plan = build(allow(claims));
    assert.equal(setValue(plan, 'x-user-id'), 'merchant_42');
    assert.equal(setValue(plan, 'x-tenant'), 'acme');
    assert.equal(setValue(plan, 'x-roles'), 'admin,user');
    assert.equal(setValue(plan, 'x-org'), '{"id":7,"name":"Acme"}');
    assert.equal(setValue(plan, 'x-verified'), 'true');
    assert.equal(setValue(plan, 'x-claimcheck-level'), '3');
    assertDisjoint(plan);
  });

  test('replaces a spoofed x-user-id instead of removing the value it sets', () => {
    const plan = build(allow(claims), { 'x-user-id': 'admin' });
    assert.equal(setValue(plan, 'x-user-id'), 'merchant_42');
    assert.ok(!plan.headersToRemove.includes('x-user-id'));
    assertDisjoint(plan);
  });

  test('removes a spoofed identity header whose claim is missing', () => {
    const plan = build(allow({ sub: 'u' }), { 'x-tenant': 'evil' });
    assert.equal(setValue(plan, 'x-tenant'), undefined);
    assert.ok(plan.headersToRemove.includes('x-tenant'));
  });

  test('removes headers other policies can emit and every incoming reserved-prefix header', () => {
    const plan = build(allow(claims), { 'x-claimcheck-admin': '1', 'X-Claimcheck-Other': '1', 'x-unrelated': '1' });
    assert.ok(plan.headersToRemove.includes('x-other-policy'));
    assert.ok(plan.headersToRemove.includes('x-claimcheck-admin'));
    assert.ok(plan.headersToRemove.includes('x-claimcheck-other'));
    assert.ok(!plan.headersToRemove.includes('x-unrelated'));
    assert.ok(!plan.headersToRemove.includes('x-claimcheck-level'), 'a reserved-prefix header this response sets');
    assertDisjoint(plan);
  });

  const unsafe: [string, unknown][] = [
    ['CR LF', 'a\r\nx-admin: true'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['tab', 'a\tb'],
    ['non-ASCII', 'Jos\u00e9'],
    ['control char inside an array', ['ok', 'b\nc']],
    ['an over-long value', 'x'.repeat(8 * 1024 + 1)],
    ['an empty string', ''],
  ];
  for (const [name, value] of unsafe) {
    test(`never emits a claim value with ${name}, and removes the header instead`, () => {
      const plan = build(allow({ ...claims, tenant: value }), { 'x-tenant': 'spoofed' });
      assert.equal(setValue(plan, 'x-tenant'), undefined);
      assert.ok(plan.headersToRemove.includes('x-tenant'));
      assert.equal(setValue(plan, 'x-user-id'), 'merchant_42');
    });
  }

  test('on an anonymous rule removes every identity header and sets none', () => {
    const plan = build(allow(undefined, policy({ payloadHeader: 'x-jwt-payload' })), { 'x-user-id': 'admin', 'x-jwt-payload': 'e30' });
    assert.deepEqual(plan.headersToSet, []);
    for (const n of ['x-user-id', 'x-tenant', 'x-roles', 'x-org', 'x-verified', 'x-claimcheck-level', 'x-jwt-payload']) {
      assert.ok(plan.headersToRemove.includes(n), n);
    }
  });

  test('sets the payload header as unpadded base64url of the claims JSON', () => {
    const c = { sub: 'u', name: 'Jos\u00e9 ??>' };
    const plan = build(allow(c, policy({ payloadHeader: 'x-jwt-payload' })));
    const v = setValue(plan, 'x-jwt-payload');
    assert.ok(v && /^[A-Za-z0-9_-]+$/.test(v));
    assert.deepEqual(JSON.parse(Buffer.from(v, 'base64url').toString('utf8')), c);
    assertDisjoint(plan);
  });

  test('forwardToken false removes the authorization header', () => {
    const plan = build(
      allow(claims, policy({ forwardToken: false }), { credentialSource: { type: 'header', name: 'authorization' } }),
      { authorization: 'Bearer tok' },
    );
    assert.ok(plan.headersToRemove.includes('authorization'));
    assertDisjoint(plan);
  });

  test('forwardToken true keeps the authorization header', () => {
    const plan = build(allow(claims, policy(), { credentialSource: { type: 'header', name: 'authorization' } }), { authorization: 'Bearer tok' });
    assert.ok(!plan.headersToRemove.includes('authorization'));
  });

  test('forwardToken false rewrites the cookie header without the session cookie', () => {
    const plan = build(
      allow(claims, policy({ forwardToken: false }), { credentialSource: { type: 'cookie', name: 'session' } }),
      { cookie: ['theme=dark; session=tok', 'lang=en'] },
    );
    assert.equal(setValue(plan, 'cookie'), 'theme=dark; lang=en');
    assertDisjoint(plan);
  });

  test('forwardToken false removes the cookie header when the session was the only cookie', () => {
    const plan = build(
      allow(claims, policy({ forwardToken: false }), { credentialSource: { type: 'cookie', name: 'session' } }),
      { cookie: 'session=tok' },
    );
    assert.equal(setValue(plan, 'cookie'), undefined);
    assert.ok(plan.headersToRemove.includes('cookie'));
  });

  test('forwardToken false strips a query-parameter credential', () => {
    const plan = build(allow(claims, policy({ forwardToken: false }), { credentialSource: { type: 'query', name: 'access_token' } }));
    assert.deepEqual(plan.queryParametersToRemove, ['access_token']);
  });

  test('never removes pseudo-headers or host even if a policy names them', () => {
    const plan = buildAllowPlan(allow(claims), { snapshot: snapshot([':path', 'host', ':authority', 'x-a']), headers: headers({}), reservedPrefix: 'x-claimcheck-' });
    assert.ok(plan.headersToRemove.includes('x-a'));
    assertDisjoint(plan);
  });

  test('reports sub, iss, policy and rule as dynamic metadata', () => {
    assert.deepEqual(build(allow(claims)).dynamicMetadata, {
      sub: 'merchant_42', iss: 'https://idp.example.com', policy: 'payments/payments', rule: 'read',
    });
    assert.deepEqual(build(allow(undefined)).dynamicMetadata, { policy: 'payments/payments', rule: 'read' });
  });

  test('without a policy (unmatched host allowed) still strips emitted and reserved headers', () => {
    const plan = build({ allow: true, reason: 'unmatched_host', steps: [] }, { 'x-claimcheck-x': '1' });
    assert.deepEqual(plan.headersToSet, []);
    assert.ok(plan.headersToRemove.includes('x-user-id'));
    assert.ok(plan.headersToRemove.includes('x-claimcheck-x'));
    assert.equal(plan.dynamicMetadata, undefined);
  });
});
