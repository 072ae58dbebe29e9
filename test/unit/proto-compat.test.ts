import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as protoLoader from '@grpc/proto-loader';
import { decodeCheckRequest } from '../../src/grpc/wire/decode-check-request.js';
import { encodeCheckResponse } from '../../src/grpc/wire/encode-check-response.js';
import { loadProtos } from '../oracle/load-protos.js';
import { fromStruct, loadUpstreamProtos } from '../helpers/envoy-client.js';

const ours = loadProtos().packageDefinition;
const upstream = loadUpstreamProtos();

function messageType(def: protoLoader.PackageDefinition, name: string): protoLoader.MessageTypeDefinition<any, any> {
  const t = def[name] as protoLoader.MessageTypeDefinition<any, any>;
  assert.ok(t && 'serialize' in t, `${name} is a message type`);
  return t;
}

const lastName = (typeName: string) => typeName.slice(typeName.lastIndexOf('.') + 1);

/** Every field and enum value of ours must exist upstream with the same number and type. */
function compareDescriptor(path: string, mine: any, theirs: any): void {
  assert.ok(theirs, `${path} exists upstream`);
  for (const f of mine.field ?? []) {
    const u = (theirs.field ?? []).find((x: any) => x.name === f.name);
    assert.ok(u, `${path}.${f.name} exists upstream`);
    assert.equal(f.number, u.number, `${path}.${f.name} number`);
    assert.equal(f.type, u.type, `${path}.${f.name} type`);
    assert.equal(f.label, u.label, `${path}.${f.name} label`);
    assert.equal(lastName(f.typeName), lastName(u.typeName), `${path}.${f.name} type name`);
  }
  for (const n of mine.nestedType ?? []) {
    compareDescriptor(`${path}.${n.name}`, n, (theirs.nestedType ?? []).find((x: any) => x.name === n.name));
  }
  for (const e of mine.enumType ?? []) {
    compareEnum(`${path}.${e.name}`, e, (theirs.enumType ?? []).find((x: any) => x.name === e.name));
  }
}

function compareEnum(path: string, mine: any, theirs: any): void {
  assert.ok(theirs, `${path} exists upstream`);
  for (const v of mine.value) {
    const u = theirs.value.find((x: any) => x.name === v.name);
    assert.ok(u, `${path}.${v.name} exists upstream`);
    assert.equal(v.number, u.number, `${path}.${v.name} number`);
  }
}

