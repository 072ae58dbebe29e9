/**
 * Both gRPC servers (claimcheck's transport, src/grpc/transport/, and grpc-js's Server) against
 * real clients over real sockets: grpc-js as Envoy's stand-in, and node:http2 for what a
 * well-behaved client never sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { HealthState } from '../../src/grpc/health.js';
import { CHECK_PATH, parseHostPort, SERVER_OPTIONS, startGrpcServer, type RunningGrpcServer } from '../../src/grpc/server.js';
import { encodeGrpcMessage } from '../../src/grpc/transport/grpc-message.js';
import { GRPC_SERVERS } from '../helpers/claimcheck-process.js';
import { Http2GrpcServer, type GrpcMethod } from '../../src/grpc/transport/http2-grpc-server.js';
import { frameMessage } from '../../src/grpc/transport/message-frame.js';
import type { AuthRequest } from '../../src/request.js';
import type { ResponsePlan } from '../../src/respond/plan.js';
import { buildCheckRequest, createEnvoyClient, loadUpstreamProtos, toOutcome } from '../helpers/envoy-client.js';

const checkMsg = loadUpstreamProtos()['envoy.service.auth.v3.CheckRequest'] as any;
const responseMsg = loadUpstreamProtos()['envoy.service.auth.v3.CheckResponse'] as any;
const encodeCheck = (path: string): Buffer => checkMsg.serialize(buildCheckRequest({ path }));

const allowPlan = (req: AuthRequest): ResponsePlan => ({ kind: 'ok', headersToSet: [{ name: 'x-path', value: req.path }], headersToRemove: [] });

/** Raw HTTP/2 exchange: what the server answered, headers and trailers merged. */
async function rawCall(address: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<{ headers: Record<string, unknown>; data: Buffer }> {
  const session = http2.connect(`http://${address}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ':method': 'POST', te: 'trailers', ...headers });
      const seen: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => Object.assign(seen, h));
      req.on('trailers', (h) => Object.assign(seen, h));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ headers: seen, data: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    session.close();
  }
}

const grpcHeaders = (path = CHECK_PATH, extra: http2.OutgoingHttpHeaders = {}) => ({ ':path': path, 'content-type': 'application/grpc', ...extra });

/** The denial a Check got, read from a raw exchange: the message, with grpc-status 0 in the trailers. */
function denialOf(res: { headers: Record<string, unknown>; data: Buffer }): { httpStatus?: number; error?: string; cacheControl?: string } {
  assert.equal(res.headers['grpc-status'], '0', `a CheckResponse, not a gRPC error: ${JSON.stringify(res.headers)}`);
  const out = toOutcome(responseMsg.deserialize(res.data.subarray(5)));
  assert.notEqual(out.code, 0, 'a denial');
  return { httpStatus: out.httpStatus, error: JSON.parse(out.body ?? '{}').error, cacheControl: out.headers['cache-control'] };
}

for (const kind of GRPC_SERVERS) describe(`gRPC server: ${kind}`, () => {
  let server: RunningGrpcServer;
  let release: (() => void) | undefined;
  const errors: unknown[] = [];
  const ownTransport = kind === 'claimcheck';

  before(async () => {
    server = await startGrpcServer({
      addr: '127.0.0.1:0',
      listener: { server: kind },
      health: new HealthState(true),
      onInternalError: (e) => errors.push(e),
      check: (req) => {
        if (req.path === '/slow') return new Promise((resolve) => (release = () => resolve(allowPlan(req))));
        return allowPlan(req);
      },
    });
  });
  // the last step of every run below; a session that never reported its close once held it for good
  after(async () => {
    const started = Date.now();
    await server.drain(2000);
    assert.ok(Date.now() - started < 3000, `drain took ${Date.now() - started} ms, past its 2000 ms deadline`);
  });

  test('an unknown method gets UNIMPLEMENTED', async () => {
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest('/envoy.service.auth.v2.Authorization/Check', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve(e)),
    );
    client.close();
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    assert.match(err!.details, /unknown method|does not implement/);
  });

  test('a refused call with a body larger than the flow-control window still completes', { timeout: 10_000 }, async () => {
    const body = frameMessage(Buffer.alloc(1024 * 1024, 0x42));
    const res = await rawCall(server.address, grpcHeaders('/unknown.Service/Method'), body);
    assert.equal(res.headers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
    const notGrpc = await rawCall(server.address, { ':path': CHECK_PATH, 'content-type': 'text/plain' }, body);
    assert.equal(notGrpc.headers[':status'], 415);
  });

  test('a request that is not gRPC gets HTTP 415', async () => {
    const res = await rawCall(server.address, { ':path': CHECK_PATH, 'content-type': 'application/json' }, Buffer.from('{}'));
    assert.equal(res.headers[':status'], 415);
    assert.equal(res.headers['grpc-status'], undefined);
  });

  // claimcheck's transport only: grpc-js answers such a request at once
  if (ownTransport) test('a request that is not gRPC is answered once it has ended, not while it is still arriving', async () => {
    const session = http2.connect(`http://${server.address}`);
    const req = session.request({ ':method': 'POST', ':path': CHECK_PATH, 'content-type': 'text/plain' });
    let status: unknown;
    req.on('response', (h) => (status = h[':status']));
    req.write('still sending');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(status, undefined, 'no answer before the request ended');
    const ended = new Promise((r) => req.on('close', r));
    req.on('data', () => undefined);
    req.end('done');
    await ended;
    session.close();
    assert.equal(status, 415);
  });

  test('a gzip-compressed request is decompressed and answered', async () => {
    const client = createEnvoyClientWith(server.address, { 'grpc.default_compression_algorithm': 2 });
    const res = await new Promise<any>((resolve, reject) =>
      client.Check(buildCheckRequest({ path: '/zipped' }), (e: Error | null, r: any) => (e ? reject(e) : resolve(r))),
    );
    client.close();
    const out = toOutcome(res);
    assert.equal(out.code, 0);
    assert.equal(out.headers['x-path'], '/zipped');
  });

  test('raw gzip and deflate bodies are accepted; an unknown encoding is a 400 denial (grpc-js: UNIMPLEMENTED)', async () => {
    const zipped = gzipSync(encodeCheck('/raw-gzip'));
    const framed = frameMessage(zipped);
    framed[0] = 1;
    const ok = await rawCall(server.address, grpcHeaders(CHECK_PATH, { 'grpc-encoding': 'gzip' }), framed);
    assert.equal(ok.headers['grpc-status'], '0');
    assert.equal(toOutcome(responseMsg.deserialize(ok.data.subarray(5))).headers['x-path'], '/raw-gzip');
    const unknown = await rawCall(server.address, grpcHeaders(CHECK_PATH, { 'grpc-encoding': 'br' }), framed);
    if (ownTransport) {
      assert.deepEqual(denialOf(unknown), { httpStatus: 400, error: 'invalid_request', cacheControl: 'no-store' });
      assert.match(String(unknown.headers['grpc-accept-encoding']), /gzip/);
    } else assert.equal(unknown.headers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
  });

  test('a message over 4 MiB is a 413 denial, sent plain or as a gzip bomb (grpc-js: RESOURCE_EXHAUSTED)', { timeout: 20_000 }, async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x41);
    const bomb = frameMessage(gzipSync(big));
    bomb[0] = 1;
    assert.ok(bomb.length < 64 * 1024, 'the bomb itself is small');
    for (const res of [await rawCall(server.address, grpcHeaders(), frameMessage(big)), await rawCall(server.address, grpcHeaders(CHECK_PATH, { 'grpc-encoding': 'gzip' }), bomb)]) {
      if (ownTransport) assert.deepEqual(denialOf(res), { httpStatus: 413, error: 'invalid_request', cacheControl: 'no-store' });
      else assert.equal(res.headers['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED));
    }
  });

  // a bound: this once hung under the full suite's load (the client never called back)
  test('grpc-js sending a message over 4 MiB reads a 413 denial, and the connection keeps serving', { timeout: 20_000 }, async () => {
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const call = (body: Buffer) =>
      new Promise<{ err: grpc.ServiceError | null; value?: Buffer }>((resolve) =>
        client.makeUnaryRequest(CHECK_PATH, (b: Buffer) => b, (b: Buffer) => b, body, (err, value) => resolve({ err, value: value as Buffer | undefined })),
      );
    const big = await call(Buffer.alloc(6 * 1024 * 1024, 0x41));
    if (ownTransport) {
      assert.equal(big.err, null, 'a CheckResponse, not a gRPC error');
      assert.equal(toOutcome(responseMsg.deserialize(big.value)).httpStatus, 413);
    } else assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    const ok = await call(encodeCheck('/after-big'));
    assert.equal(ok.err, null);
    assert.equal(toOutcome(responseMsg.deserialize(ok.value)).headers['x-path'], '/after-big');
    client.close();
  });

  test('no message, a truncated one, two messages or a compressed flag without an encoding are a 400 denial (grpc-js: an error status)', async () => {
    const one = frameMessage(encodeCheck('/x'));
    const flagged = Buffer.from(one);
    flagged[0] = 1;
    for (const [what, body] of [
      ['no message', Buffer.alloc(0)],
      ['truncated', one.subarray(0, one.length - 1)],
      ['two messages', Buffer.concat([one, one])],
      ['compressed flag without encoding', flagged],
    ] as const) {
      const res = await rawCall(server.address, grpcHeaders(), body);
      if (ownTransport) assert.deepEqual(denialOf(res), { httpStatus: 400, error: 'invalid_request', cacheControl: 'no-store' }, what);
      // grpc-js ignores the compressed flag when no grpc-encoding is set, and reads the message as it is
      else if (what !== 'compressed flag without encoding') assert.notEqual(res.headers['grpc-status'], '0', what);
    }
  });

  test('a message split over many DATA frames is reassembled', async () => {
    const framed = frameMessage(encodeCheck('/split'));
    const session = http2.connect(`http://${server.address}`);
    const res = await new Promise<{ status: unknown; data: Buffer }>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ...grpcHeaders() });
      const chunks: Buffer[] = [];
      let status: unknown;
      req.on('trailers', (h) => (status = h['grpc-status']));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, data: Buffer.concat(chunks) }));
      req.on('error', reject);
      for (let i = 0; i < framed.length; i += 7) req.write(framed.subarray(i, i + 7));
      req.end();
    });
    session.close();
    assert.equal(res.status, '0');
    assert.equal(toOutcome(responseMsg.deserialize(res.data.subarray(5))).headers['x-path'], '/split');
  });

  test('an answer for a call the client already cancelled is dropped, and the server keeps serving', async () => {
    const client = createEnvoyClientWith(server.address, {});
    const call = client.Check(buildCheckRequest({ path: '/slow' }), (e: grpc.ServiceError | null) => {
      assert.equal(e?.code, grpc.status.CANCELLED);
    });
    while (!release) await new Promise((r) => setTimeout(r, 5));
    call.cancel();
    await new Promise((r) => setTimeout(r, 50));
    release();
    release = undefined;
    await new Promise((r) => setTimeout(r, 50));
    client.close();
    const envoy = createEnvoyClient(server.address);
    assert.equal((await envoy.check({ path: '/after' })).code, 0);
    envoy.close();
    assert.deepEqual(errors, []);
  });

  test('500 concurrent calls on one connection are all answered with their own request', async () => {
    const envoy = createEnvoyClient(server.address);
    const outs = await Promise.all(Array.from({ length: 500 }, (_, i) => envoy.check({ path: `/n/${i}` })));
    envoy.close();
    outs.forEach((o, i) => assert.equal(o.headers['x-path'], `/n/${i}`));
  });

});

