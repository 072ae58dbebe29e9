/**
 * The gRPC listener under a connection that opens streams and never finishes them (what
 * Envoy never sends, but anyone who reaches the port can): 64 unfinished 4 MiB uploads and
 * 20,000 header-only streams on one connection, 20,000 more on a connection that ignores
 * SETTINGS_MAX_CONCURRENT_STREAMS. Peak RSS (VmHWM) must rise by less than 64 MiB, and every
 * Check on another connection keeps answering under 50 ms. Before the listener's limits the
 * uploads alone took RSS from 83 to 378 MB.
 *
 * The attacker runs at nice 19: on two cores its own CPU (it builds 256 MiB of uploads and
 * 40,000 streams) would be charged to the server, while a real attacker's CPU is elsewhere.
 * The server and the Checks keep normal priority, so what is measured is the server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createFixture, type Fixture } from '../helpers/fixture-config.js';
import { REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { peakRssMiB } from '../../bench/proc-stats.js';

const ATTACK_MS = 4000;
const LOWEST_PRIORITY = ['-n', '19'];

describe('abuse: the gRPC listener', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;
  let token: string;

  before(async () => {
    fx = await createFixture();
    // the limits under test are the own transport's (grpc-js has no per-connection byte budget)
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1', '--grpc-server', 'claimcheck'] });
    client = createEnvoyClient(cc.grpcAddress);
    token = await fx.sign({ scope: 'payments:read' });
  });
  after(async () => {
    client?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  const check = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await client.check({ host: 'payments.example.com', path: '/v1/x', headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.code, 0, JSON.stringify(r.body));
    return performance.now() - t0;
  };

  test('64 unfinished 4 MiB uploads and 40,000 header-only streams raise peak RSS by less than 64 MiB; every Check answers under 50 ms', { timeout: 60_000 }, async (t) => {
    for (let i = 0; i < 300; i++) await check();
    const rssBefore = peakRssMiB(cc.child.pid!);

    const flood = spawn('nice', [...LOWEST_PRIORITY, process.execPath, '--import', 'tsx', 'test/abuse/lib/grpc-flood.ts', cc.grpcAddress], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: flood.stdout! });
    const messages: Record<string, unknown>[] = [];
    const flooding = new Promise<void>((resolve, reject) => {
      lines.on('line', (l) => {
        messages.push(JSON.parse(l) as Record<string, unknown>);
        if (messages.at(-1)!.msg === 'flooding') resolve();
      });
      flood.once('exit', (code) => reject(new Error(`the flood exited with ${code} before it sent everything`)));
    });
    const latencies: number[] = [];
    let attacking = true;
    const checks = (async () => {
      while (attacking) latencies.push(await check());
    })();
    try {
      await flooding;
      const until = Date.now() + ATTACK_MS;
      while (Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    } finally {
      attacking = false;
      await checks;
      const exited = new Promise((r) => flood.once('exit', r));
      flood.kill('SIGTERM');
      await exited;
    }

    const grew = peakRssMiB(cc.child.pid!) - rssBefore;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
    const max = sorted.at(-1)!;
    t.diagnostic(`peak RSS +${grew.toFixed(1)} MiB; ${latencies.length} Checks during the attack, p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    const counts = messages.at(-1) as { uploadResponses: number; uploadResets: Record<string, number>; raw: { resets: Record<string, number>; closed: boolean } };
    t.diagnostic(JSON.stringify(counts));
    assert.ok(latencies.length > 50, `${latencies.length} Checks answered during the attack`);
    assert.ok(grew < 64, `peak RSS grew by ${grew.toFixed(1)} MiB`);
    assert.ok(max < 50, `the slowest Check during the attack took ${max.toFixed(1)} ms (p99 ${p99.toFixed(1)} ms)`);
    // how: the uploads past the connection's budget were answered (503), and the streams past
    // SETTINGS_MAX_CONCURRENT_STREAMS refused (REFUSED_STREAM, then node ends the connection)
    assert.ok(counts.uploadResponses >= 60, `${counts.uploadResponses} uploads answered`);
    assert.ok((counts.uploadResets['0'] ?? 0) >= 60, `answered uploads are reset (NO_ERROR, RFC 9113 §8.1) so they stop: ${JSON.stringify(counts.uploadResets)}`);
    assert.ok(counts.raw.closed || (counts.raw.resets['7'] ?? 0) > 0, JSON.stringify(counts.raw));
    // the listener still serves afterwards
    assert.ok((await check()) < 1000);
  });
});
