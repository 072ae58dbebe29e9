import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { CompactEncrypt, SignJWT } from 'jose';
import { decryptToken, type DecryptionKey } from '../../src/keys/decrypt-token.js';
import type { CompiledDecryption } from '../../src/compile/snapshot.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const secret = createSecretKey(randomBytes(32));

const DEFAULTS: CompiledDecryption = { keyAlgorithms: ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW'], contentEncryptions: ['A256GCM', 'A128GCM'], fingerprint: '' };
const KEYS: DecryptionKey[] = [{ kid: 'enc-rsa', key: rsa.privateKey }, { kid: 'enc-ec', key: ec.privateKey }];

const signed = () => new SignJWT({ iss: 'https://idp.test', sub: 'ana' }).setProtectedHeader({ alg: 'ES256' }).sign(signer.privateKey);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function encrypt(plaintext: string, header: Record<string, unknown>, key: KeyObject): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader(header as { alg: string; enc: string }).encrypt(key);
}

/** A JWE with this header and random segments: for checks that must refuse it before any cryptography. */
const forged = (header: Record<string, unknown>) => [b64(header), randomBytes(256), randomBytes(12), randomBytes(64), randomBytes(16)].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');

const reasonOf = (r: Awaited<ReturnType<typeof decryptToken>>) => (r.ok ? 'ok' : r.reason);

describe('decryptToken', () => {
  test('RSA-OAEP-256 + A256GCM and ECDH-ES+A256KW around a JWS: the plaintext is the signed token', async () => {
    const inner = await signed();
    const a = await decryptToken(await encrypt(inner, { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'enc-rsa' }, rsa.publicKey), DEFAULTS, KEYS);
    assert.deepEqual(a, { ok: true, plaintext: inner, kid: 'enc-rsa' });
    const b = await decryptToken(await encrypt(inner, { alg: 'ECDH-ES+A256KW', enc: 'A128GCM', cty: 'at+jwt' }, ec.publicKey), DEFAULTS, KEYS);
    assert.equal(b.ok && b.plaintext, inner);
  });

  test('cty compares case-insensitively with application/ optional; missing or another type is refused', async () => {
    const inner = await signed();
    for (const cty of ['jwt', 'application/JWT', 'AT+JWT']) {
      assert.equal(reasonOf(await decryptToken(await encrypt(inner, { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty }, rsa.publicKey), DEFAULTS, KEYS)), 'ok', cty);
    }
    for (const cty of [undefined, 'json', 'application/json']) {
      const header = { alg: 'RSA-OAEP-256', enc: 'A256GCM', ...(cty ? { cty } : {}) };
      assert.equal(reasonOf(await decryptToken(await encrypt(inner, header, rsa.publicKey), DEFAULTS, KEYS)), 'unsigned_inner_token', String(cty));
    }
  });

  test('a JSON payload, not a JWS, is refused even with cty JWT', async () => {
    const r = await decryptToken(await encrypt(JSON.stringify({ iss: 'https://idp.test', sub: 'admin' }), { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }, rsa.publicKey), DEFAULTS, KEYS);
    assert.equal(reasonOf(r), 'unsigned_inner_token');
  });

  test('RSA1_5 is never allowed, not even when listed; nor an enc outside the list', async () => {
    assert.equal(reasonOf(await decryptToken(forged({ alg: 'RSA1_5', enc: 'A256GCM', cty: 'JWT' }), { ...DEFAULTS, keyAlgorithms: ['RSA1_5', 'RSA-OAEP-256'] }, KEYS)), 'encryption_not_allowed');
    assert.equal(reasonOf(await decryptToken(forged({ alg: 'RSA-OAEP-256', enc: 'A128CBC-HS256', cty: 'JWT' }), DEFAULTS, KEYS)), 'encryption_not_allowed');
    assert.equal(reasonOf(await decryptToken(forged({ alg: 'RSA-OAEP', enc: 'A256GCM', cty: 'JWT' }), DEFAULTS, KEYS)), 'encryption_not_allowed');
  });

  test('dir without a secret key is refused; with one it decrypts', async () => {
    const inner = await signed();
    const jwe = await encrypt(inner, { alg: 'dir', enc: 'A256GCM', cty: 'JWT' }, secret);
    const rules = { ...DEFAULTS, keyAlgorithms: ['dir'] };
    assert.equal(reasonOf(await decryptToken(jwe, rules, KEYS)), 'no_matching_key');
    assert.equal(reasonOf(await decryptToken(jwe, rules, [...KEYS, { key: secret }])), 'ok');
    assert.equal(reasonOf(await decryptToken(jwe, DEFAULTS, [...KEYS, { key: secret }])), 'encryption_not_allowed', 'dir is not in the default list');
  });

  test('a tampered tag, ciphertext or header fails decryption', async () => {
    const jwe = await encrypt(await signed(), { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }, rsa.publicKey);
    const parts = jwe.split('.');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const i of [3, 4]) {
      const tampered = parts.map((p, j) => (j === i ? flip(p) : p)).join('.');
      assert.equal(reasonOf(await decryptToken(tampered, DEFAULTS, KEYS)), 'decryption_failed', `segment ${i}`);
    }
    const header = b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', x: 1 });
    assert.equal(reasonOf(await decryptToken([header, ...parts.slice(1)].join('.'), DEFAULTS, KEYS)), 'decryption_failed', 'the header is the AAD');
  });

  test('encrypted for another key: decryption fails', async () => {
    const jwe = await encrypt(await signed(), { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }, otherRsa.publicKey);
    assert.equal(reasonOf(await decryptToken(jwe, DEFAULTS, KEYS)), 'decryption_failed');
  });

  test('zip and crit are refused before decryption; a kid names the key', async () => {
    assert.equal(reasonOf(await decryptToken(forged({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', zip: 'DEF' }), DEFAULTS, KEYS)), 'unsupported_token');
    assert.equal(reasonOf(await decryptToken(forged({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', crit: ['exp'], exp: 1 }), DEFAULTS, KEYS)), 'unsupported_header');
    const jwe = await encrypt(await signed(), { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'enc-other' }, rsa.publicKey);
    assert.equal(reasonOf(await decryptToken(jwe, DEFAULTS, KEYS)), 'no_matching_key');
  });

  test('malformed: not five segments, padding, a header that is not JSON', async () => {
    for (const t of ['a.b.c', `${b64({ alg: 'RSA-OAEP-256' })}.a.b.c.d=`, 'bm90IGpzb24.a.b.c.d', `${b64({ alg: 'RSA-OAEP-256' })}.a.b.c.d`]) {
      assert.equal(reasonOf(await decryptToken(t, DEFAULTS, KEYS)), 'malformed_token', t);
    }
  });
});
