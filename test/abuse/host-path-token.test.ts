/**
 * Abuse cases through the real server: a Host that used to cost ~120 ms of CPU, hosts and
 * paths that another parser reads differently, a token with two subjects, and a flood of
 * malformed messages that used to write one error line each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { createFixture, paymentsPolicy, type Fixture } from '../helpers/fixture-config.js';
import { startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { cpuSeconds } from '../../bench/proc-stats.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

describe('abuse: hosts, paths, tokens and log floods', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;
  let token: string;

  before(async () => {
    fx = await createFixture();
    const tenants = paymentsPolicy({
      hosts: ['*.demo.local'],
      rules: [
        { name: 'acme', match: { paths: ['/tenants/acme/**'] }, action: 'allowAnonymous' },
        { name: 'api', match: { paths: ['/**'] }, require: { scopes: { anyOf: ['payments:read'] } } },
      ],
    });
    tenants.metadata.name = 'tenants';
    await fx.write('tenants.yaml', [tenants]);
    cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1', '--unmatched-host', 'allow'] });
    client = createEnvoyClient(cc.grpcAddress);
    token = await fx.sign();
  });
  after(async () => {
    client?.close();
    await cc?.stop();
    await fx?.cleanup();
  });

  async function serverCpuPerCheck(host: string, n: number): Promise<number> {
    const before = cpuSeconds(cc.child.pid!);
    for (let sent = 0; sent < n; sent += 16) {
      await Promise.all(Array.from({ length: 16 }, () => client.check({ host, path: '/v1/x', headers: { authorization: `Bearer ${token}` } })));
    }
    return (cpuSeconds(cc.child.pid!) - before) / n;
  }

  test('a 16 KiB Host of short labels costs at most 3x the CPU of a normal one, measured side by side', async (t) => {
    const normal = 'app.demo.local';
    const dotted = `${'a.'.repeat(8192 - 6)}demo.local`;
    assert.equal((await client.check({ host: normal, path: '/v1/x', headers: { authorization: `Bearer ${token}` } })).code, 0);
    let a = 0;
    let b = 0;
    // alternating segments, so drift in the machine's speed hits both alike
    for (let i = 0; i < 3; i++) {
      a += await serverCpuPerCheck(normal, 400);
      b += await serverCpuPerCheck(dotted, 400);
    }
    t.diagnostic(`server CPU per Check: normal host ${(a / 3 * 1e6).toFixed(0)} µs, 16 KiB dotted host ${(b / 3 * 1e6).toFixed(0)} µs, ratio ${(b / a).toFixed(2)}`);
    assert.ok(b <= 3 * a, `dotted host costs ${(b / a).toFixed(2)}x a normal one`);
  });

  test('hosts that are not host names are a 400, never the --unmatched-host allow', async () => {
    for (const host of [`${'a.'.repeat(8192)}demo.local`, '\u212Aey.demo.local', `${'x'.repeat(64)}.demo.local`, 'a..demo.local']) {
      const r = await client.check({ host, path: '/v1/x', headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.httpStatus, 400, `${host.slice(0, 40)}: ${JSON.stringify(r).slice(0, 200)}`);
      assert.match(JSON.stringify(r), /invalid_request/);
    }
  });

  test('a ..; segment is a 400, not the anonymous tenant rule', async () => {
    assert.equal((await client.check({ host: 'x.demo.local', path: '/tenants/acme/y' })).code, 0, 'the rule itself allows');
    for (const path of ['/tenants/acme/..;/globex/x', '/tenants/acme/%2e%2e;/globex/x', '/tenants/acme/..%3B/globex/x']) {
      assert.equal((await client.check({ host: 'x.demo.local', path })).httpStatus, 400, path);
    }
  });

  test('a signed token with two sub members is a 401 and sets no identity header', async () => {
    const { signRaw } = await import('../helpers/tokens.js');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(`{"iss":"https://idp.test.invalid/realms/corp","aud":"payments-api","sub":"alice","scope":"payments:read","iat":${now},"exp":${now + 60},"sub":"admin"}`).toString('base64url');
    const dup = signRaw({ alg: 'RS256', kid: 'k1' }, payload, fx.privateKey());
    const r = await client.check({ host: 'payments.example.com', path: '/v1/x', headers: { authorization: `Bearer ${dup}` } });
    assert.equal(r.httpStatus, 401);
    assert.doesNotMatch(JSON.stringify(r), /admin/);
  });

  test('200 malformed messages write at most 10 error lines and one summary; the metric counts all 200', async () => {
    const session = http2.connect(`http://${cc.grpcAddress}`);
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => new Promise<void>((resolve) => {
        const req = session.request({ ':method': 'POST', ':path': CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' });
        req.on('data', () => undefined);
        req.on('end', resolve);
        req.on('error', () => resolve());
        // a length-prefixed message whose bytes are not a CheckRequest (field 1 of wire type 7)
        req.end(Buffer.concat([Buffer.from([0, 0, 0, 0, 4]), Buffer.from([0x0f, 0xff, 0xff, i & 0xff])]));
      })));
    } finally {
      session.close();
    }
    const summary = await cc.waitForLog((l) => l.kind === 'malformed_request' && typeof l.suppressed === 'number', 5_000);
    const lines = cc.logs.filter((l) => l.kind === 'malformed_request' && l.suppressed === undefined);
    assert.ok(lines.length <= 10 * 2, `${lines.length} lines`);
    assert.equal(lines.length + cc.logs.filter((l) => l.kind === 'malformed_request' && typeof l.suppressed === 'number').reduce((n, l) => n + Number(l.suppressed), 0), 200);
    assert.ok(Number(summary.suppressed) > 0);
    const m = await cc.http('/metrics');
    assert.match(m.body, /claimcheck_malformed_requests_total\{kind="malformed_request",protocol="grpc"\} 200\b/);
  });
});
