/**
 * Connection management of both gRPC servers (claimcheck's transport and grpc-js's Server):
 * keepalive, maximum connection age, graceful shutdown. The frames are read off the wire by a
 * relay (test/helpers/h2-frame-relay.ts): a client's own reconnecting would hide whether the
 * server ever sent GOAWAY.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GrpcJsServer } from '../../src/grpc/grpc-js-server.js';
import { SERVER_OPTIONS } from '../../src/grpc/server.js';
import { Http2GrpcServer, type GrpcMethod } from '../../src/grpc/transport/http2-grpc-server.js';
import { GRPC_SERVERS, type GrpcServerKind } from '../helpers/claimcheck-process.js';
import { FRAME_TYPE, startH2FrameRelay } from '../helpers/h2-frame-relay.js';

const options = { ...SERVER_OPTIONS, maxReceiveBytes: 1024, keepaliveTimeMs: 0, keepaliveTimeoutMs: 1000, maxConnectionAgeMs: 0, maxConnectionAgeGraceMs: 1000 };
type Options = typeof options;

const echo: GrpcMethod = { kind: 'unary', handle: (request) => ({ message: request }) };
const slowEcho: GrpcMethod = { kind: 'unary', handle: (request) => new Promise((r) => setTimeout(() => r({ message: request }), 300)) };

async function started(kind: GrpcServerKind, overrides: Partial<Options>, extra: [string, GrpcMethod][] = []) {
  const methods = new Map<string, GrpcMethod>([['/t.T/Echo', echo], ['/t.T/Slow', slowEcho], ...extra]);
  const opts = { ...options, ...overrides };
  const server = kind === 'grpc-js' ? new GrpcJsServer(methods, opts) : new Http2GrpcServer(methods, opts);
  const port = (await server.listen({ host: '127.0.0.1', port: 0 }))!;
  return { server, port, address: `127.0.0.1:${port}` };
}

function unary(client: grpc.Client, method: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(payload), (e, v) => (e ? reject(e) : resolve(String(v)))),
  );
}

for (const kind of GRPC_SERVERS) describe(`gRPC connection management: ${kind}`, () => {
  test('max connection age: GOAWAY arrives after the age and not before, the call in flight completes, the next call goes on a new connection', { timeout: 15_000 }, async () => {
    const ageMs = 400;
    let release: (() => void) | undefined;
    const held: GrpcMethod = { kind: 'unary', handle: (request) => new Promise((r) => (release = () => r({ message: request }))) };
    const { server, port } = await started(kind, { maxConnectionAgeMs: ageMs, maxConnectionAgeGraceMs: 5000 }, [['/t.T/Held', held]]);
    const relay = await startH2FrameRelay({ host: '127.0.0.1', port });
    const client = new grpc.Client(relay.address, grpc.credentials.createInsecure());
    try {
      const inFlight = unary(client, '/t.T/Held', 'before');
      inFlight.catch(() => {}); // awaited below; a failed assertion first must not leave it unhandled
      const goaway = await relay.waitFor((f) => f.type === FRAME_TYPE.GOAWAY, ageMs * 1.1 + 3000);
      assert.ok(goaway, 'the server sent a GOAWAY');
      assert.equal(goaway.connection, 0);
      // both servers jitter the age by ±10%; a few ms for the relay's own clock
      assert.ok(goaway.atMs >= ageMs * 0.9 - 20, `GOAWAY not before the age: after ${goaway.atMs} ms`);
      assert.ok(goaway.atMs <= ageMs * 1.1 + 1000, `GOAWAY soon after the age: after ${goaway.atMs} ms`);
      assert.equal(goaway.payload.readUInt32BE(4), http2.constants.NGHTTP2_NO_ERROR, 'GOAWAY with NO_ERROR');
      const lastStreamId = goaway.payload.readUInt32BE(0) & 0x7fffffff;

      assert.ok(release, 'the held call reached its handler');
      // answered well after the GOAWAY: the old connection lives on for the grace time
      await new Promise((r) => setTimeout(r, 200));
      release();
      assert.equal(await inFlight, 'before', 'the call in flight completes after the GOAWAY');
      const answeredAfter = relay.frames.filter((f) => f.connection === 0 && f.type === FRAME_TYPE.DATA && f.atMs >= goaway.atMs && f.streamId > 0);
      assert.ok(answeredAfter.length > 0, 'its answer came on the old connection, after the GOAWAY');
      assert.ok(answeredAfter.every((f) => f.streamId <= lastStreamId), 'on a stream the GOAWAY let finish');

      assert.equal(await unary(client, '/t.T/Echo', 'after'), 'after');
      assert.equal(relay.connectionCount(), 2, 'the client opened a second connection');
      assert.ok(relay.frames.some((f) => f.connection === 1 && f.type === FRAME_TYPE.DATA && f.streamId > 0), 'the next call was answered on it');
    } finally {
      client.close();
      server.forceShutdown();
      await relay.close();
    }
  });
});

describe('gRPC connection management: claimcheck transport only', () => {
  test('keepalive: the server pings an idle connection and drops one that never answers', async () => {
    const { server, address, port } = await started('claimcheck', { keepaliveTimeMs: 50, keepaliveTimeoutMs: 100 });
    const session = http2.connect(`http://${address}`);
    const pinged = await new Promise<boolean>((resolve) => {
      session.once('ping', () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    assert.ok(pinged, 'a PING arrived');
    session.close();
    // A peer that stops reading entirely (a vanished node) cannot ACK: the server closes the socket.
    const sock = connect(port, '127.0.0.1');
    // the HTTP/2 preface and an empty SETTINGS frame, then silence
    sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    const closedMs = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      sock.on('data', () => {});
      sock.on('close', () => resolve(Date.now() - t0));
      sock.on('error', () => {});
      setTimeout(() => resolve(-1), 3000);
    });
    sock.destroy();
    assert.ok(closedMs >= 0, 'the server closed a connection whose PINGs go unanswered');
    server.forceShutdown();
  });

  test('tryShutdown lets a call in flight finish, then calls back', async () => {
    const { server, address } = await started('claimcheck', {});
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const inFlight = unary(client, '/t.T/Slow', 'x');
    await new Promise((r) => setTimeout(r, 50));
    const shut = new Promise<void>((resolve) => server.tryShutdown(resolve));
    assert.equal(await inFlight, 'x');
    await shut;
    client.close();
  });
});