const checkRequestFromEnvoy = {
  attributes: {
    source: {
      address: { socket_address: { protocol: 'TCP', address: '10.1.2.3', port_value: 40000 } },
      service: 'frontend',
      labels: { app: 'frontend' },
      principal: 'spiffe://cluster.local/ns/web/sa/frontend',
      certificate: encodeURIComponent('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
    },
    destination: {
      address: { socket_address: { address: '10.4.5.6', port_value: 8080 } },
      principal: 'spiffe://cluster.local/ns/payments/sa/payments',
    },
    request: {
      time: { seconds: 1700000000, nanos: 5 },
      http: {
        id: '17263',
        method: 'POST',
        headers: { ':authority': 'pay.example.com', authorization: 'Bearer abc', 'x-request-id': 'rid-1' },
        header_map: {
          headers: [
            { key: 'x-multi', raw_value: Buffer.from('one') },
            { key: 'x-multi', raw_value: Buffer.from('two') },
            { key: 'x-legacy', value: 'v' },
          ],
        },
        path: '/v1/payments?x=1',
        host: 'pay.example.com',
        scheme: 'https',
        query: 'x=1',
        fragment: 'frag',
        size: 42,
        protocol: 'HTTP/2',
        body: '{"a":1}',
        raw_body: Buffer.from('{"a":1}'),
      },
    },
    context_extensions: { 'claimcheck.io/policy': 'payments/payments' },
    metadata_context: { filter_metadata: { f: { fields: { k: { stringValue: 'v' } } } } },
    tls_session: { sni: 'pay.example.com' },
  },
};

describe('wire compatibility with Envoy upstream protos', () => {
  test('every message, field and enum value in proto/ matches upstream number and type', () => {
    let compared = 0;
    for (const [name, def] of Object.entries(ours)) {
      if (name.startsWith('google.protobuf.') || name.startsWith('grpc.health.')) continue;
      const d = def as any;
      if (d.format === 'Protocol Buffer 3 DescriptorProto') compareDescriptor(name, d.type, (upstream[name] as any)?.type);
      else if (d.format === 'Protocol Buffer 3 EnumDescriptorProto') compareEnum(name, d.type, (upstream[name] as any)?.type);
      else continue;
      compared++;
    }
    assert.ok(compared >= 10, `compared ${compared} types`);
  });

  test('a CheckRequest encoded with upstream protos decodes with ours field by field', () => {
    const bytes = messageType(upstream, 'envoy.service.auth.v3.CheckRequest').serialize(checkRequestFromEnvoy);
    const got: any = messageType(ours, 'envoy.service.auth.v3.CheckRequest').deserialize(bytes);
    const a = got.attributes;
    assert.deepEqual(a.source.address.socket_address, {
      protocol: 'TCP',
      address: '10.1.2.3',
      port_value: 40000,
      port_specifier: 'port_value',
    });
    assert.equal(a.source.principal, 'spiffe://cluster.local/ns/web/sa/frontend');
    assert.equal(a.source.service, 'frontend');
    assert.equal(a.destination.principal, 'spiffe://cluster.local/ns/payments/sa/payments');
    assert.equal(a.destination.address.socket_address.address, '10.4.5.6');
    const h = a.request.http;
    assert.equal(h.id, '17263');
    assert.equal(h.method, 'POST');
    assert.deepEqual(h.headers, { ':authority': 'pay.example.com', authorization: 'Bearer abc', 'x-request-id': 'rid-1' });
    assert.deepEqual(
      h.header_map.headers.map((x: any) => [x.key, x.raw_value?.toString(), x.value]),
      [['x-multi', 'one', undefined], ['x-multi', 'two', undefined], ['x-legacy', undefined, 'v']],
    );
    assert.equal(h.path, '/v1/payments?x=1');
    assert.equal(h.host, 'pay.example.com');
    assert.equal(h.scheme, 'https');
    assert.equal(h.query, 'x=1');
    assert.equal(h.fragment, 'frag');
    assert.equal(h.size, 42);
    assert.equal(h.protocol, 'HTTP/2');
    assert.equal(h.body, '{"a":1}');
    assert.deepEqual(a.context_extensions, { 'claimcheck.io/policy': 'payments/payments' });
  });

  test('claimcheck decodes the upstream CheckRequest to the expected domain request', () => {
    const bytes = messageType(upstream, 'envoy.service.auth.v3.CheckRequest').serialize(checkRequestFromEnvoy);
    const req = decodeCheckRequest(bytes);
    assert.equal(req.host, 'pay.example.com');
    assert.equal(req.method, 'POST');
    // header_map wins over the headers map when both are present
    assert.deepEqual([...req.headers], [['x-multi', ['one', 'two']], ['x-legacy', ['v']]]);
    assert.equal(req.requestId, '17263');
    // Envoy sends the peer certificate URL-encoded (include_peer_certificate: true): decoded to PEM
    assert.deepEqual(req.source, { principal: 'spiffe://cluster.local/ns/web/sa/frontend', address: '10.1.2.3', certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
  });

  test('a CheckResponse encoded by claimcheck decodes with upstream protos field by field', () => {
    const bytes = encodeCheckResponse({
      kind: 'ok',
      headersToSet: [{ name: 'x-user-id', value: 'merchant_1' }],
      headersToRemove: ['x-tenant', 'x-claimcheck-debug'],
      dynamicMetadata: { sub: 'merchant_1', n: 3, ok: true, none: null, list: ['a', 1], nested: { x: 'y' } },
    });
    const got: any = messageType(upstream, 'envoy.service.auth.v3.CheckResponse').deserialize(bytes);
    assert.deepEqual(got.status, {}, 'present, with the proto3 default code 0 left out');
    assert.equal(got.http_response, 'ok_response');
    assert.deepEqual(got.ok_response.headers, [
      {
        header: { key: 'x-user-id', value: 'merchant_1' },
        append: { value: false },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ]);
    assert.deepEqual(got.ok_response.headers_to_remove, ['x-tenant', 'x-claimcheck-debug']);
    assert.deepEqual(fromStruct(got.dynamic_metadata), {
      sub: 'merchant_1',
      n: 3,
      ok: true,
      none: null,
      list: ['a', 1],
      nested: { x: 'y' },
    });
  });

  test('a denied CheckResponse encoded by claimcheck carries code, HTTP status, headers and body upstream', () => {
    const bytes = encodeCheckResponse({
      kind: 'denied',
      grpcCode: 16,
      httpStatus: 401,
      headers: [{ name: 'www-authenticate', value: 'Bearer realm="pay.example.com"' }],
      body: '{"error":"unauthorized"}',
    });
    const got: any = messageType(upstream, 'envoy.service.auth.v3.CheckResponse').deserialize(bytes);
    assert.deepEqual(got.status, { code: 16 });
    assert.equal(got.http_response, 'denied_response');
    assert.deepEqual(got.denied_response.status, { code: 'Unauthorized' });
    assert.deepEqual(got.denied_response.headers, [
      {
        header: { key: 'www-authenticate', value: 'Bearer realm="pay.example.com"' },
        append: { value: false },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ]);
    assert.equal(got.denied_response.body, '{"error":"unauthorized"}');
  });
});
