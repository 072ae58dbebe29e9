/**
 * A token from a real authorization server (oidc-provider's token endpoint) through each real
 * proxy with its shipped configuration, to claimcheck's /forward-auth and on to an echoing
 * upstream. No token is signed in this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { openHttp1 } from '../helpers/http1-connection.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { PROXIES, startProxy } from '../helpers/proxies.js';
import { skipFor } from '../helpers/skip.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const HOST = 'shop.example.test';
const SHOP = 'https://shop.example.test/api';

describe('interop: oidc-provider tokens through nginx and Caddy', () => {
  const ca = createTestCa('claimcheck proxy interop CA');
  const client: IdpClient = { id: 'shop-frontend', secret: randomBytes(32).toString('base64url') };
  let idp: OidcIdp;
  let dir: string;
  let cc: ClaimcheckProcess;
  let upstream: EchoUpstream;

  before(async () => {
    idp = await startOidcIdp({ tls: ca, keys: [generateKey('RS256', 'idp-key-1')], clients: [client], resources: [{ indicator: SHOP, scope: 'api:read api:write' }] });
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-proxy-interop-'));
    const docs = [
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'oidc-provider' },
        spec: { issuer: idp.issuer, jwks: { discovery: true, caBundle: ca.caCert }, audiences: [SHOP], algorithms: ['RS256'], tokenTypes: ['at+jwt'], maxTokenLifetime: '10m', requiredClaims: ['sub'] },
      },
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'shop' },
        spec: {
          hosts: [HOST],
          issuers: ['oidc-provider'],
          rules: [{ name: 'write', match: { paths: ['/api/**'], methods: ['POST'] }, require: { scopes: { allOf: ['api:write'] } } }, { name: 'read', match: { paths: ['/api/**'] }, require: { scopes: { allOf: ['api:read'] } } }],
          // the header names deploy/nginx and deploy/caddy carry over
          identity: { headers: { 'x-user-id': 'sub', 'x-scopes': 'scope', 'x-tenant': 'client_id' }, forwardToken: false },
        },
      },
    ];
    await writeFile(join(dir, 'config.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    cc = await startClaimcheck({ configDir: dir, args: ['--authz-http-addr', '127.0.0.1:0', '--ready-requires-keys', 'true'] });
    await eventually(async () => (await cc.http('/readyz')).status === 200, 15_000);
    upstream = await startEchoUpstream();
  });

  after(async () => {
    await upstream?.close();
    await cc?.stop();
    await idp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function accessToken(scope: string): Promise<string> {
    const res = await idp.requestToken({ client, resource: SHOP, scope });
    assert.equal(res.status, 200, res.body);
    return String((JSON.parse(res.body) as { access_token: string }).access_token);
  }

  for (const tool of PROXIES) {
    const skip = skipFor(`oidc-provider through ${tool.name}`, existsSync(tool.bin) ? undefined : `${tool.bin} is missing (scripts/proxy-tools.sh installs it)`);
    test(`${tool.name}: the provider's token reaches the upstream as identity headers; a read-only token cannot POST`, { skip }, async () => {
      const proxyDir = await mkdtemp(join(tmpdir(), `cc-interop-${tool.name}-`));
      const proxy = await startProxy(tool, proxyDir, { claimcheck: cc.authzHttpPort, upstream: upstream.port });
      try {
        const conn = await openHttp1({ port: proxy.port });
        const full = await accessToken('api:read api:write');
        const before = upstream.received.length;
        const ok = await conn.request('POST', '/api/orders', [['host', HOST], ['authorization', `Bearer ${full}`], ['x-user-id', 'admin']], '{}');
        assert.equal(ok.status, 200, ok.body);
        const seen = upstream.received.at(-1)!;
        assert.equal(upstream.received.length, before + 1);
        assert.deepEqual([seen.method, seen.headers['x-user-id'], seen.headers['x-tenant'], seen.headers['x-scopes']], ['POST', client.id, client.id, 'api:read api:write']);
        assert.equal(seen.headers.authorization, undefined);

        const readOnly = await accessToken('api:read');
        const denied = await conn.request('POST', '/api/orders', [['host', HOST], ['authorization', `Bearer ${readOnly}`]], '{}');
        assert.equal(denied.status, 403);
        assert.match(denied.headers.get('www-authenticate')?.[0] ?? '', /error="insufficient_scope", scope="api:write"/);
        assert.equal(upstream.received.length, before + 1, 'the denied POST never reached the upstream');
        conn.close();
      } finally {
        await proxy.stop();
        await rm(proxyDir, { recursive: true, force: true });
      }
    });
  }
});
