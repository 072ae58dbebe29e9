/**
 * TrustedIssuer `payload` through a real claimcheck process over gRPC: the 401s, the metric,
 * the warning and the decision log, none of which may carry the claim's value; and
 * `claimcheck check` naming the claim.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SignJWT } from 'jose';
import { AUDIENCE, type Fixture, resourceDoc } from '../helpers/fixture-config.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { BIN, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import type { CheckOutcome, EnvoyClient } from '../helpers/envoy-client.js';

const ISS = 'https://shop-idp.test.invalid';
// a test card number the schemes publish; as a secret it stands for any real one
const VISA = '4111111111111111';
const SSN = '078-05-1120';
const errorOf = (r: CheckOutcome) => JSON.parse(r.body ?? '{}') as { error?: string; error_description?: string };

describe('payload hygiene over gRPC', () => {
  let server: FixtureServer;
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let envoy: EnvoyClient;
  const sign = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: ISS, aud: AUDIENCE, sub: 'ana', iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'shop-1' }).sign(fx.privateKey());
  };
  const check = async (host: string, claims: Record<string, unknown>) => envoy.check({ host, path: '/orders', headers: { authorization: `Bearer ${await sign(claims)}` } });

  before(async () => {
    server = await startFixtureServer(async (f) => {
      const issuer = (name: string, detectAction: 'audit' | 'deny') =>
        resourceDoc('TrustedIssuer', name, { issuer: ISS, jwks: { inline: { keys: [f.publicJwk('shop-1')] } }, audiences: [AUDIENCE], payload: { maxBytes: 1024, forbiddenClaims: ['password', 'ssn'], detect: ['pan'], detectAction } });
      const policy = (name: string, host: string, iss: string) => resourceDoc('AuthPolicy', name, { hosts: [host], issuers: [iss], rules: [{ name: 'all', match: { paths: ['/**'] } }] });
      await f.write('shop.yaml', [issuer('shop-audit', 'audit'), issuer('shop-deny', 'deny'), policy('audit', 'audit.example.com', 'shop-audit'), policy('deny', 'deny.example.com', 'shop-deny')]);
    }, ['--workers', '1', '--decision-log-allow-sample', '1']);
    ({ fx, cc, client: envoy } = server);
  });
  after(() => server?.close());

  test('a forbidden claim nested under an object: 401 invalid_token with a coarse description, whatever detectAction says', async () => {
    for (const host of ['audit.example.com', 'deny.example.com']) {
      const r = await check(host, { profile: { ssn: SSN } });
      assert.equal(r.httpStatus, 401, host);
      const { error, error_description } = errorOf(r);
      assert.deepEqual({ error, error_description }, { error: 'invalid_token', error_description: 'token carries a forbidden claim' });
    }
  });

  test('a card number inside a longer string: allowed and logged under audit, 401 under deny', async () => {
    const claims = { note: `paid with ${VISA} on Monday` };
    assert.equal((await check('audit.example.com', claims)).code, 0);
    const denied = await check('deny.example.com', claims);
    assert.equal(denied.httpStatus, 401);
    assert.equal(errorOf(denied).error_description, 'token carries sensitive data');
    const warning = await cc.waitForLog((l) => l.msg === 'token carries sensitive data; allowed (payload.detectAction: audit)');
    assert.deepEqual(warning.claims, ['/note (pan)']);
    assert.equal(warning.issuer, 'default/shop-audit');
    const decision = await cc.waitForLog((l) => l.log === 'decision' && l.reason === 'sensitive_claim');
    assert.deepEqual(decision.sensitiveClaims, ['/note (pan)']);
  });

  test('a Luhn-invalid number and a payload over maxBytes', async () => {
    assert.equal((await check('deny.example.com', { note: 'order 4111111111111112' })).code, 0);
    const big = await check('deny.example.com', { pad: 'x'.repeat(1100) });
    assert.equal(errorOf(big).error_description, 'token payload too large');
  });

  test('claimcheck_sensitive_claims_total counts by issuer and kind', async () => {
    const metrics = (await cc.http('/metrics')).body;
    assert.match(metrics, /claimcheck_sensitive_claims_total\{issuer="default\/shop-audit",kind="pan"\} 1\b/);
    assert.match(metrics, /claimcheck_sensitive_claims_total\{issuer="default\/shop-deny",kind="pan"\} 1\b/);
    assert.match(metrics, /claimcheck_sensitive_claims_total\{issuer="default\/shop-deny",kind="forbidden"\} 1\b/);
  });

  test('no log line carries the card number or the SSN', () => {
    const raw = cc.rawLog();
    assert.ok(!raw.includes(VISA) && !raw.includes(SSN));
    assert.ok(raw.includes('/profile/ssn (forbidden)'), 'the path is logged');
  });

  test('claimcheck check names the claim, not its value', async () => {
    const token = await sign({ billing: { card: VISA } });
    const r = spawnSync(process.execPath, [BIN, 'check', '--config-dir', fx.dir, '--host', 'deny.example.com', '--path', '/orders', '--token', token], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /sensitive_claim: token carries sensitive data at \/billing\/card \(pan\)/);
    assert.ok(!r.stdout.includes(VISA) && !r.stderr.includes(VISA));
  });
});
