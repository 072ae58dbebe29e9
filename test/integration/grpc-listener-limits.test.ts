/**
 * The listener's bounds (docs/security.md "The gRPC listener") on both gRPC servers, with
 * small limits so each is hit in milliseconds: the advertised stream limit, the request
 * message deadline, and (own transport only) the per-connection budget. A limit is a
 * denial CheckResponse, never a gRPC error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { HealthState } from '../../src/grpc/health.js';
import { CHECK_PATH, startGrpcServer, type RunningGrpcServer } from '../../src/grpc/server.js';
import { frameMessage } from '../../src/grpc/transport/message-frame.js';
import type { StreamRefusal } from '../../src/respond/request-refusals.js';
import { buildCheckRequest, loadUpstreamProtos, toOutcome } from '../helpers/envoy-client.js';
import { eventually, GRPC_SERVERS } from '../helpers/claimcheck-process.js';

const responseMsg = loadUpstreamProtos()['envoy.service.auth.v3.CheckResponse'] as any;
const checkMsg = loadUpstreamProtos()['envoy.service.auth.v3.CheckRequest'] as any;
const headers = { ':method': 'POST', ':path': CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' };

interface Answer {
  status?: string;
  httpStatus?: number;
  rstCode?: number;
}

/**
 * Opens a Check stream, writes `body` and ends it only if asked; resolves when the stream
 * closes. A stream the server answered but left open (grpc-js does) is closed by the client.
 */
function stream(session: http2.ClientHttp2Session, body: Buffer, end: boolean): Promise<Answer> {
  return new Promise((resolve) => {
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    const out: Answer = {};
    req.on('trailers', (h) => (out.status = String(h['grpc-status'])));
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) out.status = String(h['grpc-status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      if (!req.closed) req.close();
    });
    req.on('close', () => {
      const data = Buffer.concat(chunks);
      if (data.length > 5) out.httpStatus = toOutcome(responseMsg.deserialize(data.subarray(5))).httpStatus;
      out.rstCode = req.rstCode;
      resolve(out);
    });
    if (body.length > 0) req.write(body);
    if (end) req.end();
  });
}

for (const kind of GRPC_SERVERS) describe(`gRPC listener limits: ${kind}`, () => {
  let server: RunningGrpcServer;
  const refused: StreamRefusal[] = [];

  before(async () => {
    server = await startGrpcServer({
      addr: '127.0.0.1:0',
      listener: { server: kind, maxConcurrentStreams: 7, maxConnectionBufferedBytes: 1024, requestMessageTimeoutMs: 300 },
      health: new HealthState(true),
      check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }),
      onRefused: (r) => refused.push(r),
    });
  });
  after(() => server.drain(2000));

  test('advertises SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const session = http2.connect(`http://${server.address}`);
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      assert.equal(session.remoteSettings.maxConcurrentStreams, 7);
    } finally {
      session.close();
    }
  });

  test('a stream without its complete message at the deadline is reset (grpc-js: DEADLINE_EXCEEDED) and counted', async () => {
    const session = http2.connect(`http://${server.address}`);
    try {
      const before = refused.filter((r) => r === 'request_timeout').length;
      const started = Date.now();
      const half = frameMessage(checkMsg.serialize(buildCheckRequest({ path: '/slow' }))).subarray(0, 8);
      const [headersOnly, partial] = await Promise.all([stream(session, Buffer.alloc(0), false), stream(session, half, false)]);
      for (const a of [headersOnly, partial]) {
        if (kind === 'claimcheck') assert.deepEqual(a, { rstCode: http2.constants.NGHTTP2_CANCEL });
        else assert.equal(a.status, '4', `DEADLINE_EXCEEDED: ${JSON.stringify(a)}`);
      }
      assert.ok(Date.now() - started >= 250, 'not before the deadline');
      assert.equal(refused.filter((r) => r === 'request_timeout').length, before + 2);
    } finally {
      session.close();
    }
  });

  if (kind === 'claimcheck') {
    test('a message that would take the connection past its budget gets a 503 denial at once; the others are served', async () => {
      const session = http2.connect(`http://${server.address}`);
      try {
        // each declares 600 bytes: two do not fit in 1,024
        const prefix = Buffer.from([0, 0, 0, 0x02, 0x58]);
        const first = stream(session, prefix, false);
        await eventually(() => true);
        const second = await stream(session, prefix, false);
        assert.equal(second.status, '0');
        assert.equal(second.httpStatus, 503);
        assert.ok(refused.includes('connection_busy'));
        // the first one still holds its place until its own deadline
        assert.deepEqual(await first, { rstCode: http2.constants.NGHTTP2_CANCEL });
        const ok = await stream(session, frameMessage(checkMsg.serialize(buildCheckRequest({ path: '/after' }))), true);
        assert.equal(ok.status, '0');
        assert.equal(ok.httpStatus, undefined, 'allowed');
      } finally {
        session.close();
      }
    });
  }
});
