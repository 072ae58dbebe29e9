/**
 * oidc-provider as it is usually deployed: plain HTTP behind a TLS-terminating proxy. Its
 * discovery document builds endpoint URLs from the request, so unless it trusts the proxy's
 * X-Forwarded-Proto (provider.proxy = true) it advertises http:// endpoints under an https issuer,
 * and claimcheck, which never fetches keys over http:// unless told to, has no keys for it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const RESOURCE = 'https://orders.example.test/api';
const HOSTS = { trusted: 'trusted.example.test', untrusted: 'untrusted.example.test' } as const;
type Setup = keyof typeof HOSTS;

describe('interop: oidc-provider behind a TLS-terminating proxy', () => {
  const ca = createTestCa('claimcheck idp proxy CA');
  const client: IdpClient = { id: 'orders-sync', secret: randomBytes(32).toString('base64url') };
  const idps = {} as Record<Setup, OidcIdp>;
  let dir: string;
  let cc: ClaimcheckProcess;
  let envoy: EnvoyClient;

  before(async () => {
    for (const setup of Object.keys(HOSTS) as Setup[]) {
      idps[setup] = await startOidcIdp({
        tls: ca,
        keys: [generateKey('RS256', `${setup}-key`)],
        clients: [client],
        resources: [{ indicator: RESOURCE, scope: 'orders:read' }],
        tlsOffload: { trustProxy: setup === 'trusted' },
      });
    }
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-idp-proxy-'));
    const docs = (Object.keys(HOSTS) as Setup[]).flatMap((setup) => [
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: setup },
        spec: {
          issuer: idps[setup].issuer,
          jwks: { discovery: true, caBundle: ca.caCert, minRefreshInterval: '1s' },
          audiences: [RESOURCE],
          tokenTypes: ['at+jwt'],
        },
      },
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: setup },
        spec: {
          hosts: [HOSTS[setup]],
          issuers: [setup],
          rules: [{ name: 'read', match: { paths: ['/**'] }, require: { scopes: { allOf: ['orders:read'] } } }],
          identity: { headers: { 'x-client-id': 'client_id' } },
        },
      },
    ]);
    await writeFile(join(dir, 'config.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    cc = await startClaimcheck({ configDir: dir, args: ['--workers', '1'] });
    envoy = createEnvoyClient(cc.grpcAddress);
    // Each issuer's first load has an outcome: keys, or a failure.
    await eventually(async () => (await Promise.all((Object.keys(HOSTS) as Setup[]).map(keyState))).every((s) => s.state !== 'loading'), 10_000);
  });

  after(async () => {
    envoy?.close();
    await cc?.stop();
    for (const idp of Object.values(idps)) await idp.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function keyState(setup: Setup): Promise<Record<string, unknown>> {
    const body = JSON.parse((await cc.http('/readyz')).body) as { issuers: Record<string, unknown>[] };
    const st = body.issuers.find((i) => String(i.issuer).endsWith(`/${setup}`));
    assert.ok(st, `no key set for ${setup} in /readyz: ${JSON.stringify(body)}`);
    return st;
  }

  async function accessToken(setup: Setup, tokenEndpoint?: string): Promise<string> {
    const res = await idps[setup].requestToken({ client, resource: RESOURCE, scope: 'orders:read', ...(tokenEndpoint ? { tokenEndpoint } : {}) });
    assert.equal(res.status, 200, res.body);
    return String((JSON.parse(res.body) as Record<string, unknown>).access_token);
  }

  const check = (setup: Setup, token: string): Promise<CheckOutcome> =>
    envoy.check({ host: HOSTS[setup], path: '/v1/orders', headers: { authorization: `Bearer ${token}` } });

  test('trusting X-Forwarded-Proto, it advertises https endpoints and its tokens are allowed', async () => {
    const { issuer } = idps.trusted;
    const doc = await idps.trusted.discovery();
    assert.deepEqual([doc.issuer, doc.jwks_uri, doc.token_endpoint], [issuer, `${issuer}/jwks`, `${issuer}/token`]);
    const st = await keyState('trusted');
    assert.deepEqual([st.state, st.keyIds, st.jwksUri], ['fresh', ['trusted-key'], `${issuer}/jwks`]);
    const r = await check('trusted', await accessToken('trusted'));
    assert.equal(r.code, 0, r.body);
    assert.equal(r.headers['x-client-id'], client.id);
  });

  test('not trusting it, it advertises http:// endpoints: claimcheck refuses them and answers 503', async () => {
    const { issuer } = idps.untrusted;
    const plain = issuer.replace(/^https:/, 'http:');
    const doc = await idps.untrusted.discovery();
    assert.deepEqual([doc.issuer, doc.jwks_uri, doc.token_endpoint], [issuer, `${plain}/jwks`, `${plain}/token`]);
    const st = await keyState('untrusted');
    assert.deepEqual([st.state, st.errorCode, st.error], ['failed', 'refused', 'http:// refused without allowInsecureHttp']);
    // The advertised token endpoint is unusable too; the proxy's real one still issues tokens.
    const r = await check('untrusted', await accessToken('untrusted', `${issuer}/token`));
    assert.deepEqual([r.code, r.httpStatus], [14, 503], r.body);
    assert.equal((JSON.parse(r.body!) as Record<string, unknown>).error, 'temporarily_unavailable');
  });
});
