/**
 * readRequestMessage (src/grpc/transport/read-request.ts): a call's DATA chunks into its one
 * length-prefixed request message (1 flag byte, 4-byte big-endian length, the message), on a
 * fake stream (read-request-support.ts) so the chunk boundaries are exactly the test's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { GrpcCode } from '../../src/grpc-code.js';
import { CallError, frameMessage, readSingleMessage } from '../../src/grpc/transport/message-frame.js';
import { ConnectionBudget } from '../../src/grpc/transport/request-limits.js';
import { requestRefusalPlan } from '../../src/respond/request-refusals.js';
import { cut, MAX, payload, prefix, reading, refusalOf } from './read-request-support.js';

describe('readRequestMessage: assembling the message', () => {
  test('a message in one chunk is handed on whole, and its budget reservation released', () => {
    const r = reading();
    r.send(frameMessage(Buffer.from('hello')));
    assert.equal(r.held(), 10, 'prefix and declared length held while the call is open');
    r.end();
    assert.deepEqual(r.out.messages, [Buffer.from('hello')]);
    assert.deepEqual(r.taken, [10]);
    assert.equal(r.held(), 0);
  });

  test('a message split into one-byte chunks is joined in order', () => {
    const r = reading();
    const body = Buffer.from('0123456789abcdefghij');
    const framed = frameMessage(body);
    r.send(...cut(framed, ...Array.from({ length: framed.length - 1 }, (_, i) => i + 1)));
    r.end();
    assert.deepEqual(r.out.messages, [body]);
    assert.deepEqual(r.taken, [5 + body.length], 'the length was read once, from the joined prefix');
  });

  test('a prefix spread over three chunks, the last also carrying the message, is read right', () => {
    const r = reading();
    const body = payload(40, 0x62);
    r.send(...cut(frameMessage(body), 2, 4, 30));
    r.end();
    assert.deepEqual(r.out.messages, [body]);
    assert.deepEqual(r.taken, [45]);
  });

  test('an empty message (length 0) is a message, not an error', () => {
    const r = reading();
    r.send(prefix(0, 0));
    r.end();
    assert.equal(r.out.refused.length, 0);
    assert.deepEqual(r.out.messages, [Buffer.alloc(0)]);
  });

  test('a message of exactly the limit is accepted', () => {
    const r = reading();
    r.send(...cut(frameMessage(payload(MAX)), 3, 33));
    r.end();
    assert.equal(r.out.messages[0]?.length, MAX);
  });

  test('a gzip-compressed message with grpc-encoding gzip is decompressed', () => {
    const r = reading({ encoding: 'gzip' });
    const framed = frameMessage(gzipSync(Buffer.from('zipped request')));
    framed[0] = 1;
    r.send(...cut(framed, 1, 6));
    r.end();
    assert.deepEqual(r.out.messages, [Buffer.from('zipped request')]);
  });
});

describe('readRequestMessage: refusals', () => {
  test('a declared length over the limit is refused on the prefix, before the message arrives', () => {
    const r = reading();
    r.send(prefix(0, MAX + 1));
    assert.deepEqual(refusalOf(r.out), { refusal: 'request_too_large', code: GrpcCode.RESOURCE_EXHAUSTED, message: `request message larger than ${MAX} bytes`, stopUpload: true });
    assert.deepEqual(r.taken, [], 'nothing reserved for it');
    r.send(payload(MAX + 1));
    r.end();
    assert.equal(r.out.refused.length, 1, 'what follows is dropped');
    assert.equal(requestRefusalPlan('request_too_large').httpStatus, 413);
  });

  test('an oversized length whose prefix is split over chunks is refused on the chunk that completes it', () => {
    const r = reading();
    const [a, b] = cut(prefix(0, 0xffffffff), 3);
    r.send(a!);
    assert.equal(r.out.refused.length, 0, 'not yet known');
    r.send(b!);
    assert.equal(refusalOf(r.out).refusal, 'request_too_large');
  });

  test('readSingleMessage, the whole body at the end, checks the declared length itself too', () => {
    // readRequestMessage refuses on the prefix first; this is the check behind it
    const body = Buffer.concat([prefix(0, MAX + 1), payload(MAX + 1)]);
    assert.throws(() => readSingleMessage(body, undefined, MAX), (e) => e instanceof CallError && e.refusal === 'request_too_large');
    assert.equal(readSingleMessage(frameMessage(payload(MAX)), undefined, MAX).length, MAX);
  });

  test('bytes after the message (a second message) are refused as they arrive', () => {
    const r = reading();
    const one = frameMessage(Buffer.from('one'));
    r.send(Buffer.concat([one, one.subarray(0, 2)]));
    assert.deepEqual(refusalOf(r.out), { refusal: 'malformed_request', code: GrpcCode.INTERNAL, message: 'more than one request message for a single-request method', stopUpload: true });
    assert.equal(r.held(), 0, 'its reservation given back');
  });

  test('one trailing byte in a later chunk is refused too', () => {
    const r = reading();
    r.send(frameMessage(Buffer.from('one')));
    r.send(Buffer.from([0]));
    assert.equal(refusalOf(r.out).refusal, 'malformed_request');
  });

  test('a compressed flag without grpc-encoding is the malformed-request denial (400 invalid_request)', () => {
    const r = reading();
    const framed = frameMessage(Buffer.from('not really compressed'));
    framed[0] = 1;
    r.send(framed);
    r.end();
    assert.deepEqual(refusalOf(r.out), { refusal: 'malformed_request', code: GrpcCode.INTERNAL, message: 'compressed message without a grpc-encoding', stopUpload: false });
    const plan = requestRefusalPlan('malformed_request');
    assert.equal(plan.httpStatus, 400);
    assert.equal(JSON.parse(plan.body).error, 'invalid_request');
  });

  test('an unknown encoding is UNIMPLEMENTED, an invalid flag malformed', () => {
    const br = reading({ encoding: 'br' });
    br.send(prefix(1, 1), Buffer.from([0]));
    br.end();
    assert.equal(refusalOf(br.out).code, GrpcCode.UNIMPLEMENTED);
    const flag = reading();
    flag.send(prefix(2, 1), Buffer.from([0]));
    flag.end();
    assert.deepEqual(refusalOf(flag.out).message, 'invalid message flag 2');
  });

  test('a gzip message that inflates past the limit is too large', () => {
    const r = reading({ encoding: 'gzip' });
    const framed = frameMessage(gzipSync(payload(MAX + 1)));
    framed[0] = 1;
    r.send(framed);
    r.end();
    assert.equal(refusalOf(r.out).refusal, 'request_too_large');
  });

  for (const [what, chunks, message] of [
    ['no DATA at all', [], 'no request message'],
    ['a prefix cut short', [Buffer.from([0, 0, 0])], 'truncated message prefix'],
    ['a message cut short', [prefix(0, 10), payload(9)], 'truncated request message'],
  ] as const) {
    test(`${what} at the end of the stream is malformed`, () => {
      const r = reading();
      r.send(...chunks);
      r.end();
      assert.deepEqual(refusalOf(r.out), { refusal: 'malformed_request', code: GrpcCode.INTERNAL, message, stopUpload: false });
      assert.equal(r.held(), 0);
    });
  }
});

describe('readRequestMessage: the connection budget and the timers', () => {
  test('a declared length the connection cannot hold now is connection_busy; a finished call frees its share', () => {
    const budget = new ConnectionBudget(100);
    const a = reading({ budget, budgetBytes: 100 });
    a.send(prefix(0, 50));
    assert.equal(a.held(), 55);
    const b = reading({ budget, budgetBytes: 100 });
    b.send(prefix(0, 50));
    assert.deepEqual(refusalOf(b.out), { refusal: 'connection_busy', code: GrpcCode.RESOURCE_EXHAUSTED, message: 'too many request bytes buffered on this connection', stopUpload: true });
    a.send(payload(50));
    a.end();
    assert.equal(a.out.messages[0]?.length, 50);
    const c = reading({ budget, budgetBytes: 100 });
    c.send(frameMessage(payload(50)));
    c.end();
    assert.equal(c.out.messages[0]?.length, 50, 'room again once the first call finished');
    assert.equal(c.held(), 0);
  });

  test('a refused stream is reset with NO_ERROR once its answer is out (RFC 9113 §8.1)', () => {
    const r = reading();
    r.send(prefix(0, MAX + 1));
    assert.equal(r.stream.resetWith, undefined, 'not before the linger');
    r.lingering.fire();
    assert.equal(r.stream.resetWith, 0, 'NGHTTP2_NO_ERROR');
  });

  test('no message by the deadline times out once, releasing what it held', () => {
    const r = reading();
    r.send(prefix(0, 20), payload(5));
    r.deadlines.fire();
    assert.equal(r.out.timedOut, 1);
    assert.equal(r.held(), 0);
    r.send(payload(15));
    r.end();
    assert.deepEqual(r.out, { messages: [], refused: [], timedOut: 1 }, 'nothing after the deadline');
  });

  test('a stream the client resets before the end releases its reservation', () => {
    const r = reading();
    r.send(prefix(0, 30));
    assert.equal(r.held(), 35);
    r.stream.emit('close');
    assert.equal(r.held(), 0);
    assert.deepEqual(r.out, { messages: [], refused: [], timedOut: 0 });
  });
});
