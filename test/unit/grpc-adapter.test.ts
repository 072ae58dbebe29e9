import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toAuthRequest, toCheckResponse } from '../../src/grpc/check-adapter.js';
import { toStruct } from '../../src/grpc/struct.js';
import { ClaimcheckError } from '../../src/errors.js';
import type { DeniedPlan } from '../../src/respond/plan.js';

const withHttp = (http: unknown, extra: Record<string, unknown> = {}) => ({ attributes: { request: { http }, ...extra } });

describe('toAuthRequest', () => {
  test('reads the headers map with lowercased names and one value per key', () => {
    const req = toAuthRequest(
      withHttp({ method: 'GET', host: 'a.example.com', path: '/x?y=1', scheme: 'https', headers: { Authorization: 'Bearer a,Bearer b', ':path': '/x?y=1' } }),
    );
    assert.deepEqual(req.headers.get('authorization'), ['Bearer a,Bearer b']);
    assert.deepEqual(req.headers.get(':path'), ['/x?y=1']);
    assert.equal(req.method, 'GET');
    assert.equal(req.host, 'a.example.com');
    assert.equal(req.path, '/x?y=1');
    assert.equal(req.scheme, 'https');
  });

  test('reads header_map with one value per occurrence, raw_value before value', () => {
    const req = toAuthRequest(
      withHttp({
        header_map: {
          headers: [
            { key: 'Authorization', raw_value: Buffer.from('Bearer a') },
            { key: 'authorization', raw_value: Buffer.from('Bearer b') },
            { key: 'x-plain', value: 'text' },
            { key: 'x-both', value: 'ignored', raw_value: Buffer.from('raw') },
          ],
        },
      }),
    );
    assert.deepEqual(req.headers.get('authorization'), ['Bearer a', 'Bearer b']);
    assert.deepEqual(req.headers.get('x-plain'), ['text']);
    assert.deepEqual(req.headers.get('x-both'), ['raw']);
  });

  test('decodes raw_value as UTF-8 when valid and byte-for-byte as latin1 otherwise', () => {
    const req = toAuthRequest(
      withHttp({
        header_map: {
          headers: [
            { key: 'x-utf8', raw_value: Buffer.from('Zürich', 'utf8') },
            { key: 'x-bytes', raw_value: Buffer.from([0x66, 0xfc, 0x72]) },
          ],
        },
      }),
    );
    assert.deepEqual(req.headers.get('x-utf8'), ['Zürich']);
    assert.deepEqual(req.headers.get('x-bytes'), ['f\u00fcr']);
  });

  test('prefers the x-request-id header over Envoy stream id', () => {
    assert.equal(toAuthRequest(withHttp({ id: '99', headers: { 'x-request-id': 'abc' } })).requestId, 'abc');
    assert.equal(toAuthRequest(withHttp({ id: '99', headers: {} })).requestId, '99');
    assert.equal(toAuthRequest(withHttp({ id: '99', headers: { 'x-request-id': '' } })).requestId, '99');
  });

  test('reads context extensions and peers', () => {
    const req = toAuthRequest(
      withHttp(
        {},
        {
          context_extensions: { 'claimcheck.io/policy': 'ns/name', bad: 5 },
          source: { principal: 'spiffe://a', address: { socket_address: { address: '10.0.0.1', port_value: 1 } } },
          destination: { principal: 'spiffe://b' },
        },
      ),
    );
    assert.deepEqual(req.contextExtensions, { 'claimcheck.io/policy': 'ns/name' });
    assert.deepEqual(req.source, { principal: 'spiffe://a', address: '10.0.0.1' });
    assert.deepEqual(req.destination, { principal: 'spiffe://b', address: '' });
  });

  const garbage: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'CheckRequest'],
    ['an array', [1, 2]],
    ['wrong attribute types', { attributes: { request: 'x', context_extensions: [1], source: 7 } }],
    ['wrong http field types', withHttp({ method: 1, host: {}, path: [], headers: 'a:b', header_map: { headers: 'no' }, id: 5 })],
    ['broken header_map entries', withHttp({ header_map: { headers: [null, 3, { key: 7 }, { key: 'x', raw_value: 'str' }] } })],
  ];
  for (const [name, input] of garbage) {
    test(`treats ${name} as an empty request without throwing`, () => {
      const req = toAuthRequest(input);
      assert.equal(req.method, '');
      assert.equal(req.host, '');
      assert.equal(req.path, '');
      assert.equal(req.requestId, '');
      assert.equal(req.scheme, '');
      assert.deepEqual(req.contextExtensions, {});
      assert.deepEqual(req.source, { principal: '', address: '' });
      assert.ok([...req.headers.keys()].every((k) => k === 'x'));
    });
  }
});

