/**
 * Interop with a real OpenID Certified authorization server (oidc-provider): claimcheck finds its
 * keys through discovery over HTTPS under a private CA and verifies RFC 9068 access tokens the
 * provider issued at its token endpoint (client credentials, resource indicators), through a
 * key rotation the provider performs itself. No token is signed in this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { stringify } from 'yaml';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type CheckOutcome, type EnvoyClient } from '../helpers/envoy-client.js';
import { startOidcIdp, type IdpClient, type OidcIdp } from '../helpers/oidc-idp.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey } from '../helpers/tokens.js';

const HOST = 'payments.example.test';
const PAYMENTS = 'https://payments.example.test/api';
const LEDGER = 'https://ledger.example.test/api';

describe('interop: access tokens from oidc-provider', () => {
  const ca = createTestCa('claimcheck idp interop CA');
  const k1 = generateKey('RS256', 'idp-key-1');
  const k2 = generateKey('RS256', 'idp-key-2');
  const k3 = generateKey('RS256', 'idp-key-3');
  const batch: IdpClient = { id: 'payments-batch', secret: randomBytes(32).toString('base64url') };
  let idp: OidcIdp;
  let dir: string;
  let cc: ClaimcheckProcess;
  let envoy: EnvoyClient;

  before(async () => {
    idp = await startOidcIdp({
      tls: ca,
      keys: [k1],
      clients: [batch],
      resources: [
        { indicator: PAYMENTS, scope: 'payments:read payments:write' },
        { indicator: LEDGER, scope: 'ledger:read' },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-idp-interop-'));
    const docs = [
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'oidc-provider' },
        spec: {
          issuer: idp.issuer,
          // 1s instead of the defaults (10m / 30s), so that rotation is seen within seconds.
          jwks: { discovery: true, caBundle: ca.caCert, refreshInterval: '1s', minRefreshInterval: '1s' },
          audiences: [PAYMENTS],
          algorithms: ['RS256'],
          tokenTypes: ['at+jwt'],
          maxTokenLifetime: '10m',
          requiredClaims: ['sub', 'client_id'],
        },
      },
      {
        apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'payments' },
        spec: {
          hosts: [HOST],
          issuers: ['oidc-provider'],
          rules: [
            { name: 'write', match: { paths: ['/v1/payments/**'], methods: ['POST'] }, require: { scopes: { allOf: ['payments:write'] } } },
            { name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['payments:read'] } } },
          ],
          identity: { headers: { 'x-client-id': 'client_id', 'x-user-id': 'sub', 'x-scopes': 'scope' } },
        },
      },
    ];
    await writeFile(join(dir, 'config.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    // One process: with --workers > 1 /readyz lists workers, not key sets.
    cc = await startClaimcheck({ configDir: dir, args: ['--workers', '1'] });
    envoy = createEnvoyClient(cc.grpcAddress);
    await eventually(async () => (await keyState()).state === 'fresh', 10_000);
  });

  after(async () => {
    envoy?.close();
    await cc?.stop();
    await idp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function keyState(): Promise<Record<string, unknown>> {
    const body = JSON.parse((await cc.http('/readyz')).body) as { issuers: Record<string, unknown>[] };
    assert.equal(body.issuers.length, 1);
    return body.issuers[0]!;
  }

  /** A token from the provider's token endpoint; fails the test on anything but 200. */
  async function accessToken(resource: string, scope: string): Promise<string> {
    const res = await idp.requestToken({ client: batch, resource, scope });
    assert.equal(res.status, 200, res.body);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    return String(body.access_token);
  }

  const check = (token: string, method = 'GET', path = '/v1/payments/1'): Promise<CheckOutcome> =>
    envoy.check({ host: HOST, path, method, headers: { authorization: `Bearer ${token}` } });

  const describeOutcome = (r: CheckOutcome) => `${r.code}/${r.httpStatus ?? '-'} ${r.body ?? ''}`;

  test('claimcheck reads the keys through the provider\'s discovery document', async () => {
    const doc = await idp.discovery();
    assert.equal(doc.issuer, idp.issuer);
    assert.equal(doc.jwks_uri, `${idp.issuer}/jwks`);
    const st = await keyState();
    assert.deepEqual([st.source, st.state, st.keyIds], ['discovery', 'fresh', ['idp-key-1']]);
  });

  test('a client-credentials token is allowed and its client id reaches the upstream headers', async () => {
    const token = await accessToken(PAYMENTS, 'payments:read payments:write');
    // What the provider issued (read, not trusted): RFC 9068 typ, aud = the resource indicator.
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'at+jwt', kid: 'idp-key-1' });
    const claims = decodeJwt(token);
    assert.deepEqual([claims.iss, claims.aud, claims.client_id, claims.sub], [idp.issuer, PAYMENTS, batch.id, batch.id]);

    const r = await check(token, 'POST');
    assert.equal(r.code, 0, describeOutcome(r));
    assert.equal(r.headers['x-client-id'], batch.id);
    assert.equal(r.headers['x-user-id'], batch.id);
    assert.equal(r.headers['x-scopes'], 'payments:read payments:write');
  });

  test('a token without the required scope is 403 insufficient_scope', async () => {
    // A scope of another resource server is dropped by the provider, not refused.
    const token = await accessToken(PAYMENTS, 'payments:read ledger:read');
    assert.equal(decodeJwt(token).scope, 'payments:read');
    const r = await check(token, 'POST');
    assert.deepEqual([r.code, r.httpStatus], [7, 403], describeOutcome(r));
    assert.equal(r.headers['www-authenticate'], `Bearer realm="${HOST}", error="insufficient_scope", scope="payments:write"`);
    const read = await check(token, 'GET');
    assert.equal(read.code, 0, `the same token is valid where its scope suffices: ${describeOutcome(read)}`);
  });

  test('a token issued for another resource is 401 invalid_token (audience)', async () => {
    const token = await accessToken(LEDGER, 'ledger:read');
    assert.equal(decodeJwt(token).aud, LEDGER);
    const r = await check(token);
    assert.deepEqual([r.code, r.httpStatus], [16, 401], describeOutcome(r));
    const body = JSON.parse(r.body!) as Record<string, unknown>;
    assert.deepEqual([body.error, body.error_description], ['invalid_token', 'audience not allowed']);
    assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
  });

  test('the provider signs with a new key at once: verified after the unknown-kid refetch; the retired key is refused', async () => {
    const oldToken = await accessToken(PAYMENTS, 'payments:read');
    assert.equal(decodeProtectedHeader(oldToken).kid, 'idp-key-1');

    // The new key first (oidc-provider signs with it), the old one still published.
    idp.setKeys([k2, k1]);
    const fetchesAtRotation = idp.requests('/jwks');
    const newToken = await accessToken(PAYMENTS, 'payments:read');
    assert.equal(decodeProtectedHeader(newToken).kid, 'idp-key-2');
    const interim: string[] = [];
    await eventually(async () => {
      const r = await check(newToken);
      if (r.code !== 0) interim.push(describeOutcome(r));
      return r.code === 0;
    }, 10_000);
    assert.ok(idp.requests('/jwks') > fetchesAtRotation, 'allowed only after the JWKS was fetched again');
    // Until the refetch lands the kid is unknown (401, inside the cooldown) or being fetched (503).
    for (const o of interim) assert.match(o, /^(16\/401 .*unknown signing key|14\/503 )/, o);
    const both = await check(oldToken);
    assert.equal(both.code, 0, `the old key is still published: ${describeOutcome(both)}`);
    assert.deepEqual([...((await keyState()).keyIds as string[])].sort(), ['idp-key-1', 'idp-key-2']);

    idp.setKeys([k2]);
    const denied = (await eventually(async () => {
      const r = await check(oldToken);
      return r.code !== 0 ? r : undefined;
    }, 10_000)) as CheckOutcome;
    assert.deepEqual([denied.code, denied.httpStatus], [16, 401], describeOutcome(denied));
    const body = JSON.parse(denied.body!) as Record<string, unknown>;
    assert.deepEqual([body.error, body.error_description], ['invalid_token', 'unknown signing key']);
    assert.deepEqual((await keyState()).keyIds, ['idp-key-2']);
    const kept = await check(newToken);
    assert.equal(kept.code, 0, `the new key still verifies: ${describeOutcome(kept)}`);
  });

  test('the provider\'s documented rotation (publish first, sign later) never denies a token', async () => {
    // Step 1: the next key at the end of the set: published, not yet signing.
    idp.setKeys([k2, k3]);
    assert.equal(decodeProtectedHeader(await accessToken(PAYMENTS, 'payments:read')).kid, 'idp-key-2');
    await eventually(async () => ((await keyState()).keyIds as string[]).includes('idp-key-3'), 10_000);
    // Step 2: it moves to the front. Its kid is known already, so the very first Check passes.
    idp.setKeys([k3, k2]);
    const token = await accessToken(PAYMENTS, 'payments:read');
    assert.equal(decodeProtectedHeader(token).kid, 'idp-key-3');
    const r = await check(token);
    assert.equal(r.code, 0, describeOutcome(r));
  });
});
