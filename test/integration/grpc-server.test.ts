import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { HealthState } from '../../src/grpc/health.js';
import { startGrpcServer, type RunningGrpcServer } from '../../src/grpc/server.js';
import type { AuthRequest } from '../../src/request.js';
import type { ResponsePlan } from '../../src/respond/plan.js';
import { createEnvoyClient, healthCheck, loadUpstreamProtos, toOutcome, watchHealth, type EnvoyClient } from '../helpers/envoy-client.js';
import { GRPC_SERVERS } from '../helpers/claimcheck-process.js';

/** Allows /public, denies everything else with 401, throws on /boom; echoes what it saw. */
function trivialCheck(seen: AuthRequest[]) {
  return async (req: AuthRequest): Promise<ResponsePlan> => {
    seen.push(req);
    if (req.path.startsWith('/boom')) throw new Error('check exploded');
    if (req.path.startsWith('/public')) {
      return {
        kind: 'ok',
        headersToSet: [{ name: 'x-user-id', value: req.headers.get('x-user')?.join('|') ?? 'anon' }],
        headersToRemove: ['x-claimcheck-spoof'],
        dynamicMetadata: { policy: 'ns/p', host: req.host },
      };
    }
    return {
      kind: 'denied',
      grpcCode: 16,
      httpStatus: 401,
      headers: [{ name: 'www-authenticate', value: `Bearer realm="${req.host}"` }],
      body: JSON.stringify({ error: 'unauthorized', request_id: req.requestId }),
    };
  };
}

for (const kind of GRPC_SERVERS) for (const transport of ['tcp', 'unix'] as const) {
  describe(`gRPC server (${kind}) over ${transport}`, () => {
    let server: RunningGrpcServer;
    let client: EnvoyClient;
    let dir: string;
    const seen: AuthRequest[] = [];
    const internalErrors: unknown[] = [];
    const health = new HealthState();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'claimcheck-grpc-'));
      const addr = transport === 'tcp' ? '127.0.0.1:0' : `unix:${join(dir, 'cc.sock')}`;
      server = await startGrpcServer({ addr, listener: { server: kind }, check: trivialCheck(seen), health, onInternalError: (e) => internalErrors.push(e) });
      client = createEnvoyClient(server.address);
    });

    after(async () => {
      client?.close();
      await server?.drain(2000);
      await rm(dir, { recursive: true, force: true });
    });

    test('reports its real address', () => {
      if (transport === 'tcp') {
        assert.ok(server.port && server.port > 0);
        assert.equal(server.address, `127.0.0.1:${server.port}`);
      } else {
        assert.equal(server.port, undefined);
        assert.match(server.address, /^unix:.*cc\.sock$/);
      }
    });

    test('an allowed request round-trips as status 0 with overwrite headers, removals and metadata', async () => {
      const out = await client.check({ host: 'api.example.com', path: '/public/x', headers: { 'x-user': 'u1' }, requestId: 'r-ok' });
      assert.equal(out.code, 0);
      assert.ok(out.raw.status, 'status is set explicitly');
      assert.equal(out.httpStatus, undefined);
      assert.deepEqual(out.headers, { 'x-user-id': 'u1' });
      assert.deepEqual(out.rawHeaders[0].append, { value: false });
      assert.equal(out.rawHeaders[0].append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
      assert.deepEqual(out.headersToRemove, ['x-claimcheck-spoof']);
      assert.deepEqual(out.dynamicMetadata, { policy: 'ns/p', host: 'api.example.com' });
      assert.equal(seen.at(-1)?.requestId, 'r-ok');
    });

    test('a denied request round-trips as a CheckResponse with code 16 and HTTP 401', async () => {
      const out = await client.check({ host: 'api.example.com', path: '/private', requestId: 'r-deny' });
      assert.equal(out.code, 16);
      assert.equal(out.httpStatus, 401);
      assert.equal(out.headers['www-authenticate'], 'Bearer realm="api.example.com"');
      assert.deepEqual(JSON.parse(out.body ?? ''), { error: 'unauthorized', request_id: 'r-deny' });
    });

    test('header_map requests keep one value per occurrence', async () => {
      const out = await client.check({ path: '/public', headerMap: [['x-user', 'a'], ['X-User', 'b']] });
      assert.equal(out.headers['x-user-id'], 'a|b');
    });

    test('a check function that throws yields code 14 and HTTP 503, not an RPC error', async () => {
      const before = internalErrors.length;
      const out = await client.check({ path: '/boom', requestId: 'r-boom' });
      assert.equal(out.code, 14);
      assert.equal(out.httpStatus, 503);
      assert.equal(out.headers['content-type'], 'application/json');
      assert.equal(out.headers['cache-control'], 'no-store');
      assert.deepEqual(JSON.parse(out.body ?? ''), {
        error: 'temporarily_unavailable',
        error_description: 'internal error',
        request_id: 'r-boom',
      });
      assert.equal(internalErrors.length, before + 1);
    });

    test('health Check and Watch follow setServing', async () => {
      health.setServing(false);
      assert.equal(await healthCheck(server.address), 'NOT_SERVING');
      const watch = watchHealth(server.address, 'envoy.service.auth.v3.Authorization');
      try {
        await watch.waitFor('NOT_SERVING');
        health.setServing(true);
        await watch.waitFor('SERVING');
        assert.equal(await healthCheck(server.address), 'SERVING');
        assert.equal(await healthCheck(server.address, 'envoy.service.auth.v3.Authorization'), 'SERVING');
        health.setServing(false);
        await watch.waitFor('NOT_SERVING');
        assert.deepEqual(watch.statuses, ['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
      } finally {
        watch.close();
      }
    });

    test('health Check answers NOT_FOUND and Watch SERVICE_UNKNOWN for an unknown service', async () => {
      await assert.rejects(healthCheck(server.address, 'no.such.Service'), (e: any) => e.code === 5);
      const watch = watchHealth(server.address, 'no.such.Service');
      try {
        await watch.waitFor('SERVICE_UNKNOWN');
      } finally {
        watch.close();
      }
    });
  });
}

