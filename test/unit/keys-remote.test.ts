import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { verifyToken } from '../../src/authn/verify-token.js';
import type { CompiledIssuer, CompiledJwks } from '../../src/compile/snapshot.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { DISCOVERY_PATH, JWKS_PATH, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { generateKey, jwksOf, makeIssuer, signRaw, signToken, type TestKey } from '../helpers/tokens.js';

const k1 = generateKey('RS256', 'k1');
const k2 = generateKey('ES256', 'k2');
const MINUTE = 60_000;

let ca: TestCa;
let otherCa: TestCa;
const servers: JwksServer[] = [];
const registries: KeyRegistry[] = [];

before(() => {
  ca = createTestCa('claimcheck test CA');
  otherCa = createTestCa('untrusted CA');
});
after(async () => {
  for (const r of registries) r.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function server(opts: { tls?: TestCa | null; keys?: TestKey[] } = {}): Promise<JwksServer> {
  const s = await startJwksServer({ ...(opts.tls === null ? {} : { tls: opts.tls ?? ca }), jwks: jwksOf(...(opts.keys ?? [k1])) });
  servers.push(s);
  return s;
}

class FakeClock {
  ms = 1_900_000_000_000;
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

function registry(clock = new FakeClock(), extra: { coldWaitMs?: number; fetchTimeoutMs?: number; metrics?: Metrics } = {}): KeyRegistry {
  const r = new KeyRegistry({ logger: silentLogger(), now: clock.now, ...extra });
  registries.push(r);
  return r;
}

function remoteIssuer(s: JwksServer, jwks: Partial<CompiledJwks> = {}, over: Partial<Omit<CompiledIssuer, 'jwks'>> = {}): CompiledIssuer {
  return makeIssuer({ issuer: s.url, algorithms: ['RS256', 'ES256', 'HS256'], ...over, jwks: { uri: s.jwksUrl, caBundle: ca.caCert, ...jwks } });
}

async function load(reg: KeyRegistry, issuer: CompiledIssuer) {
  reg.sync([issuer]);
  await reg.waitReady(10_000);
  return reg.status().find((s) => s.issuer === issuer.key)!;
}

async function verifyWith(reg: KeyRegistry, issuer: CompiledIssuer, key: TestKey, nowMs: number, kid?: string) {
  const nowSec = Math.floor(nowMs / 1000);
  const token = await signToken({ iss: issuer.issuer, aud: 'api', exp: nowSec + 60 }, { key, ...(kid ? { kid } : {}) });
  return verifyToken(token, [issuer], reg, { nowSec, maxTokenBytes: 16384 });
}

async function pollUntil(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('remote key sources', () => {
  test('loads a JWKS over HTTPS from a private CA given in caBundle and verifies with it', async () => {
    const s = await server({ keys: [k1, k2] });
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    const st = await load(reg, issuer);
    assert.deepEqual([st.ready, st.keyCount, st.stale, st.error], [true, 2, false, undefined]);
    assert.equal(st.lastRefreshMs, clock.ms);
    assert.equal((await verifyWith(reg, issuer, k1, clock.ms)).ok, true);
    assert.equal((await verifyWith(reg, issuer, k2, clock.ms)).ok, true);
    assert.equal(s.count(JWKS_PATH), 1);
  });

  test('loads keys through OIDC discovery', async () => {
    const s = await server();
    s.setDiscovery({ issuer: s.url, jwks_uri: s.jwksUrl });
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s, { uri: undefined, discovery: true });
    const st = await load(reg, issuer);
    assert.equal(st.ready, true);
    assert.equal(s.count(DISCOVERY_PATH), 1);
    assert.equal(s.count(JWKS_PATH), 1);
    assert.equal((await verifyWith(reg, issuer, k1, clock.ms)).ok, true);
  });

  test('refuses a discovery document whose issuer differs from spec.issuer', async () => {
    const s = await server();
    s.setDiscovery({ issuer: `${s.url}/`, jwks_uri: s.jwksUrl });
    const reg = registry();
    const st = await load(reg, remoteIssuer(s, { uri: undefined, discovery: true }));
    assert.equal(st.ready, false);
    assert.match(st.error ?? '', /issuer/);
    assert.equal(s.count(JWKS_PATH), 0);
  });

  test('refuses an http:// JWKS unless allowInsecureHttp is set', async () => {
    const s = await server({ tls: null });
    const refused = await load(registry(), remoteIssuer(s, { caBundle: undefined }));
    assert.equal(refused.ready, false);
    assert.match(refused.error ?? '', /allowInsecureHttp/);
    assert.equal(s.totalRequests(), 0);
    const allowed = await load(registry(), remoteIssuer(s, { caBundle: undefined, allowInsecureHttp: true }));
    assert.equal(allowed.ready, true);
  });

  test('refuses a certificate from a CA that is neither a system root nor in caBundle', async () => {
    const s = await server();
    const noBundle = await load(registry(), remoteIssuer(s, { caBundle: undefined }));
    assert.equal(noBundle.ready, false);
    const otherBundle = await load(registry(), remoteIssuer(s, { caBundle: otherCa.caCert }));
    assert.equal(otherBundle.ready, false);
    assert.equal(s.totalRequests(), 0, 'the TLS handshake failed before any request');
  });

  test('does not follow a redirect', async () => {
    const target = await server();
    const s = await server();
    s.setFault({ redirectTo: target.jwksUrl });
    const st = await load(registry(), remoteIssuer(s));
    assert.equal(st.ready, false);
    assert.match(st.error ?? '', /302/);
    assert.equal(target.totalRequests(), 0);
  });

  test('fails the first load when the endpoint answers invalid JSON, an error status or closes the connection', async () => {
    for (const fault of [{ invalidJson: true }, { status: 500 }, { closeConnection: true }]) {
      const s = await server();
      s.setFault(fault);
      const st = await load(registry(), remoteIssuer(s));
      assert.equal(st.ready, false, JSON.stringify(fault));
      assert.ok(st.error, JSON.stringify(fault));
    }
  });

  test('gives up on a slow endpoint after fetchTimeoutMs', async () => {
    const s = await server();
    s.setFault({ delayMs: 3000 });
    const reg = registry(new FakeClock(), { fetchTimeoutMs: 200 });
    const started = Date.now();
    const st = await load(reg, remoteIssuer(s));
    assert.equal(st.ready, false);
    assert.match(st.error ?? '', /timed out/);
    assert.ok(Date.now() - started < 2500);
  });

  test('answers keys_unavailable instead of waiting long on a cold fetch', async () => {
    const s = await server();
    s.setFault({ delayMs: 3000 });
    const reg = registry(new FakeClock(), { coldWaitMs: 200 });
    const issuer = remoteIssuer(s);
    reg.sync([issuer]);
    const started = Date.now();
    const r = await reg.resolve(issuer, { alg: 'RS256', kid: 'k1' });
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(r.ok ? r : [r.status, r.reason], ['unavailable', 'keys_unavailable']);
  });
});

describe('remote key refresh', () => {
  test('keeps the old keys when a refresh body is over the size cap', async () => {
    const s = await server();
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    s.setFault({ hugeBodyBytes: 600 * 1024 });
    clock.advance(MINUTE);
    const r = await reg.resolve(issuer, { alg: 'RS256', kid: 'unknown' });
    assert.deepEqual(r.ok ? r : r.reason, 'unknown_kid');
    assert.equal(s.count(JWKS_PATH), 2);
    const st = reg.status()[0]!;
    assert.deepEqual([st.ready, st.stale, st.keyCount], [true, true, 1]);
    assert.match(st.error ?? '', /512|bytes/);
    assert.equal((await verifyWith(reg, issuer, k1, clock.ms)).ok, true);
  });

  test('keeps the old keys when a refresh holds more than 100 keys', async () => {
    const s = await server();
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    s.setJwks({ keys: Array.from({ length: 101 }, (_, i) => ({ ...k2.jwk, kid: `many-${i}` })) });
    clock.advance(MINUTE);
    await reg.resolve(issuer, { alg: 'ES256', kid: 'many-1' });
    assert.equal(s.count(JWKS_PATH), 2);
    assert.match(reg.status()[0]!.error ?? '', /100/);
    assert.equal((await verifyWith(reg, issuer, k1, clock.ms)).ok, true);
  });

  test('refetches at most once per cooldown for 1,000 concurrent unknown kids', async () => {
    const s = await server();
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    const burst = () =>
      Promise.all(Array.from({ length: 1000 }, () => reg.resolve(issuer, { alg: 'RS256', kid: randomBytes(8).toString('hex') })));
    clock.advance(10_000);
    const within = await burst();
    assert.equal(s.count(JWKS_PATH), 1, 'no refetch inside the cooldown after the first load');
    clock.advance(20_001);
    const first = await burst();
    const second = await burst();
    assert.equal(s.count(JWKS_PATH), 2, 'one refetch shared by every caller');
    for (const r of [...within, ...first, ...second]) assert.equal(r.ok ? 'ok' : r.reason, 'unknown_kid');
    clock.advance(30_000);
    await burst();
    assert.equal(s.count(JWKS_PATH), 3, 'one more after the next cooldown');
  });

  test('makes a rotated-in key usable after one refetch', async () => {
    const s = await server({ keys: [k1] });
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    s.setJwks(jwksOf(k1, k2));
    clock.advance(MINUTE);
    assert.equal((await verifyWith(reg, issuer, k2, clock.ms)).ok, true);
    assert.equal(s.count(JWKS_PATH), 2);
  });

  test('serves the last good keys within maxStaleness and fails closed after it, then recovers', async () => {
    const s = await server();
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s, { maxStalenessMs: 60 * MINUTE, refreshIntervalMs: 10 * MINUTE });
    await load(reg, issuer);
    s.setFault({ status: 503 });
    clock.advance(59 * MINUTE);
    assert.equal((await verifyWith(reg, issuer, k1, clock.ms)).ok, true);
    await pollUntil('the background refresh to fail', () => reg.status()[0]!.stale);
    clock.advance(2 * MINUTE);
    const r = await verifyWith(reg, issuer, k1, clock.ms);
    assert.deepEqual(r.ok ? r : [r.status, r.reason], ['unavailable', 'keys_unavailable']);
    assert.equal(reg.status()[0]!.ready, false);
    s.setFault(undefined);
    clock.advance(MINUTE);
    assert.equal((await verifyWith(reg, issuer, k1, clock.ms)).ok, true);
    assert.deepEqual([reg.status()[0]!.ready, reg.status()[0]!.stale], [true, false]);
  });

  test('refreshes on Cache-Control max-age sooner than refreshInterval', async () => {
    const s = await server();
    s.setCacheControl('public, max-age=1');
    const reg = registry(new FakeClock());
    await load(reg, remoteIssuer(s, { refreshIntervalMs: 10 * MINUTE, minRefreshIntervalMs: 500 }));
    await pollUntil('a second fetch', () => s.count(JWKS_PATH) >= 2, 5000);
  });

  test('never uses keys marked for encryption, short RSA keys, private keys or remote symmetric keys', async () => {
    const enc = generateKey('RS256', 'enc');
    const priv = generateKey('RS256', 'priv');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const secret = randomBytes(32);
    const s = await server();
    s.setJwks({
      keys: [
        k1.jwk,
        { ...enc.jwk, use: 'enc' },
        { ...(priv.privateKey.export({ format: 'jwk' }) as object), kid: 'priv', alg: 'RS256' },
        { ...(small.publicKey.export({ format: 'jwk' }) as object), kid: 'small', alg: 'RS256' },
        { kty: 'oct', k: secret.toString('base64url'), kid: 'hmac', alg: 'HS256' },
        { ...k2.jwk, kid: 'verify-less', key_ops: ['sign'] },
      ],
    });
    const clock = new FakeClock();
    const reg = registry(clock);
    const issuer = remoteIssuer(s);
    const st = await load(reg, issuer);
    assert.equal(st.keyCount, 1);
    const nowSec = Math.floor(clock.ms / 1000);
    const payload = { iss: issuer.issuer, aud: 'api', exp: nowSec + 60 };
    const tokens = [
      await signToken(payload, { key: enc }),
      await signToken(payload, { key: priv }),
      signRaw({ alg: 'RS256', kid: 'small' }, payload, small.privateKey),
      signRaw({ alg: 'HS256', kid: 'hmac' }, payload, secret, 'HS256'),
      await signToken(payload, { key: k2, kid: 'verify-less' }),
    ];
    for (const t of tokens) {
      const r = await verifyToken(t, [issuer], reg, { nowSec, maxTokenBytes: 16384 });
      assert.equal(r.ok ? 'ok' : r.reason, 'unknown_kid');
    }
  });
});

describe('KeyRegistry.sync', () => {
  test('reuses a key set while keysFingerprint is unchanged and replaces it when it changes', async () => {
    const s = await server();
    const reg = registry();
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    reg.sync([{ ...issuer, audiences: ['other'], fingerprint: 'changed' }]);
    await reg.waitReady(5000);
    assert.equal(s.count(JWKS_PATH), 1);
    reg.sync([{ ...issuer, keysFingerprint: 'changed' }]);
    await reg.waitReady(5000);
    assert.equal(s.count(JWKS_PATH), 2);
    reg.sync([]);
    assert.deepEqual(reg.status(), []);
  });

  test('records fetch outcomes, key counts and refresh time in metrics', async () => {
    const s = await server();
    const metrics = new Metrics();
    const clock = new FakeClock();
    const reg = registry(clock, { metrics });
    const issuer = remoteIssuer(s);
    await load(reg, issuer);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`claimcheck_key_fetches_total\\{issuer="${issuer.key}",outcome="success"\\} 1`));
    assert.match(text, new RegExp(`claimcheck_issuer_keys\\{issuer="${issuer.key}"\\} 1`));
    assert.match(text, new RegExp(`claimcheck_issuer_keys_last_refresh_timestamp_seconds\\{issuer="${issuer.key}"\\} ${Math.floor(clock.ms / 1000)}`));
  });
});
