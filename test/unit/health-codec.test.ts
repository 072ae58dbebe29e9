import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHealthRequest, encodeHealthResponse, type ServingStatus } from '../../src/grpc/health.js';
import { loadProtos } from '../../src/grpc/load-protos.js';

// protobufjs, from the spec's health.proto, is the reference for the hand-written codec.
const check = loadProtos().health.Check!;

test('HealthCheckRequest decodes like protobufjs: absent, empty, ASCII and UTF-8 service names', () => {
  for (const service of [undefined, '', 'envoy.service.auth.v3.Authorization', 'dienst-ü-✓']) {
    const buf = check.requestSerialize(service === undefined ? {} : { service }) as Buffer;
    assert.equal(decodeHealthRequest(buf), service ?? '');
  }
});

test('HealthCheckRequest skips unknown fields and refuses a truncated one', () => {
  const known = check.requestSerialize({ service: 'x' }) as Buffer;
  // field 2 (varint 7) and field 3 (a 2-byte string) around the known field
  const withUnknown = Buffer.concat([Buffer.from([0x10, 0x07]), known, Buffer.from([0x1a, 0x02, 0x61, 0x62])]);
  assert.equal(decodeHealthRequest(withUnknown), 'x');
  assert.throws(() => decodeHealthRequest(known.subarray(0, known.length - 1)), /malformed request message/);
});

test('HealthCheckResponse encodes every status as protobufjs reads it', () => {
  for (const status of ['SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as ServingStatus[]) {
    assert.deepEqual(check.responseDeserialize(encodeHealthResponse(status)), { status });
  }
});
