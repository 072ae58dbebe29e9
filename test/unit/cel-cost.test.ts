import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition } from '../../src/authz/cel/compile-condition.js';
import { analyseCost, CEL_COST_LIMIT, estimateCost } from '../../src/authz/cel/cost-model.js';
import { celEnvironment } from '../../src/authz/cel/environment.js';
import type { ConditionInput, CompiledCondition } from '../../src/authz/cel/types.js';
import { CelHarness, compileWhen, outcome } from '../helpers/cel-harness.js';

const h = new CelHarness();
after(() => h.close());

function compiled(expression: string): CompiledCondition {
  const r = compileCondition(expression);
  if (!r.ok) throw new Error(r.message);
  return r.condition;
}

function input(over: Partial<ConditionInput> = {}): ConditionInput {
  return {
    claims: {},
    method: 'GET',
    host: 'api.example.com',
    path: '/',
    rawPath: '/',
    headers: new Map(),
    source: { principal: '', address: '' },
    destination: { principal: '', address: '' },
    nowSec: 1_800_000_000,
    ...over,
  };
}

const list = (n: number) => Array.from({ length: n }, (_, i) => `g${i}`);
const NESTED = 'claims.groups.all(a, claims.groups.all(b, a == b || a != b))';

describe('CEL cost limit', () => {
  test('a nested comprehension over small claim lists evaluates', async () => {
    const d = await h.decide(compileWhen(NESTED).snapshot!, { claims: { groups: list(20) } });
    assert.equal(outcome(d), 'allow');
  });

  test('the same expression over a large claim list is denied with condition_error before it runs', async () => {
    const snapshot = compileWhen(`claims.groups.all(a, claims.groups.all(b, claims.groups.all(c, a + b + c != '')))`).snapshot!;
    const started = process.hrtime.bigint();
    const d = await h.decide(snapshot, { claims: { groups: list(300) } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(outcome(d), 'condition_error');
    assert.match(d.steps.find((s) => s.step === 'condition')!.detail, /= error cost_limit_exceeded: cost bound \d+ exceeds the limit of 50000/);
    // 27 million iterations would take seconds; the bound refuses them up front
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  test('the bound grows with the longest list the expression can read and crosses the limit', () => {
    const c = compiled(NESTED);
    const costs = [10, 40, 80, 200].map((n) => c.evaluate(input({ claims: { groups: list(n) } })));
    const bounds = costs.map((r) => r.cost!);
    for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i]! > bounds[i - 1]!, `${bounds}`);
    assert.equal(costs[0]!.ok, true);
    assert.deepEqual(costs.at(-1), { ok: false, code: 'cost_limit_exceeded', description: `cost bound ${bounds.at(-1)} exceeds the limit of ${CEL_COST_LIMIT}`, cost: bounds.at(-1) });
  });

  test('a regular expression over a huge header it reads is over the limit; an unrelated huge header is not counted', () => {
    const c = compiled("request.headers['x-tenant'].matches('^[a-z]+$')");
    const huge = 'a'.repeat(1_000_000);
    const small = c.evaluate(input({ headers: new Map([['x-tenant', ['acme']], ['cookie', [huge]]]) }));
    assert.deepEqual({ ok: small.ok, value: (small as { value?: boolean }).value }, { ok: true, value: true });
    assert.ok(small.cost! < 100, `cost ${small.cost}`);
    const big = c.evaluate(input({ headers: new Map([['x-tenant', [huge]]]) }));
    assert.equal(big.ok, false);
    assert.equal((big as { code: string }).code, 'cost_limit_exceeded');
  });

  test('lists built by concatenation and split() count toward the bound', () => {
    const plain = compiled("claims.groups.exists(g, claims.groups.exists(h, g == h + 'x'))");
    const doubled = compiled("(claims.groups + claims.groups).exists(g, (claims.groups + claims.groups).exists(h, g == h + 'x'))");
    const claims = { groups: list(30) };
    assert.ok(doubled.evaluate(input({ claims })).cost! > 2 * plain.evaluate(input({ claims })).cost!);
    const split = compiled("request.headers['x-list'].split(',').exists(a, request.headers['x-list'].split(',').exists(b, a == b))");
    const header = (n: number) => new Map([['x-list', [list(n).join(',')]]]);
    assert.equal(split.evaluate(input({ headers: header(3) })).ok, true);
    assert.equal((split.evaluate(input({ headers: header(2000) })) as { code?: string }).code, 'cost_limit_exceeded');
  });

  test('the cost of a run never exceeds the limit when it is allowed to run', () => {
    const c = compiled(NESTED);
    for (let n = 0; n <= 120; n += 5) {
      const r = c.evaluate(input({ claims: { groups: list(n) } }));
      if (r.ok) assert.ok(r.cost <= CEL_COST_LIMIT);
      else assert.equal(r.code, 'cost_limit_exceeded');
    }
  });

  test('a bound that overflows is over the limit, never NaN', () => {
    const model = analyseCost(celEnvironment().parse('claims.a.all(x, claims.a.all(y, claims.a.all(z, x == y)))').ast);
    assert.equal(estimateCost(model, { collection: 1e200, string: 0 }), Infinity);
  });

  test('a deeply nested claim value is measured without exhausting the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const r = compiled("claims.tenant == 'acme'").evaluate(input({ claims: { tenant: 'acme', deep } }));
    assert.equal(r.ok, true);
  });
});
