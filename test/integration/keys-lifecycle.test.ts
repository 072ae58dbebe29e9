/**
 * The key lifecycle through the real server process: a remote JWKS over HTTPS under a test CA,
 * rotated at the IdP (a key added, then the old one removed), an IdP outage and its recovery, with
 * what /readyz, /metrics, the logs and `claimcheck check` show along the way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BIN, REPO, eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { JWKS_PATH, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey, jwksOf, signToken, type TestKey } from '../helpers/tokens.js';

const AUD = 'payments-api';
const HOST = 'api.example.com';

describe('key lifecycle through the real server', () => {
  let dir: string;
  let idp: JwksServer;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;
  let issuerKey: string;
  const k1 = generateKey('RS256', 'k1');
  const k2 = generateKey('ES256', 'k2');

  before(async () => {
    const ca = createTestCa('claimcheck key lifecycle CA');
    idp = await startJwksServer({ tls: ca, jwks: jwksOf(k1) });
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-keys-lifecycle-'));
    const docs = [
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'idp' },
        spec: {
          issuer: idp.url,
          jwks: { uri: idp.jwksUrl, caBundle: ca.caCert, refreshInterval: '1s', minRefreshInterval: '1s', maxStaleness: '1h' },
          audiences: [AUD],
          algorithms: ['RS256', 'ES256'],
        },
      },
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'api' },
        spec: { hosts: [HOST], issuers: ['idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }], identity: { headers: { 'x-user-id': 'sub' } } },
      },
    ];
    await writeFile(join(dir, 'config.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    // One process: with --workers > 1 the primary's /readyz lists workers, not key sets.
    cc = await startClaimcheck({ configDir: dir, args: ['--log-level', 'debug', '--workers', '1'] });
    client = createEnvoyClient(cc.grpcAddress);
    issuerKey = (await readyz()).issuers[0]!.issuer as string;
  });

  after(async () => {
    client?.close();
    await cc?.stop();
    await idp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const token = (key: TestKey) => {
    const now = Math.floor(Date.now() / 1000);
    return signToken({ iss: idp.url, aud: AUD, sub: `user-of-${key.kid}`, iat: now, exp: now + 300 }, { key });
  };
  const send = async (key: TestKey) => client.check({ host: HOST, path: '/v1/pay', headers: { authorization: `Bearer ${await token(key)}` } });
  async function readyz(): Promise<{ ready: boolean; issuers: Record<string, unknown>[] }> {
    return JSON.parse((await cc.http('/readyz')).body);
  }
  async function keyState(): Promise<Record<string, unknown>> {
    return (await readyz()).issuers.find((i) => i.issuer === issuerKey)!;
  }
  async function metric(name: string, labels = ''): Promise<number | undefined> {
    const text = (await cc.http('/metrics')).body;
    const m = new RegExp(`^${name}\\{issuer="${issuerKey}"${labels}\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  }

  test('a token signed by the JWKS key is allowed, and /readyz and /metrics show the key set', async () => {
    const r = await send(k1);
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers['x-user-id'], 'user-of-k1');
    const st = await keyState();
    assert.deepEqual([st.source, st.state, st.ready, st.keyCount, st.keyIds, st.staleSeconds], ['uri', 'fresh', true, 1, ['k1'], 0]);
    assert.ok(Math.abs(Date.parse(String(st.lastRefresh)) - Date.now()) < 30_000);
    assert.equal(await metric('claimcheck_issuer_keys'), 1);
    assert.equal(await metric('claimcheck_issuer_keys_ready'), 1);
    assert.equal(await metric('claimcheck_issuer_keys_stale_seconds'), 0);
    assert.ok(Math.abs((await metric('claimcheck_issuer_keys_last_refresh_timestamp_seconds'))! - Date.now() / 1000) < 30);
    assert.ok((await metric('claimcheck_key_fetches_total', ',document="jwks",outcome="ok"'))! >= 1);
  });

  test('rotation: a key the IdP adds is allowed after the refetch; the key it removes is denied after the next refresh', async () => {
    const before = idp.count(JWKS_PATH);
    idp.setJwks(jwksOf(k1, k2));
    const allowed = await eventually(async () => {
      const r = await send(k2);
      return r.code === 0 ? r : undefined;
    }, 10_000) as Awaited<ReturnType<typeof send>>;
    assert.equal(allowed.headers['x-user-id'], 'user-of-k2');
    assert.ok(idp.count(JWKS_PATH) > before, 'allowed only once the set was fetched again');
    const added = await cc.waitForLog((l) => l.msg === 'keys changed' && Array.isArray(l.added) && (l.added as string[]).includes('k2'));
    assert.deepEqual(added.removed, []);

    idp.setJwks(jwksOf(k2));
    const denied = await eventually(async () => {
      const r = await send(k1);
      return r.code !== 0 ? r : undefined;
    }, 10_000) as Awaited<ReturnType<typeof send>>;
    assert.deepEqual([denied.code, denied.httpStatus], [16, 401]);
    assert.match(String(denied.headers['www-authenticate']), /invalid_token/);
    assert.match(String(denied.body), /unknown signing key/);
    assert.equal((await send(k2)).code, 0, 'the remaining key still verifies');
    await cc.waitForLog((l) => l.msg === 'keys changed' && Array.isArray(l.removed) && (l.removed as string[]).includes('k1'));
    assert.deepEqual((await keyState()).keyIds, ['k2']);
    assert.equal(await metric('claimcheck_issuer_keys'), 1);
  });

  test('an IdP outage keeps the last good keys and shows as stale in /readyz and /metrics until it recovers', async () => {
    idp.setFault({ status: 503 });
    await eventually(async () => (await keyState()).state === 'stale', 10_000);
    await eventually(async () => ((await metric('claimcheck_issuer_keys_stale_seconds')) ?? 0) >= 1, 10_000);
    const st = await keyState();
    assert.deepEqual([st.ready, st.stale, st.errorCode, st.error, st.keyCount], [true, true, 'http_error', 'HTTP 503', 1]);
    assert.equal((await readyz()).ready, true, 'stale inside maxStaleness is still ready');
    assert.equal((await send(k2)).code, 0, 'tokens still verify with the last good keys');
    assert.ok((await metric('claimcheck_key_fetches_total', ',document="jwks",outcome="http_error"'))! >= 1);
    assert.equal(await metric('claimcheck_issuer_keys_ready'), 1);
    const warn = await cc.waitForLog((l) => l.msg === 'key refresh failed: serving last good keys');
    assert.deepEqual([warn.level, warn.code], ['warn', 'http_error']);

    idp.setFault(undefined);
    await eventually(async () => (await keyState()).state === 'fresh', 10_000);
    assert.equal(await metric('claimcheck_issuer_keys_stale_seconds'), 0);
    await cc.waitForLog((l) => l.msg === 'keys recovered');
    const stateLines = cc.logs.filter((l) => ['keys loaded', 'key refresh failed: serving last good keys', 'keys recovered'].includes(l.msg));
    assert.deepEqual(stateLines.map((l) => l.msg), ['keys loaded', 'key refresh failed: serving last good keys', 'keys recovered'], 'one line per state change, however many retries');
    assert.ok(!cc.rawLog().includes(String(k2.jwk.x)), 'no key material in the logs');
  });

  test('claimcheck check prints the key state of the issuer it used', async () => {
    // Not spawnSync: the IdP lives in this process and must keep answering while the CLI fetches.
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }));
      });
    const args = ['--config-dir', dir, '--host', HOST, '--path', '/v1/pay', '--token', await token(k2)];
    const text = await cli(['check', ...args]);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /keys\s+default\/idp: fresh, 1 key\(s\) \[k2\]\n/);
    const json = await cli(['check', '--json', ...args]);
    const out = JSON.parse(json.stdout) as { keys: Record<string, unknown> };
    assert.deepEqual([out.keys.state, out.keys.keyIds, out.keys.source, out.keys.staleSeconds], ['fresh', ['k2'], 'uri', 0]);
  });
});
