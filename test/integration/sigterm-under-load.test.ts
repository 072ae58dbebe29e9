/**
 * SIGTERM during load: every Check started before the signal gets its answer. 200 calls with the
 * same opaque token wait on its one introspection (single flight), which the endpoint answers
 * 1 s after it arrives (--key-fetch-wait 3s); the process is told to stop 300 ms after that
 * arrival, when all 200 are in. All 200 must come back allowed, and the process exit 0. Once
 * with one process, once with two workers (the primary forwards the signal).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { AUDIENCE, resourceDoc } from '../helpers/fixture-config.js';
import { startFixtureServer } from '../helpers/fixture-server.js';
import { testGrpcServer } from '../helpers/claimcheck-process.js';

const ISS = 'https://opaque.test.invalid';
const HOST = 'ledger.example.com';
const IN_FLIGHT = 200;

describe(`SIGTERM with ${IN_FLIGHT} Checks in flight (--grpc-server ${testGrpcServer()})`, () => {
  for (const workers of [1, 2]) {
    test(`--workers ${workers}: every call started before SIGTERM is answered, none lost`, { timeout: 60_000 }, async () => {
      let arrived = () => {};
      const introspecting = new Promise<void>((resolve) => (arrived = resolve));
      const endpoint = http.createServer((req, res) => {
        req.resume().on('end', () => {
          arrived();
          setTimeout(() => res.end(JSON.stringify({ active: true, iss: ISS, aud: AUDIENCE, sub: 'ana', exp: Math.floor(Date.now() / 1000) + 300 })), 1000);
        });
      });
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
      const server = await startFixtureServer(async (f) => {
        await f.writeRaw('client-secret', 's');
        await f.write('ledger.yaml', [
          resourceDoc('TrustedIssuer', 'opaque', { issuer: ISS, audiences: [AUDIENCE], introspection: { endpoint: url, clientId: 'c', clientSecretRef: { path: './client-secret' }, cacheTTL: '0s', allowInsecureHttp: true } }),
          resourceDoc('AuthPolicy', 'ledger', { hosts: [HOST], issuers: ['opaque'], rules: [{ name: 'all', match: { paths: ['/**'] } }] }),
        ]);
      }, ['--workers', String(workers), '--drain-timeout', '10s', '--key-fetch-wait', '3s']);
      try {
        const token = randomBytes(24).toString('base64url');
        const calls = Array.from({ length: IN_FLIGHT }, () => server.client.check({ host: HOST, path: '/entries', headers: { authorization: `Bearer ${token}` } }).then((r) => r, (err: Error) => err));
        // the first call reached the endpoint; the rest, sent in the same burst, are in by 300 ms
        await introspecting;
        await new Promise((r) => setTimeout(r, 300));
        const exit = server.cc.stop('SIGTERM');
        const results = await Promise.all(calls);
        const errors = results.filter((r) => r instanceof Error);
        assert.deepEqual(errors.map((e) => (e as Error).message).slice(0, 3), [], `${errors.length} of ${IN_FLIGHT} calls failed`);
        const allowed = results.filter((r) => !(r instanceof Error) && r.code === 0).length;
        assert.equal(allowed, IN_FLIGHT, 'every call was answered, and allowed');
        assert.equal(await exit, 0);
      } finally {
        await server.close();
        endpoint.close();
      }
    });
  }
});
