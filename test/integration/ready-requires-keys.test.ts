/**
 * --ready-requires-keys: readiness (and gRPC health) follow the keys of the issuers the
 * policies name, all the time, not only at startup.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { healthCheck } from '../helpers/envoy-client.js';
import { generateKey, jwksOf } from '../helpers/tokens.js';

const key = generateKey('ES256', 'k1');

async function configFor(url: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-ready-'));
  await writeFile(join(dir, 'c.yaml'), `apiVersion: claimcheck.io/v1alpha1
kind: TrustedIssuer
metadata: {name: idp}
spec: {issuer: "https://idp.example", audiences: [api], jwks: {uri: "${url}", allowInsecureHttp: true, refreshInterval: 1s, minRefreshInterval: 1s, maxStaleness: 2s}}
---
apiVersion: claimcheck.io/v1alpha1
kind: AuthPolicy
metadata: {name: p}
spec: {hosts: [a.example], issuers: [idp], rules: [{name: all, match: {paths: ["/**"]}}]}
`);
  return dir;
}

describe('--ready-requires-keys', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test('off: a replica whose IdP is unreachable is ready (and answers 503s); on: it is not', async () => {
    const dir = await configFor('http://127.0.0.1:1/jwks');
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const off = await startClaimcheck({ configDir: dir, args: ['--keys-ready-timeout', '1s', '--workers', '1'] });
    cleanup.push(() => off.stop());
    const on = await startClaimcheck({ configDir: dir, args: ['--keys-ready-timeout', '1s', '--workers', '1', '--ready-requires-keys=true'] });
    cleanup.push(() => on.stop());
    await eventually(async () => (await off.http('/readyz')).status === 200, 5_000);
    assert.equal(await healthCheck(off.grpcAddress, ''), 'SERVING');
    const r = await on.http('/readyz');
    assert.equal(r.status, 503, r.body);
    assert.equal(JSON.parse(r.body).requiresKeys, true);
    assert.equal(await healthCheck(on.grpcAddress, ''), 'NOT_SERVING');
  });

  test('on: ready while the keys are usable, unready once they are past maxStaleness, ready again when the IdP is back', async () => {
    let server: JwksServer = await startJwksServer({ jwks: jwksOf(key) });
    const port = new URL(server.url).port;
    const dir = await configFor(server.jwksUrl);
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const cc: ClaimcheckProcess = await startClaimcheck({ configDir: dir, args: ['--workers', '1', '--ready-requires-keys=true'] });
    cleanup.push(() => cc.stop());
    await eventually(async () => (await cc.http('/readyz')).status === 200, 5_000);
    await server.close();
    await eventually(async () => (await cc.http('/readyz')).status === 503, 8_000);
    // gRPC health follows readiness within its 250 ms update
    await eventually(async () => (await healthCheck(cc.grpcAddress, '')) === 'NOT_SERVING', 2_000);
    // the same port again, so the issuer's uri reaches it
    server = await startJwksServer({ jwks: jwksOf(key), port: Number(port) });
    cleanup.push(() => server.close());
    await eventually(async () => (await cc.http('/readyz')).status === 200, 8_000);
    await eventually(async () => (await healthCheck(cc.grpcAddress, '')) === 'SERVING', 2_000);
  });
});
