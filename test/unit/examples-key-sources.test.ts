/**
 * examples/.issuers/: one directory per key source. Each must validate cleanly and must
 * work: a token signed with the matching key is allowed by `claimcheck check` on it (for
 * uri and discovery through a local HTTPS server, on a copy whose URLs point there).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, importJWK, type JWK } from 'jose';
import { parseDocument } from 'yaml';
import { runCheckCommand } from '../../src/commands/check-command.js';
import { loadConfigDir } from '../../src/model/load-config-dir.js';
import { validatePaths } from '../../src/commands/validate-paths.js';
import { DISCOVERY_PATH, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { createTestCa } from '../helpers/test-ca.js';
import { generateKey, jwksOf, signToken } from '../helpers/tokens.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const KEY_SOURCES = join(EXAMPLES, '.issuers');
const DIRS = ['inline', 'uri', 'discovery', 'secret-ref', 'hmac'];

const demoJwk = JSON.parse(readFileSync(join(EXAMPLES, 'demo-keys/demo-signing-key.private.jwk.json'), 'utf8')) as JWK;
const hmacSecret = new TextEncoder().encode(readFileSync(join(KEY_SOURCES, 'hmac/secret/hs256-demo.key'), 'utf8').replace(/\n$/, ''));

const now = () => Math.floor(Date.now() / 1000);

interface Request {
  host: string;
  path: string;
  method?: string;
  token: string;
}

/** `claimcheck check --json` on a directory: exit code and the decision. */
async function check(configDir: string, r: Request): Promise<{ code: number; allow: boolean; reason: string }> {
  let out = '';
  const code = await runCheckCommand(
    { configDir, namespace: 'default', host: r.host, path: r.path, method: r.method ?? 'GET', token: r.token, headers: [], json: true, explainKeys: false, keyWaitMs: 10_000, maxTokenBytes: 16384 },
    (s) => void (out += s),
  );
  const parsed = JSON.parse(out) as { allow: boolean; reason: string };
  return { code, allow: parsed.allow, reason: parsed.reason };
}

async function demoToken(claims: Record<string, unknown>, iss: string, aud: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: String(demoJwk.kid) })
    .setIssuer(iss).setAudience(aud).setSubject('alice').setIssuedAt().setExpirationTime('10m')
    .sign(await importJWK(demoJwk, 'ES256'));
}

