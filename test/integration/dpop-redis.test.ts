/**
 * `--replay-store redis://…` with a real redis-server: a DPoP proof is accepted once across
 * replicas; a dead Redis is a 503 and service comes back with it; a stalled Redis is a 503
 * within the store's timeout, not a Check Envoy times out on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { createFixture, type Fixture } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { freePort } from '../helpers/free-port.js';
import { dpopProof, publicJwk } from '../helpers/dpop-proofs.js';
import { skipFor } from '../helpers/skip.js';
import { jwkThumbprint } from '../../src/authn/jwk-thumbprint.js';

const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
const skip = skipFor('DPoP replay store on Redis', REDIS ? undefined : 'redis-server is missing (.ci/run installs it from Debian)');
const HOST = 'payments.example.com';
const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwkOf = publicJwk;
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

const proof = (token: string): Promise<string> => dpopProof(client, token, { htu: `https://${HOST}/v1/accounts` });

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await eventually(() => new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 10_000, 50);
  return child;
}

describe('DPoP replay store on Redis', { skip }, () => {
  let fx: Fixture;
  let port: number;
  let redis: ChildProcess | undefined;
  let a: ClaimcheckProcess;
  let b: ClaimcheckProcess;
  let ca: EnvoyClient;
  let cb: EnvoyClient;
  let bound: string;
  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    fx = await createFixture();
    const args = ['--replay-store', `redis://127.0.0.1:${port}/0`, '--workers', '1'];
    [a, b] = await Promise.all([startClaimcheck({ configDir: fx.dir, args }), startClaimcheck({ configDir: fx.dir, args })]);
    ca = createEnvoyClient(a.grpcAddress);
    cb = createEnvoyClient(b.grpcAddress);
    bound = await fx.sign({ sub: 'ivy', cnf: { jkt: jwkThumbprint(jwkOf(client.publicKey) as Record<string, unknown>)! } });
  });
  after(async () => {
    ca?.close();
    cb?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    redis?.kill('SIGKILL');
    await fx?.cleanup();
  });

  const check = async (c: EnvoyClient, p?: string) => c.check({ host: HOST, path: '/v1/accounts', headers: { authorization: `DPoP ${bound}`, dpop: p ?? (await proof(bound)) } });

  test('a proof accepted by one replica is a replay on the other', async () => {
    const p = await proof(bound);
    const first = await eventually(async () => {
      const r = await check(ca, p);
      return r.code === 0 ? r : undefined;
    }, 10_000, 100);
    assert.equal(first!.headers['x-user-id'], 'ivy');
    const onB = await check(cb, p);
    assert.equal(onB.httpStatus, 401);
    assert.equal(errorOf(onB).error_description, 'DPoP proof replayed');
  });

  test('a stalled Redis is a 503 within its 100 ms timeout; a dead one a 503; service comes back with it', async () => {
    redis!.kill('SIGSTOP');
    try {
      const started = Date.now();
      const stalled = await check(ca);
      const took = Date.now() - started;
      assert.equal(stalled.httpStatus, 503, stalled.body);
      assert.equal(errorOf(stalled).error, 'temporarily_unavailable');
      assert.ok(took < 500, `answered in ${took} ms`);
    } finally {
      redis!.kill('SIGCONT');
    }
    redis!.kill('SIGKILL');
    await new Promise((resolve) => redis!.once('exit', resolve));
    const dead = await check(ca);
    assert.equal(dead.httpStatus, 503);
    assert.equal(errorOf(dead).error_description, 'DPoP replay store unavailable');
    redis = await startRedis(port);
    const back = await eventually(async () => {
      const r = await check(ca);
      return r.code === 0 ? r : undefined;
    }, 15_000, 200);
    assert.ok(back, 'allowed again once Redis is back');
  });
});