describe('gRPC transport helpers', () => {
  test('grpc-message is percent-encoded UTF-8', () => {
    assert.equal(encodeGrpcMessage('plain text'), 'plain text');
    assert.equal(encodeGrpcMessage('100% ok'), '100%25 ok');
    assert.equal(encodeGrpcMessage('naïve\n'), 'na%C3%AFve%0A');
  });

  test('listen addresses: HOST:PORT, [IPv6]:PORT and :PORT', () => {
    assert.deepEqual(parseHostPort('0.0.0.0:9191'), { host: '0.0.0.0', port: 9191 });
    assert.deepEqual(parseHostPort('[::1]:9191'), { host: '::1', port: 9191 });
    assert.deepEqual(parseHostPort(':9191'), { host: '::', port: 9191 });
    assert.throws(() => parseHostPort('9191'), /HOST:PORT/);
    assert.throws(() => parseHostPort('host:99999'), /HOST:PORT/);
  });
});

describe('gRPC transport handler errors', () => {
  const options = { ...SERVER_OPTIONS, maxReceiveBytes: 1024, keepaliveTimeMs: 0, keepaliveTimeoutMs: 1000, maxConnectionAgeMs: 0, maxConnectionAgeGraceMs: 1000 };
  test('a handler that throws gets INTERNAL and is reported', async () => {
    const reported: unknown[] = [];
    const server = new Http2GrpcServer(new Map([['/t.T/Boom', { kind: 'unary', handle: () => { throw new Error('boom'); } } as GrpcMethod]]), { ...options, onHandlerError: (e) => reported.push(e) });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const res = await rawCall(`127.0.0.1:${port}`, grpcHeaders('/t.T/Boom'), frameMessage(Buffer.from('x')));
    assert.equal(res.headers['grpc-status'], String(grpc.status.INTERNAL));
    assert.equal(reported.length, 1);
    server.forceShutdown();
  });
});

function createEnvoyClientWith(address: string, options: grpc.ChannelOptions): any {
  const pkg = grpc.loadPackageDefinition(loadUpstreamProtos()) as any;
  return new pkg.envoy.service.auth.v3.Authorization(address, grpc.credentials.createInsecure(), options);
}
