/**
 * JWE through the real TokenCache and KeyRegistry: decryption keys from a watched file, the inner
 * token verified against the issuer that decrypted it, and one decryption per repeated JWE.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt } from 'jose';
import { TokenCache } from '../../src/authn/token-cache.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { parseDecryptionKeys } from '../../src/keys/decryption-keys.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { generateKey, jwksOf, makeIssuer, signToken } from '../helpers/tokens.js';
import { eventually } from '../helpers/claimcheck-process.js';

const NOW = Math.floor(Date.now() / 1000);
const OPTS = { nowSec: NOW, maxTokenBytes: 16 * 1024 };
const A = 'https://a.example.test';
const B = 'https://b.example.test';
const signerA = generateKey('RS256', 'a-1');
const signerB = generateKey('RS256', 'b-1');
const enc1 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const enc2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateJwk = (k: KeyObject, kid: string) => ({ ...k.export({ format: 'jwk' }), kid, use: 'enc' });

const dir = mkdtempSync(join(tmpdir(), 'claimcheck-jwe-'));
const keyFile = join(dir, 'decrypt.json');
writeFileSync(keyFile, JSON.stringify({ keys: [privateJwk(enc1.privateKey, 'enc-1')] }));
const decryption = { keyAlgorithms: ['RSA-OAEP-256'], contentEncryptions: ['A256GCM'], secretPath: keyFile, fingerprint: 'f1' };
const issuerA: CompiledIssuer = makeIssuer({ name: 'a', issuer: A, jwks: { inline: jwksOf(signerA) }, decryption });
const issuerB: CompiledIssuer = makeIssuer({ name: 'b', issuer: B, jwks: { inline: jwksOf(signerB) } });

const registry = new KeyRegistry({ logger: silentLogger(), sourcePollMs: 50 });
before(async () => {
  registry.sync([issuerA, issuerB]);
  await registry.waitReady(5000);
});
after(() => {
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

const claims = (iss = A) => ({ iss, aud: 'api', sub: 'ana', iat: NOW - 10, exp: NOW + 600 });
const encrypt = (plaintext: string, key: KeyObject = enc1.publicKey, header: Record<string, unknown> = {}) =>
  new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', ...header }).encrypt(key);

/** the registry with its decryptions counted */
function counting() {
  const n = { decrypts: 0 };
  const keys = Object.assign(Object.create(registry) as KeyRegistry, {
    decrypt: (i: CompiledIssuer, jwe: string) => {
      n.decrypts++;
      return registry.decrypt(i, jwe);
    },
  });
  return { keys, n };
}

describe('encrypted tokens', () => {
  test('a JWE around a token signed by the same issuer verifies; the verified token is the JWE; a repeat costs no decryption', async () => {
    const { keys, n } = counting();
    const cache = new TokenCache({ size: 100 });
    const jwe = await encrypt(await signToken(claims(), { key: signerA }));
    for (let i = 0; i < 3; i++) {
      const r = await cache.verify(jwe, [issuerA, issuerB], keys, OPTS);
      assert.equal(r.ok, true, `use ${i + 1}`);
      assert.equal(r.ok && r.verified.token, jwe);
      assert.equal(r.ok && r.verified.claims.sub, 'ana');
      assert.equal(r.ok && r.verified.kid, 'a-1');
    }
    assert.equal(n.decrypts, 1);
  });

  test('without the token cache every use decrypts', async () => {
    const { keys, n } = counting();
    const cache = new TokenCache({ size: 0 });
    const jwe = await encrypt(await signToken(claims(), { key: signerA }));
    for (let i = 0; i < 2; i++) assert.equal((await cache.verify(jwe, [issuerA], keys, OPTS)).ok, true);
    assert.equal(n.decrypts, 2);
  });

  test('encrypted for issuer a but signed by issuer b: refused, though b is among the rule\'s issuers', async () => {
    const cache = new TokenCache({ size: 100 });
    const jwe = await encrypt(await signToken(claims(B), { key: signerB }));
    const r = await cache.verify(jwe, [issuerA, issuerB], registry, OPTS);
    assert.equal(!r.ok && r.reason, 'untrusted_issuer');
  });

  test('an unsigned inner payload, a JWE for another key, a 20 KiB JWE, and a rule without a decrypting issuer', async () => {
    const cache = new TokenCache({ size: 100 });
    const reason = async (t: string, c: readonly CompiledIssuer[] = [issuerA]) => {
      const r = await cache.verify(t, c, registry, OPTS);
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(await reason(await encrypt(JSON.stringify(claims()))), 'unsigned_inner_token');
    assert.equal(await reason(await encrypt(await signToken(claims(), { key: signerA }), enc2.publicKey)), 'decryption_failed');
    assert.equal(await reason(await encrypt(await signToken({ ...claims(), pad: 'x'.repeat(20_000) }, { key: signerA }))), 'token_too_large');
    assert.equal(await reason(await encrypt(await signToken(claims(), { key: signerA })), [issuerB]), 'unsupported_token');
  });

  test('a rewritten key file is picked up at the next poll; a broken one keeps the last good keys', async () => {
    const cache = new TokenCache({ size: 0 });
    const inner = await signToken(claims(), { key: signerA });
    const forSecond = await encrypt(inner, enc2.publicKey);
    const before = await cache.verify(forSecond, [issuerA], registry, OPTS);
    assert.equal(!before.ok && before.reason, 'decryption_failed');
    writeFileSync(keyFile, JSON.stringify({ keys: [privateJwk(enc1.privateKey, 'enc-1'), privateJwk(enc2.privateKey, 'enc-2')] }));
    await eventually(async () => (await cache.verify(forSecond, [issuerA], registry, OPTS)).ok, 5000);
    writeFileSync(keyFile, '{ not json');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await cache.verify(forSecond, [issuerA], registry, OPTS)).ok, true, 'the last good keys still decrypt');
  });
});

describe('decryption key files', () => {
  const rsaPem = enc1.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  test('a JWK, a JWKS and PEM private keys are read; public, signing, short and unknown keys are refused', () => {
    assert.equal(parseDecryptionKeys(Buffer.from(JSON.stringify(privateJwk(enc1.privateKey, 'k')))).length, 1);
    assert.equal(parseDecryptionKeys(Buffer.from(rsaPem + rsaPem)).length, 2);
    const refused = [
      JSON.stringify({ ...enc1.publicKey.export({ format: 'jwk' }), kid: 'pub' }),
      JSON.stringify({ ...privateJwk(enc1.privateKey, 'sig'), use: 'sig' }),
      JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' })),
      JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })),
      JSON.stringify({ kty: 'oct', k: Buffer.alloc(7).toString('base64url') }),
      JSON.stringify({ keys: [] }),
      'not a key',
    ];
    for (const text of refused) assert.throws(() => parseDecryptionKeys(Buffer.from(text)), /./, text.slice(0, 60));
  });

  test('an error names the key, never its material', () => {
    const jwk = { ...privateJwk(enc1.privateKey, 'sig-key'), use: 'sig' };
    assert.throws(() => parseDecryptionKeys(Buffer.from(JSON.stringify(jwk))), (err: Error) => err.message.includes('sig-key') && !err.message.includes(String(jwk.d)));
  });
});