describe('toCheckResponse', () => {
  test('encodes an ok plan with status 0 and overwrite semantics on every header', () => {
    const res: any = toCheckResponse({
      kind: 'ok',
      headersToSet: [
        { name: 'x-user-id', value: 'u1' },
        { name: 'x-tenant', value: 'acme' },
      ],
      headersToRemove: ['x-roles'],
    });
    assert.deepEqual(res.status, { code: 0, message: '' });
    assert.equal(res.denied_response, undefined);
    assert.deepEqual(res.ok_response.headers_to_remove, ['x-roles']);
    assert.equal(res.ok_response.headers.length, 2);
    for (const h of res.ok_response.headers) {
      assert.deepEqual(h.append, { value: false });
      assert.equal(h.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    }
    assert.deepEqual(res.ok_response.headers[1].header, { key: 'x-tenant', value: 'acme' });
    assert.equal(res.dynamic_metadata, undefined);
  });

  test('encodes dynamic metadata as a google.protobuf.Struct', () => {
    const res: any = toCheckResponse({ kind: 'ok', headersToSet: [], headersToRemove: [], dynamicMetadata: { sub: 'u1', n: 1 } });
    assert.deepEqual(res.dynamic_metadata, { fields: { sub: { stringValue: 'u1' }, n: { numberValue: 1 } } });
  });

  test('encodes a denied plan with its gRPC code, HTTP status, headers and body', () => {
    const res: any = toCheckResponse({
      kind: 'denied',
      grpcCode: 7,
      httpStatus: 403,
      headers: [{ name: 'content-type', value: 'application/json' }],
      body: '{"error":"access_denied"}',
    });
    assert.deepEqual(res.status, { code: 7, message: '' });
    assert.equal(res.ok_response, undefined);
    assert.deepEqual(res.denied_response.status, { code: 403 });
    assert.deepEqual(res.denied_response.headers, [
      { header: { key: 'content-type', value: 'application/json' }, append: { value: false }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    assert.equal(res.denied_response.body, '{"error":"access_denied"}');
  });

  const badDenied: [string, Partial<DeniedPlan>][] = [
    ['gRPC code 0', { grpcCode: 0 }],
    ['gRPC code 17', { grpcCode: 17 }],
    ['a fractional gRPC code', { grpcCode: 7.5 }],
    ['HTTP status 200', { httpStatus: 200 }],
  ];
  for (const [name, override] of badDenied) {
    test(`refuses to encode a denied plan with ${name}`, () => {
      const plan: DeniedPlan = { kind: 'denied', grpcCode: 7, httpStatus: 403, headers: [], body: '', ...override };
      assert.throws(() => toCheckResponse(plan), (e: unknown) => e instanceof ClaimcheckError && e.code === 'invalid_response_plan');
    });
  }

  test('refuses a plan of unknown kind', () => {
    assert.throws(() => toCheckResponse({ kind: 'maybe' } as never), ClaimcheckError);
  });
});

describe('toStruct', () => {
  test('converts every JSON value kind and follows JSON.stringify for undefined and non-finite numbers', () => {
    assert.deepEqual(toStruct({ a: null, b: 1.5, c: 's', d: false, e: [1, undefined], f: { g: 'h' }, u: undefined, inf: Infinity }), {
      fields: {
        a: { nullValue: 'NULL_VALUE' },
        b: { numberValue: 1.5 },
        c: { stringValue: 's' },
        d: { boolValue: false },
        e: { listValue: { values: [{ numberValue: 1 }, { nullValue: 'NULL_VALUE' }] } },
        f: { structValue: { fields: { g: { stringValue: 'h' } } } },
        inf: { nullValue: 'NULL_VALUE' },
      },
    });
  });

  test('rejects a cyclic value instead of recursing forever', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => toStruct(cyclic), (e: unknown) => e instanceof ClaimcheckError && e.code === 'struct_too_deep');
  });
});
