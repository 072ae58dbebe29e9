/**
 * encodeCheckResponse (src/grpc/wire/) read back by the protobuf reference (test/oracle/):
 * seeded random plans must decode to exactly the response the plan describes, and
 * Envoy's own protos must see the presence fields its ext_authz filter relies on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { encodeCheckResponse } from '../../src/grpc/wire/encode-check-response.js';
import { ClaimcheckError } from '../../src/errors.js';
import type { DeniedPlan, HeaderToSet, OkPlan, ResponsePlan } from '../../src/respond/plan.js';
import { messageSchema, referenceDecodeResponse } from '../oracle/reference-codec.js';
import { loadUpstreamProtos } from '../helpers/envoy-client.js';
import { randomString, rng, type Rng } from '../helpers/wire-build.js';

const CheckResponse = messageSchema('envoy.service.auth.v3.CheckResponse');
/** What the reference decodes, as proto3 JSON (defaults left out, enums as numbers). */
const decoded = (bytes: Buffer) => toJson(CheckResponse, referenceDecodeResponse(bytes) as never, { enumAsInteger: true });

/** Lone surrogates as U+FFFD (String.prototype.toWellFormed, Node 20; TypeScript's lib here predates it). */
const wf = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();

/** A metadata value as the Struct should carry it: JSON.stringify's view, -0 kept, lone surrogates as U+FFFD. */
function expectedValue(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(): unknown }).toJSON();
  if (typeof v === 'string') return wf(v);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === null || typeof v !== 'object') return null;
  if (Array.isArray(v)) return Array.from(v, (e) => expectedValue(e));
  return expectedObject(v);
}
function expectedObject(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const m = (o as Record<string, unknown>)[k];
    if (m === undefined || typeof m === 'function' || typeof m === 'symbol') continue;
    const value = expectedValue(m);
    // a `__proto__` key cannot survive a plain object on the reading side: left out
    if (k !== '__proto__') out[wf(k)] = value;
  }
  return out;
}

const header = (h: HeaderToSet) => ({
  header: { ...(h.name ? { key: wf(h.name) } : {}), ...(h.value ? { value: wf(h.value) } : {}) },
  append: false,
  appendAction: 2,
});
const list = (name: string, xs: readonly string[] | undefined) => (xs?.length ? { [name]: xs.map((x) => wf(x)) } : {});

/** The CheckResponse a plan describes, as the reference's proto3 JSON. */
function expected(plan: ResponsePlan): unknown {
  if (plan.kind === 'ok') {
    const meta = plan.dynamicMetadata;
    return {
      status: {},
      okResponse: { ...(plan.headersToSet.length ? { headers: plan.headersToSet.map(header) } : {}), ...list('headersToRemove', plan.headersToRemove), ...list('queryParametersToRemove', plan.queryParametersToRemove) },
      ...(meta && Object.keys(meta).length > 0 ? { dynamicMetadata: expectedObject(meta) } : {}),
    };
  }
  return {
    status: { code: plan.grpcCode },
    deniedResponse: { status: { code: plan.httpStatus }, ...(plan.headers.length ? { headers: plan.headers.map(header) } : {}), ...(plan.body ? { body: wf(plan.body) } : {}) },
  };
}

const assertEncodes = (plan: ResponsePlan, label: string) => assert.deepStrictEqual(decoded(encodeCheckResponse(plan)), expected(plan), label);

function randomHeaders(g: Rng, max: number): HeaderToSet[] {
  return Array.from({ length: g.int(max + 1) }, () => ({
    name: g.pick(['x-user-id', 'x-tenant', 'X-Roles', 'content-type', '', randomString(g)]),
    value: g.chance(0.03) ? 'v'.repeat(g.pick([130, 20_000])) : randomString(g, 30),
  }));
}

class Stamp {
  constructor(readonly v: unknown) {}
  toJSON() {
    return this.v;
  }
}

function randomJson(g: Rng, depth: number): unknown {
  const leaf = () =>
    g.pick<() => unknown>([
      () => null, () => undefined, () => NaN, () => Infinity, () => -Infinity, () => -0, () => 0, () => 1.5, () => -(2 ** 60),
      () => Number.MAX_VALUE, () => 10n ** 20n, () => 7n, () => true, () => false, () => '', () => randomString(g, 40), () => 'a\ud800b',
      () => new Date(g.int(2e12)), () => new Stamp(g.chance(0.5) ? undefined : randomString(g)), () => () => 1, () => Symbol('s'),
    ])();
  if (depth > 5 || g.chance(0.5)) return leaf();
  if (g.chance(0.4)) return Array.from({ length: g.int(5) }, () => randomJson(g, depth + 1));
  return randomObject(g, depth + 1);
}

