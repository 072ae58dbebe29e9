/** `claimcheck healthcheck`: what the helm test hook and exec probes run. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { BIN, REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'healthcheck', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('claimcheck healthcheck', () => {
  let server: ClaimcheckProcess;
  before(async () => {
    server = await startClaimcheck({ configDir: `${REPO}examples` });
  });
  after(async () => {
    await server?.stop();
  });

  test('exits 0 and prints SERVING for a ready server, for the whole server and the Authorization service', async () => {
    for (const service of [[], ['--service', 'envoy.service.auth.v3.Authorization']]) {
      const r = await run(['--addr', server.grpcAddress, ...service]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, `${server.grpcAddress}: SERVING\n`);
    }
  });

  test('exits 1 with NOT_FOUND for a service the server does not know', async () => {
    const r = await run(['--addr', server.grpcAddress, '--service', 'no.such.Service']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /: NOT_FOUND \(/);
  });

  test('exits 1 with UNAVAILABLE when nothing listens, within the timeout', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const started = Date.now();
    const r = await run(['--addr', `127.0.0.1:${port}`, '--timeout', '2s']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /: (UNAVAILABLE|DEADLINE_EXCEEDED) \(/);
    assert.ok(Date.now() - started < 10_000);
  });

  test('exits 1 with NOT_SERVING while the server drains after SIGTERM', async () => {
    const draining = await startClaimcheck({ configDir: `${REPO}examples`, args: ['--drain-timeout', '5s'] });
    // an open Watch keeps the drain going long enough to ask
    const { watchHealth } = await import('../helpers/envoy-client.js');
    const watch = watchHealth(draining.grpcAddress);
    await watch.waitFor('SERVING');
    draining.child.kill('SIGTERM');
    await watch.waitFor('NOT_SERVING');
    const r = await run(['--addr', draining.grpcAddress, '--timeout', '2s']);
    watch.close();
    await draining.stop();
    assert.equal(r.code, 1);
    assert.match(r.stdout, /: (NOT_SERVING|UNAVAILABLE)/);
  });

  test('rejects a malformed address or timeout with one line and exit 2', async () => {
    for (const args of [['--addr', 'no-port'], ['--timeout', 'soon'], ['--bogus']]) {
      const r = await run(args);
      assert.equal(r.code, 2, JSON.stringify(args));
      assert.match(r.stderr, /^claimcheck: .+\n$/);
    }
  });
});