describe('gRPC server lifecycle', () => {
  for (const kind of GRPC_SERVERS) test(`${kind}: a request that is not a CheckRequest gets a 400 denial, not an RPC error`, async () => {
    const refused: string[] = [];
    const server = await startGrpcServer({ addr: '127.0.0.1:0', listener: { server: kind }, check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }), health: new HealthState(), onRefused: (r) => refused.push(r) });
    const client = createEnvoyClient(server.address);
    try {
      // field 1 (attributes) declared as a message but sent as a varint: undecodable
      const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
      const res = await new Promise<Buffer>((resolve, reject) => {
        raw.makeUnaryRequest(
          '/envoy.service.auth.v3.Authorization/Check',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]),
          (err, value) => (err ? reject(err) : resolve(value as Buffer)),
        );
      });
      raw.close();
      const out = toOutcome((loadUpstreamProtos()['envoy.service.auth.v3.CheckResponse'] as any).deserialize(res));
      assert.equal(out.code, 3);
      assert.equal(out.httpStatus, 400);
      assert.equal(out.headers['cache-control'], 'no-store');
      assert.equal(JSON.parse(out.body ?? '{}').error, 'invalid_request');
      assert.deepEqual(refused, ['malformed_request']);
      const ok = await client.check({ path: '/' });
      assert.equal(ok.code, 0, 'the server keeps serving');
    } finally {
      client.close();
      await server.drain(2000);
    }
  });

  test('removes a stale unix socket file but refuses a live one or a regular file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'claimcheck-sock-'));
    try {
      const path = join(dir, 'stale.sock');
      // a process killed with SIGKILL leaves its socket file behind
      const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', () => reject(new Error('listener exited early')));
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      assert.ok((await stat(path)).isSocket());
      const server = await startGrpcServer({ addr: `unix:${path}`, check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }), health: new HealthState() });
      await assert.rejects(
        startGrpcServer({ addr: `unix:${path}`, check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }), health: new HealthState() }),
        /in use/,
      );
      await server.drain(2000);
      const file = join(dir, 'file.sock');
      await writeFile(file, 'not a socket');
      await assert.rejects(
        startGrpcServer({ addr: `unix:${file}`, check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }), health: new HealthState() }),
        /not a socket/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const kind of GRPC_SERVERS) test(`${kind}: drain ends health watches and resolves before its deadline when idle`, async () => {
    const health = new HealthState(true);
    const server = await startGrpcServer({ addr: '127.0.0.1:0', listener: { server: kind }, check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }), health });
    const watch = watchHealth(server.address);
    await watch.waitFor('SERVING');
    const started = Date.now();
    await server.drain(10_000);
    assert.ok(Date.now() - started < 5_000, 'drain did not wait for the deadline');
    await watch.ended;
    assert.equal(health.isServing(), false);
    watch.close();
  });
});