function randomObject(g: Rng, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = g.int(6); i > 0; i--) o[g.pick(['sub', 'iss', 'scopes', '', '1', '0', 'ünï', randomString(g)])] = randomJson(g, depth);
  return o;
}

function randomOkPlan(g: Rng): OkPlan {
  const plan: OkPlan = {
    kind: 'ok',
    headersToSet: randomHeaders(g, 20),
    headersToRemove: Array.from({ length: g.int(5) }, () => g.pick(['x-roles', 'authorization', '', randomString(g)])),
  };
  if (g.chance(0.5)) plan.queryParametersToRemove = Array.from({ length: g.int(3) }, () => g.pick(['access_token', '', 'ü']));
  if (g.chance(0.8)) plan.dynamicMetadata = g.chance(0.1) ? {} : randomObject(g, 0);
  return plan;
}

function randomDeniedPlan(g: Rng): DeniedPlan {
  return {
    kind: 'denied',
    grpcCode: (1 + g.int(16)) as DeniedPlan['grpcCode'],
    httpStatus: 400 + g.int(200),
    headers: randomHeaders(g, 4),
    body: g.chance(0.2) ? '' : g.chance(0.05) ? 'b'.repeat(70_000) : JSON.stringify({ error: randomString(g) }),
  };
}

describe('encodeCheckResponse', () => {
  test('encodes 2,000 seeded random ok plans to exactly the response they describe', () => {
    const g = rng(0xbeef);
    for (let i = 0; i < 2000; i++) assertEncodes(randomOkPlan(g), `ok plan ${i}`);
  });

  test('encodes 1,000 seeded random denied plans to exactly the response they describe', () => {
    const g = rng(0xdead);
    for (let i = 0; i < 1000; i++) assertEncodes(randomDeniedPlan(g), `denied plan ${i}`);
  });

  test('writes length prefixes of one, two and three bytes around 128 and 16,384', () => {
    const sizes = [...Array.from({ length: 40 }, (_, i) => 100 + i), ...Array.from({ length: 40 }, (_, i) => 16_340 + i), 2_100_000];
    for (const n of sizes) {
      const value = 'v'.repeat(n);
      assertEncodes({ kind: 'ok', headersToSet: [{ name: 'x-big', value }], headersToRemove: [], dynamicMetadata: { s: value } }, `ok ${n}`);
      assertEncodes({ kind: 'denied', grpcCode: 7, httpStatus: 403, headers: [{ name: 'x-big', value }], body: value }, `denied ${n}`);
    }
  });

  const ok: OkPlan = { kind: 'ok', headersToSet: [], headersToRemove: [] };
  const denied: DeniedPlan = { kind: 'denied', grpcCode: 7, httpStatus: 403, headers: [], body: '' };
  const deep = (n: number, leaf: unknown, wrap: (x: unknown) => unknown) => {
    let v = leaf;
    for (let i = 0; i < n; i++) v = wrap(v);
    return v;
  };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const invalid: [string, ResponsePlan, string][] = [
    ['gRPC code 0', { ...denied, grpcCode: 0 as never }, 'invalid_response_plan'],
    ['gRPC code 17', { ...denied, grpcCode: 17 as never }, 'invalid_response_plan'],
    ['a fractional gRPC code', { ...denied, grpcCode: 7.5 as never }, 'invalid_response_plan'],
    ['a NaN gRPC code', { ...denied, grpcCode: NaN as never }, 'invalid_response_plan'],
    ['HTTP status 200', { ...denied, httpStatus: 200 }, 'invalid_response_plan'],
    ['HTTP status 600', { ...denied, httpStatus: 600 }, 'invalid_response_plan'],
    ['HTTP status 399', { ...denied, httpStatus: 399 }, 'invalid_response_plan'],
    ['an unknown kind', { kind: 'maybe' } as never, 'invalid_response_plan'],
    ['cyclic metadata', { ...ok, dynamicMetadata: cyclic }, 'struct_too_deep'],
    ['metadata 40 objects deep', { ...ok, dynamicMetadata: { a: deep(40, 1, (x) => ({ a: x })) } }, 'struct_too_deep'],
  ];
  for (const [name, plan, code] of invalid) {
    test(`refuses ${name} with ClaimcheckError ${code}`, () => {
      assert.throws(() => encodeCheckResponse(plan), (e: unknown) => e instanceof ClaimcheckError && e.code === code);
    });
  }

  test('encodes a value 32 levels deep (the top-level Struct is the first), and refuses one 33 deep', () => {
    for (const leaf of [1, [], {}, [undefined], { u: undefined }]) {
      for (const wrap of [(x: unknown) => ({ k: x }), (x: unknown) => [x]]) {
        assertEncodes({ ...ok, dynamicMetadata: { root: deep(31, leaf, wrap) } }, `32 levels: ${JSON.stringify(leaf)}`);
        const over = { root: deep(32, leaf, wrap) };
        assert.throws(() => encodeCheckResponse({ ...ok, dynamicMetadata: over }), (e: unknown) => e instanceof ClaimcheckError && e.code === 'struct_too_deep');
      }
    }
  });

  test('drops a `__proto__` metadata key, and still converts its value', () => {
    const plan: OkPlan = { ...ok, dynamicMetadata: JSON.parse('{"__proto__": {"x": 1}, "a": "b"}') };
    assertEncodes(plan, '__proto__');
    assert.deepStrictEqual(decoded(encodeCheckResponse(plan)), { status: {}, okResponse: {}, dynamicMetadata: { a: 'b' } });
    const tooDeep: OkPlan = { ...ok, dynamicMetadata: JSON.parse(`{"__proto__": ${'['.repeat(40)}${']'.repeat(40)}}`) };
    assert.throws(() => encodeCheckResponse(tooDeep), (e: unknown) => e instanceof ClaimcheckError && e.code === 'struct_too_deep');
  });

  test('encodes a lone surrogate as U+FFFD, so the bytes are valid UTF-8 as proto3 requires', () => {
    const bytes = encodeCheckResponse({ ...ok, dynamicMetadata: { sub: 'a\ud800b' } });
    assert.ok(bytes.includes(Buffer.from('a\ufffdb', 'utf8')));
    assert.ok(!bytes.includes(Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62])), 'no CESU-8');
  });

  test('encodes a hole in a metadata array as null', () => {
    assert.deepStrictEqual(decoded(encodeCheckResponse({ ...ok, dynamicMetadata: { l: [1, , 3] } })), { status: {}, okResponse: {}, dynamicMetadata: { l: [1, null, 3] } });
  });
});
describe('CheckResponse presence fields for Envoy', () => {
  const upstream = loadUpstreamProtos()['envoy.service.auth.v3.CheckResponse'] as unknown as { deserialize: (b: Buffer) => any };
  const headers = [
    { name: 'x-user-id', value: 'u1' },
    { name: 'x-tenant', value: 'acme' },
    { name: 'x-empty', value: '' },
  ];
  // HeaderValueOption tail: append (2) = BoolValue{value (1) = false}, append_action (3) = 2
  const overwriteTail = Buffer.from([0x12, 0x02, 0x08, 0x00, 0x18, 0x02]);
  const count = (bytes: Buffer, needle: Buffer) => {
    let n = 0;
    for (let i = bytes.indexOf(needle); i >= 0; i = bytes.indexOf(needle, i + 1)) n++;
    return n;
  };

  test('an ok response has a status and, on every header, `append` BoolValue{value: false} and append_action OVERWRITE_IF_EXISTS_OR_ADD', () => {
    const bytes = encodeCheckResponse({ kind: 'ok', headersToSet: headers, headersToRemove: ['x-roles'] });
    assert.equal(count(bytes, overwriteTail), headers.length);
    const got = upstream.deserialize(bytes);
    assert.deepStrictEqual(got.status, {});
    assert.equal(got.http_response, 'ok_response');
    assert.equal(got.ok_response.headers.length, headers.length);
    for (const h of got.ok_response.headers) {
      assert.deepStrictEqual(h.append, { value: false });
      assert.equal(h.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    }
  });

  test('an ok response without headers still carries status and an empty ok_response', () => {
    const got = upstream.deserialize(encodeCheckResponse({ kind: 'ok', headersToSet: [], headersToRemove: [] }));
    assert.deepStrictEqual(got.status, {});
    assert.equal(got.http_response, 'ok_response');
  });

  test('a denied response has its status code, HTTP status and overwrite semantics on every header', () => {
    const bytes = encodeCheckResponse({ kind: 'denied', grpcCode: 16, httpStatus: 401, headers, body: '' });
    assert.equal(count(bytes, overwriteTail), headers.length);
    const got = upstream.deserialize(bytes);
    assert.deepStrictEqual(got.status, { code: 16 });
    assert.equal(got.http_response, 'denied_response');
    assert.deepStrictEqual(got.denied_response.status, { code: 'Unauthorized' });
    for (const h of got.denied_response.headers) {
      assert.deepStrictEqual(h.append, { value: false });
      assert.equal(h.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    }
  });
});