/** A copy of one example directory with `edit` applied to its issuer.yaml (comments kept). */
function copyWithIssuer(name: string, edit: (set: (path: string[], value: unknown) => void) => void): string {
  const dir = mkdtempSync(join(tmpdir(), `claimcheck-example-${name}-`));
  cpSync(join(KEY_SOURCES, name), dir, { recursive: true });
  const file = join(dir, 'issuer.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  edit((path, value) => doc.setIn(path, value));
  writeFileSync(file, doc.toString());
  return dir;
}

describe('examples/.issuers (one TrustedIssuer per key source)', () => {
  test('there is a directory for each key source and each holds an issuer and a policy', () => {
    assert.deepEqual(readdirSync(KEY_SOURCES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(), [...DIRS].sort());
    for (const d of DIRS) assert.deepEqual(readdirSync(join(KEY_SOURCES, d)).filter((f) => f.endsWith('.yaml')).sort(), ['issuer.yaml', 'policy.yaml'], d);
  });

  for (const d of DIRS) {
    test(`${d}: claimcheck validate reports no problem and no warning`, async () => {
      const report = await validatePaths([join(KEY_SOURCES, d)], { namespace: 'default' });
      assert.deepEqual(report.problems, []);
      assert.deepEqual(report.warnings, []);
      assert.equal(report.resourceCount, 2);
    });
  }

  test('the bundled demo does not load them: examples/ still holds exactly the three demo resources', async () => {
    const loaded = await loadConfigDir(EXAMPLES);
    assert.deepEqual(loaded.resources.map((r) => r.metadata.name).sort(), ['demo', 'demo', 'demo-incident']);
    assert.ok(loaded.files.every((f) => !f.includes('.issuers')), loaded.files.join(', '));
  });

  test('inline: a token signed with the demo key is allowed; one signed with another key is not', async () => {
    const dir = join(KEY_SOURCES, 'inline');
    const req = { host: 'orders.example.com', path: '/orders/42' };
    const ok = await check(dir, { ...req, token: await demoToken({ scope: 'orders:read' }, 'https://auth.example.com', 'orders-api') });
    assert.deepEqual(ok, { code: 0, allow: true, reason: 'allowed' });
    const other = generateKey('ES256', String(demoJwk.kid));
    const forged = await signToken({ iss: 'https://auth.example.com', aud: 'orders-api', sub: 'x', scope: 'orders:read', iat: now(), exp: now() + 60 }, { key: other });
    assert.equal((await check(dir, { ...req, token: forged })).allow, false);
    assert.equal((await check(dir, { ...req, token: await demoToken({ scope: 'other' }, 'https://auth.example.com', 'orders-api') })).reason, 'insufficient_scope');
  });

  test('secret-ref: the PEM key file next to the manifest verifies a demo-key token', async () => {
    const token = await demoToken({ groups: ['inventory', 'staff'] }, 'https://sso.example.com', 'inventory-api');
    const r = await check(join(KEY_SOURCES, 'secret-ref'), { host: 'inventory.example.com', path: '/items/7', token });
    assert.deepEqual(r, { code: 0, allow: true, reason: 'allowed' });
  });

  test('hmac: an HS256 token signed with the demo secret (without its trailing newline) is allowed', async () => {
    const sign = (secret: Uint8Array) => new SignJWT({ scope: 'legacy' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://legacy-auth.example.com').setAudience('legacy-api').setSubject('alice').setIssuedAt().setExpirationTime('5m')
      .sign(secret);
    const dir = join(KEY_SOURCES, 'hmac');
    assert.deepEqual(await check(dir, { host: 'legacy.example.com', path: '/report', token: await sign(hmacSecret) }), { code: 0, allow: true, reason: 'allowed' });
    const wrong = new TextEncoder().encode('another-secret-of-at-least-32-bytes!!');
    assert.equal((await check(dir, { host: 'legacy.example.com', path: '/report', token: await sign(wrong) })).allow, false);
  });

  describe('remote key sources, against a local HTTPS server with a private CA', () => {
    const ca = createTestCa('claimcheck examples CA');
    const key = generateKey('RS256', 'idp-2026-01');
    let server: JwksServer;
    const copies: string[] = [];
    before(async () => {
      server = await startJwksServer({ tls: ca, jwks: jwksOf(key) });
    });
    after(async () => {
      await server.close();
      for (const c of copies) rmSync(c, { recursive: true, force: true });
    });

    test('uri: the issuer fetches the JWKS from its uri (caBundle added) and allows a token of that key', async () => {
      const dir = copyWithIssuer('uri', (set) => {
        set(['spec', 'jwks', 'uri'], server.jwksUrl);
        set(['spec', 'jwks', 'caBundle'], ca.caCert);
      });
      copies.push(dir);
      const claims = { iss: 'https://idp.example.com/realms/corp', aud: 'payments-api', sub: 'alice', scope: 'payments:read', iat: now(), exp: now() + 300 };
      const r = await check(dir, { host: 'payments.example.com', path: '/v1/payments/1', token: await signToken(claims, { key }) });
      assert.deepEqual(r, { code: 0, allow: true, reason: 'allowed' });
      const write = await check(dir, { host: 'payments.example.com', path: '/v1/payments', method: 'POST', token: await signToken(claims, { key }) });
      assert.equal(write.reason, 'insufficient_scope');
    });

    test('discovery: the issuer reads the discovery document of its issuer URL and allows an at+jwt token', async () => {
      const issuer = `${server.url}/`;
      server.setDiscovery({ issuer, jwks_uri: server.jwksUrl });
      const dir = copyWithIssuer('discovery', (set) => {
        set(['spec', 'issuer'], issuer);
        set(['spec', 'jwks', 'caBundle'], ca.caCert);
      });
      copies.push(dir);
      const claims = { iss: issuer, aud: 'https://api.example.com', sub: 'alice', scope: 'read:data', iat: now(), exp: now() + 300 };
      const req = { host: 'api.example.com', path: '/data' };
      assert.deepEqual(await check(dir, { ...req, token: await signToken(claims, { key, typ: 'at+jwt' }) }), { code: 0, allow: true, reason: 'allowed' });
      assert.ok(server.count(DISCOVERY_PATH) >= 1);
      // tokenTypes: [at+jwt] keeps tokens of another type out
      assert.equal((await check(dir, { ...req, token: await signToken(claims, { key, typ: 'JWT' }) })).allow, false);
    });
  });
});
