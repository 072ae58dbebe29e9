import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createFixture, type Fixture } from '../helpers/fixture-config.js';
import { BIN, eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';

interface WorkerInfo {
  id: number;
  pid: number;
  ready: boolean;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('--workers 2 (node:cluster)', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  const host = 'payments.example.com';

  const readyz = async () => {
    const r = await cc.http('/readyz');
    return { status: r.status, workers: (JSON.parse(r.body) as { workers: WorkerInfo[] }).workers };
  };
  const checksTotal = async () => {
    const body = (await cc.http('/metrics')).body;
    let sum = 0;
    for (const m of body.matchAll(/^claimcheck_checks_total\{[^}]*\} (\d+)$/gm)) sum += Number(m[1]);
    return sum;
  };

  before(async () => {
    fx = await createFixture();
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '2', '--log-level', 'debug'] });
    await eventually(async () => (await readyz()).status === 200, 30_000);
  });
  after(async () => {
    await cc?.stop();
    await fx?.cleanup();
  });

  test('reports ready on /readyz only with every worker ready, listing them', async () => {
    const r = await readyz();
    assert.equal(r.status, 200);
    assert.equal(r.workers.length, 2);
    assert.ok(r.workers.every((w) => w.ready && alive(w.pid)));
    assert.notEqual(r.workers[0]!.pid, r.workers[1]!.pid);
  });

  test('lists each issuer\'s key state on /readyz as a single process does', async () => {
    const issuers = await eventually(async () => {
      const body = JSON.parse((await cc.http('/readyz')).body) as { issuers?: { issuer: string; ready: boolean; keyCount: number }[] };
      return body.issuers?.length ? body.issuers : undefined;
    }, 10_000);
    assert.deepEqual(issuers!.map((i) => [i.issuer, i.ready, i.keyCount]), [['default/corp-idp', true, 1]]);
  });

  test('serves Checks from both workers and /metrics sums their counters', async () => {
    const before = await checksTotal();
    const token = await fx.sign({ scope: 'payments:read' });
    let sent = 0;
    // Each client is its own HTTP/2 connection; cluster hands connections to workers round-robin.
    for (let c = 0; c < 4; c++) {
      const client = createEnvoyClient(cc.grpcAddress);
      try {
        for (let i = 0; i < 3; i++) {
          assert.equal((await client.check({ host, path: '/v1/accounts', headers: { authorization: `Bearer ${token}` } })).code, 0);
          assert.equal((await client.check({ host, path: '/v1/accounts', requestId: `w-${c}-${i}` })).httpStatus, 401);
          sent += 2;
        }
      } finally {
        client.close();
      }
    }
    const denials = cc.logs.filter((l) => l.msg === 'request denied' && String(l.requestId).startsWith('w-'));
    assert.equal(new Set(denials.map((l) => l.worker)).size, 2, 'both workers answered');
    assert.equal(await checksTotal(), before + sent);
    const body = (await cc.http('/metrics')).body;
    assert.match(body, /claimcheck_token_cache_lookups_total\{result="hit"\} [1-9]/);
  });

  test('restarts a worker that dies, and serves throughout', async () => {
    const [victim, survivor] = (await readyz()).workers;
    process.kill(victim!.pid, 'SIGKILL');
    await cc.waitForLog((l) => l.msg === 'worker exited; restarting it');
    const client = createEnvoyClient(cc.grpcAddress);
    try {
      assert.equal((await client.check({ host, path: '/healthz' })).code, 0);
    } finally {
      client.close();
    }
    const restarted = (await eventually(async () => {
      const r = await readyz();
      return r.status === 200 && r.workers.length === 2 && !r.workers.some((w) => w.pid === victim!.pid) ? r.workers : undefined;
    }, 30_000))!;
    assert.ok(restarted.some((w) => w.pid === survivor!.pid));
    assert.ok(restarted.every((w) => alive(w.pid)));
  });

  test('drains every worker on SIGTERM and exits 0', async () => {
    const pids = (await readyz()).workers.map((w) => w.pid);
    assert.equal(await cc.stop('SIGTERM'), 0);
    await eventually(() => pids.every((p) => !alive(p)), 5_000);
  });
});

test('refuses more than one worker on a unix socket with one clear line', () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--grpc-addr', 'unix:/tmp/claimcheck-workers-test.sock', '--workers', '2'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--workers 2 cannot serve a unix socket/);
});
