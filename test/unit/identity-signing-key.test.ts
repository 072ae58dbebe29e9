/** --identity-key-dir files: which keys load, with which alg, and what the JWKS shows of them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readSigningKey } from '../../src/identity/signing-key.js';

const pem = (k: { privateKey: import('node:crypto').KeyObject }, type: 'pkcs8' | 'sec1' | 'pkcs1' = 'pkcs8') => k.privateKey.export({ format: 'pem', type } as never) as string;
const jwk = (k: { privateKey: import('node:crypto').KeyObject }, extra: Record<string, unknown> = {}) => JSON.stringify({ ...k.privateKey.export({ format: 'jwk' }), ...extra });
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

describe('identity signing keys', () => {
  test('P-256 (PKCS#8 and SEC1), Ed25519, RSA and a PS256 JWK load with their alg; a PEM takes its file name as kid', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cases: [string, string, string, string][] = [
      ['edge-1.pem', pem(ec), 'edge-1', 'ES256'],
      ['edge-sec1.pem', pem(ec, 'sec1'), 'edge-sec1', 'ES256'],
      ['ed.pem', pem(ed), 'ed', 'EdDSA'],
      ['rsa.pem', pem(rsa, 'pkcs1'), 'rsa', 'RS256'],
      ['rsa.json', jwk(rsa, { kid: 'pss-1', alg: 'PS256' }), 'pss-1', 'PS256'],
      ['ec.json', jwk(ec, { kid: 'ec-json' }), 'ec-json', 'ES256'],
    ];
    for (const [file, text, kid, alg] of cases) {
      const r = readSigningKey(file, text);
      assert.ok(r.ok, `${file}: ${JSON.stringify(r)}`);
      assert.equal(r.key.kid, kid);
      assert.equal(r.key.alg, alg);
      assert.deepEqual([r.key.publicJwk.kid, r.key.publicJwk.alg, r.key.publicJwk.use], [kid, alg, 'sig']);
      for (const m of PRIVATE) assert.equal(r.key.publicJwk[m], undefined, `${file}: ${m} is private`);
    }
  });

  test('refused with a reason that quotes nothing of the file: other curves, small RSA, public keys, no kid, a wrong alg, garbage', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cases: [string, string, RegExp][] = [
      ['p384.pem', pem(p384), /only P-256/],
      ['small.pem', pem(small), /1024 bits; at least 2048/],
      ['public.pem', ec.publicKey.export({ format: 'pem', type: 'spki' }) as string, /cannot be read as a private key/],
      ['public.json', JSON.stringify({ ...ec.publicKey.export({ format: 'jwk' }), kid: 'p' }), /not a private key/],
      ['nokid.json', jwk(ec), /has no kid/],
      ['bad kid!.pem', pem(ec), /has no kid/],
      ['wrong.json', jwk(ec, { kid: 'w', alg: 'RS256' }), /does not fit/],
      ['garbage.pem', 'SECRET-MATERIAL-123', /cannot be read/],
      ['garbage.json', '{"d": "SECRET-MATERIAL-123"', /cannot be read/],
    ];
    for (const [file, text, why] of cases) {
      const r = readSigningKey(file, text);
      assert.equal(r.ok, false, file);
      if (!r.ok) {
        assert.match(r.problem, why, file);
        assert.ok(!r.problem.includes('SECRET') && !r.problem.includes('BEGIN'), `${file}: ${r.problem}`);
      }
    }
  });
});
