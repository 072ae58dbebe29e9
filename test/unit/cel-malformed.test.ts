/**
 * No allow is reachable through a malformed expression: thousands of mutated
 * conditions are compiled and decided by the real pipeline, and compared with the
 * CEL library evaluating the same text directly. A mutant that does not compile
 * never yields a snapshot; one that compiles allows only when the library says `true`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../helpers/prng.js';
import { celEnvironment, CelPeer, CelRequest } from '../../src/authz/cel/environment.js';
import { CelHarness, CEL_NOW, compileWhen, outcome } from '../helpers/cel-harness.js';

const h = new CelHarness();
after(() => h.close());

const BASES = [
  "claims.tenant == request.headers['x-tenant']",
  "claims.roles.exists(r, r == 'admin') && request.method == 'GET'",
  "request.path.startsWith('/tenants/' + claims.tenant + '/') || has(claims.act)",
  "!(claims.level < 2) && request.query.q != 'x'",
  "claims.roles.all(r, r in ['reader', 'admin']) ? claims.level > 1 : false",
  "timestamp(int(claims.exp)) > request.time && size(claims.roles) == 2",
];
const TOKENS = ['(', ')', '.', "'", '"', '[', ']', '&&', '||', '!', '==', '!=', ',', ' ', '1', '1.0', 'x', 'claims', 'true', 'null', '?', ':', '-', '+', 'in', '}', '{'];
const CLAIMS = { sub: 'alice', tenant: 'acme', roles: ['reader', 'admin'], level: 3, exp: CEL_NOW + 600, iat: CEL_NOW - 10, iss: 'https://idp.cel.test', aud: 'api' };

function mutate(s: string, rand: () => number): string {
  const at = Math.floor(rand() * (s.length + 1));
  switch (Math.floor(rand() * 5)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(at);
    case 2:
      return s.slice(0, at);
    case 3: {
      const len = 1 + Math.floor(rand() * 6);
      return s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
    }
    default:
      return s.slice(0, at) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(at + 1);
  }
}

/** The library on its own, with the same variables: true, false, or 'error' (anything but a boolean). */
function oracle(expression: string): boolean | 'error' {
  const query = Object.assign(Object.create(null), { q: 'y' });
  const headers = Object.assign(Object.create(null), { 'x-tenant': 'acme' });
  try {
    const v = celEnvironment().evaluate(expression, {
      claims: CLAIMS,
      request: new CelRequest('GET', 'api.example.com', '/tenants/acme/x', query, headers, new Date(CEL_NOW * 1000)),
      source: new CelPeer('spiffe://cluster.local/ns/shop/sa/web', '10.1.2.3'),
      destination: new CelPeer('spiffe://cluster.local/ns/api/sa/api', '10.4.5.6'),
    });
    return typeof v === 'boolean' ? v : 'error';
  } catch {
    return 'error';
  }
}

describe('malformed CEL expressions', () => {
  test('never allow: they fail to load, or deny, unless the expression is well-formed and true', async () => {
    const rand = mulberry32(0xc1a1c4ec);
    const seen = new Set<string>();
    const counts = { rejectedAtLoad: 0, conditionError: 0, conditionFalse: 0, allow: 0 };
    for (let i = 0; i < 1500; i++) {
      let expr = BASES[i % BASES.length]!;
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) expr = mutate(expr, rand);
      if (seen.has(expr)) continue;
      seen.add(expr);
      const { snapshot, problems } = compileWhen(expr);
      if (!snapshot) {
        counts.rejectedAtLoad++;
        assert.ok(problems.length > 0, expr);
        assert.ok(problems.every((p) => p.path === '/spec/rules/0/require/when'), `${expr}: ${JSON.stringify(problems)}`);
        assert.match(problems[0]!.message, /^CEL (syntax error|type error|is too complex) at line \d+, column \d+: |^CEL expression is too expensive/, expr);
        continue;
      }
      const d = await h.decide(snapshot, { claims: CLAIMS, path: '/tenants/acme/x?q=y', headers: { 'x-tenant': 'acme' } });
      const want = oracle(expr);
      const got = outcome(d);
      assert.equal(got, want === true ? 'allow' : want === false ? 'condition_false' : 'condition_error', `${JSON.stringify(expr)}: library says ${want}, pipeline ${got}`);
      if (got === 'allow') counts.allow++;
      else if (got === 'condition_false') counts.conditionFalse++;
      else counts.conditionError++;
    }
    // the mutants exercise every class, or the test proves little
    for (const [k, n] of Object.entries(counts)) assert.ok(n >= 20, `only ${n} mutants ${k}: ${JSON.stringify(counts)}`);
  });
});
