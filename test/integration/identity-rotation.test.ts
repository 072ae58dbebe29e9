/**
 * Identity-token key rotation as docs/identity-tokens.md orders it, against a downstream
 * claimcheck that trusts the signer by discovery: add a key (published within 2 s, not used),
 * switch the signing key (a restart with --identity-signing-key), remove the old key. Every
 * token the signer issues is accepted downstream at every step; a bad key file changes nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { createFixture, paymentsPolicy, type Fixture, resourceDoc } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type EnvoyClient } from '../helpers/envoy-client.js';
import { freePort } from '../helpers/free-port.js';
import { ecPrivateKeyPem } from '../helpers/tokens.js';

const HEADER = 'x-claimcheck-identity';

describe('identity keys: rotation without a downstream denial', () => {
  let fa: Fixture;
  let fb: Fixture;
  let a: ClaimcheckProcess | undefined;
  let b: ClaimcheckProcess;
  let ca: EnvoyClient | undefined;
  let cb: EnvoyClient;
  let keyDir: string;
  let port: number;
  let issuer: string;

  const startA = async (signingKid?: string) => {
    ca?.close();
    await a?.stop();
    a = await startClaimcheck({
      configDir: fa.dir,
      args: ['--workers', '1', '--http-addr', `127.0.0.1:${port}`, '--identity-issuer', issuer, '--identity-key-dir', keyDir, ...(signingKid ? ['--identity-signing-key', signingKid] : [])],
    });
    ca = createEnvoyClient(a.grpcAddress);
  };
  const jwksKids = async () => (JSON.parse((await a!.http('/.well-known/jwks.json')).body) as { keys: { kid: string; d?: string }[] }).keys;
  const issue = async () => {
    const r = await ca!.check({ host: 'payments.example.com', path: '/v1/accounts', headers: { authorization: `Bearer ${await fa.sign({ sub: `u-${Math.random()}` })}` } });
    assert.equal(r.code, 0, r.body);
    return r.headers[HEADER]!;
  };
  const acceptedDownstream = async (jwt: string) => {
    const r = await cb.check({ host: 'orders.internal', path: '/orders', headers: { [HEADER]: jwt } });
    assert.equal(r.code, 0, `downstream denied ${JSON.stringify(decodeProtectedHeader(jwt))}: ${r.body}`);
  };

  before(async () => {
    fa = await createFixture();
    fb = await createFixture();
    keyDir = join(fa.dir, 'identity-keys');
    await mkdir(keyDir);
    await writeFile(join(keyDir, 'old.pem'), ecPrivateKeyPem());
    port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    await fa.write('policy.yaml', [paymentsPolicy({ identity: { token: { audiences: ['orders'] } } })]);
    await fb.write('issuer.yaml', [resourceDoc('TrustedIssuer', 'edge', { issuer, jwks: { discovery: true, allowInsecureHttp: true, refreshInterval: '2s', minRefreshInterval: '1s' }, audiences: ['orders'], algorithms: ['ES256'] })]);
    await fb.write('policy.yaml', [resourceDoc('AuthPolicy', 'orders', { hosts: ['orders.internal'], issuers: ['edge'], tokenSources: [{ header: HEADER }], rules: [{ name: 'all', match: { paths: ['/**'] } }] })]);
    await startA();
    b = await startClaimcheck({ configDir: fb.dir, args: ['--workers', '1'] });
    cb = createEnvoyClient(b.grpcAddress);
  });
  after(async () => {
    ca?.close();
    cb?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([fa?.cleanup(), fb?.cleanup()]);
  });

  test('add, switch, remove: every token accepted downstream, the JWKS never holds a private member', async () => {
    const first = await issue();
    assert.equal(decodeProtectedHeader(first).kid, 'old');
    await eventually(async () => ((await cb.check({ host: 'orders.internal', path: '/orders', headers: { [HEADER]: first } })).code === 0 ? true : undefined), 10_000, 100);

    // 1. add: published within 2 s, not used; a bad file beside it changes nothing
    await writeFile(join(keyDir, 'new.pem'), ecPrivateKeyPem());
    await writeFile(join(keyDir, 'broken.pem'), '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    const added = Date.now();
    await eventually(async () => ((await jwksKids()).some((k) => k.kid === 'new') ? true : undefined), 2_500, 100);
    assert.ok(Date.now() - added <= 2_500);
    assert.deepEqual((await jwksKids()).map((k) => k.kid).sort(), ['new', 'old']);
    assert.ok((await jwksKids()).every((k) => k.d === undefined));
    assert.ok(a!.logs.some((l) => l.level === 'error' && String(l.msg).includes('broken.pem')), 'the bad file is named in an error');
    assert.ok(!a!.rawLog().includes('not a key'), 'its content is not logged');
    const stillOld = await issue();
    assert.equal(decodeProtectedHeader(stillOld).kid, 'old', 'two keys, the flag still unset: the signer that was chosen stays until restart');
    await acceptedDownstream(stillOld);

    // 2. the downstream refreshes (refreshInterval 2s here); 3. switch
    await new Promise((r) => setTimeout(r, 2_500));
    await startA('new');
    const switched = await issue();
    assert.equal(decodeProtectedHeader(switched).kid, 'new');
    await acceptedDownstream(switched);
    await acceptedDownstream(stillOld);

    // 4. remove the old key (after the ttl in production): gone from the JWKS within 2 s
    await rm(join(keyDir, 'old.pem'));
    await eventually(async () => ((await jwksKids()).every((k) => k.kid !== 'old') ? true : undefined), 2_500, 100);
    await acceptedDownstream(await issue());
  });
});
