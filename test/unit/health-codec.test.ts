import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { decodeHealthRequest, decodeHealthResponse, encodeHealthRequest, encodeHealthResponse, type ServingStatus } from '../../src/grpc/health.js';
import { messageSchema } from '../oracle/reference-codec.js';

// The protobuf reference, reading the spec's health.proto, checks the hand-written codec.
const Request = messageSchema('grpc.health.v1.HealthCheckRequest');
const Response = messageSchema('grpc.health.v1.HealthCheckResponse');
const STATUS = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

test('HealthCheckRequest decodes as the reference encodes it: absent, empty, ASCII and UTF-8 service names', () => {
  for (const service of [undefined, '', 'envoy.service.auth.v3.Authorization', 'dienst-ü-✓']) {
    const buf = Buffer.from(toBinary(Request, create(Request, service === undefined ? {} : { service } as never)));
    assert.equal(decodeHealthRequest(buf), service ?? '');
  }
});

test('HealthCheckRequest skips unknown fields and refuses a truncated one', () => {
  const known = Buffer.from(toBinary(Request, create(Request, { service: 'x' } as never)));
  // field 2 (varint 7) and field 3 (a 2-byte string) around the known field
  const withUnknown = Buffer.concat([Buffer.from([0x10, 0x07]), known, Buffer.from([0x1a, 0x02, 0x61, 0x62])]);
  assert.equal(decodeHealthRequest(withUnknown), 'x');
  assert.throws(() => decodeHealthRequest(known.subarray(0, known.length - 1)), /malformed request message/);
});

test('HealthCheckResponse encodes every status as the reference reads it', () => {
  for (const status of ['SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as ServingStatus[]) {
    assert.equal((fromBinary(Response, encodeHealthResponse(status)) as { status?: number }).status, STATUS[status]);
  }
});

test('the client side encodes the request and reads every status the reference writes, UNKNOWN for the rest', () => {
  for (const service of ['', 'envoy.service.auth.v3.Authorization', 'dienst-ü-✓']) {
    assert.equal((fromBinary(Request, encodeHealthRequest(service)) as { service?: string }).service, service);
  }
  for (const [name, number] of Object.entries(STATUS)) {
    assert.equal(decodeHealthResponse(Buffer.from(toBinary(Response, create(Response, { status: number } as never)))), name);
  }
  assert.equal(decodeHealthResponse(Buffer.from([0x08, 0x09])), 'UNKNOWN');
});
