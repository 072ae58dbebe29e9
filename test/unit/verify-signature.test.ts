import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHmac, createSecretKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { CompactSign, importJWK } from 'jose';
import { verifySignature } from '../../src/authn/verify-signature.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const ed = generateKeyPairSync('ed25519');
const secret64 = randomBytes(64);

const input = (payload: Record<string, unknown> = { sub: 'u', n: Math.random() }, alg = 'RS256') =>
  `${Buffer.from(JSON.stringify({ alg })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
const join = (signingInput: string, sig: Buffer) => `${signingInput}.${sig.toString('base64url')}`;

type SignFn = (data: Buffer) => Buffer;
interface AlgCase {
  alg: string;
  pub: KeyObject;
  signWith: SignFn;
}

const rsaSign = (hash: string, pss: boolean, key = rsa.privateKey, saltLength?: number): SignFn => (d) =>
  sign(hash, d, pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: saltLength ?? { sha256: 32, sha384: 48, sha512: 64 }[hash]! } : key);
const ecSign = (hash: string, key: KeyObject): SignFn => (d) => sign(hash, d, { key, dsaEncoding: 'ieee-p1363' });
const hmac = (hash: string, key: Buffer): SignFn => (d) => createHmac(hash, key).update(d).digest();

const CASES: AlgCase[] = [
  { alg: 'RS256', pub: rsa.publicKey, signWith: rsaSign('sha256', false) },
  { alg: 'RS384', pub: rsa.publicKey, signWith: rsaSign('sha384', false) },
  { alg: 'RS512', pub: rsa.publicKey, signWith: rsaSign('sha512', false) },
  { alg: 'PS256', pub: rsa.publicKey, signWith: rsaSign('sha256', true) },
  { alg: 'PS384', pub: rsa.publicKey, signWith: rsaSign('sha384', true) },
  { alg: 'PS512', pub: rsa.publicKey, signWith: rsaSign('sha512', true) },
  { alg: 'ES256', pub: p256.publicKey, signWith: ecSign('sha256', p256.privateKey) },
  { alg: 'ES384', pub: p384.publicKey, signWith: ecSign('sha384', p384.privateKey) },
  { alg: 'ES512', pub: p521.publicKey, signWith: ecSign('sha512', p521.privateKey) },
  { alg: 'EdDSA', pub: ed.publicKey, signWith: (d) => sign(null, d, ed.privateKey) },
  { alg: 'Ed25519', pub: ed.publicKey, signWith: (d) => sign(null, d, ed.privateKey) },
  { alg: 'HS256', pub: createSecretKey(secret64.subarray(0, 32)), signWith: hmac('sha256', secret64.subarray(0, 32)) },
  { alg: 'HS384', pub: createSecretKey(secret64.subarray(0, 48)), signWith: hmac('sha384', secret64.subarray(0, 48)) },
  { alg: 'HS512', pub: createSecretKey(secret64), signWith: hmac('sha512', secret64) },
];

const signed = (c: AlgCase, payload?: Record<string, unknown>) => {
  const si = input(payload, c.alg);
  return join(si, c.signWith(Buffer.from(si)));
};

describe('verifySignature accepts exactly the right signature', () => {
  for (const c of CASES) {
    test(`${c.alg}: valid, then tampered payload, signature bit and truncation all fail`, async () => {
      const token = signed(c);
      assert.equal(verifySignature(token, c.pub, c.alg), true);
      const [h, p, s] = token.split('.') as [string, string, string];
      const otherPayload = Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url');
      assert.equal(verifySignature(`${h}.${otherPayload}.${s}`, c.pub, c.alg), false, 'payload swapped');
      const sig = Buffer.from(s, 'base64url');
      sig[sig.length >> 1]! ^= 0x01;
      assert.equal(verifySignature(`${h}.${p}.${sig.toString('base64url')}`, c.pub, c.alg), false, 'bit flipped');
      assert.equal(verifySignature(`${h}.${p}.${sig.subarray(1).toString('base64url')}`, c.pub, c.alg), false, 'one byte short');
      assert.equal(verifySignature(`${h}.${p}.`, c.pub, c.alg), false, 'empty signature');
    });
  }

  test('tokens signed by jose verify, through keys imported by jose (CryptoKey and secret bytes)', async () => {
    for (const c of CASES.filter((x) => !x.alg.startsWith('HS') && x.alg !== 'Ed25519')) {
      const priv = c.pub === rsa.publicKey ? rsa.privateKey : c.pub === p256.publicKey ? p256.privateKey : c.pub === p384.publicKey ? p384.privateKey : c.pub === p521.publicKey ? p521.privateKey : ed.privateKey;
      const token = await new CompactSign(Buffer.from('{"sub":"x"}')).setProtectedHeader({ alg: c.alg }).sign(priv);
      const imported = await importJWK(c.pub.export({ format: 'jwk' }), c.alg);
      assert.equal(verifySignature(token, imported as CryptoKey, c.alg), true, c.alg);
    }
    const hs = await new CompactSign(Buffer.from('{"sub":"x"}')).setProtectedHeader({ alg: 'HS256' }).sign(secret64.subarray(0, 32));
    assert.equal(verifySignature(hs, new Uint8Array(secret64.subarray(0, 32)), 'HS256'), true);
  });
});

const rs = CASES[0]!;

describe('verifySignature refuses keys that do not belong to the algorithm', () => {
  test('every key of another type or curve fails every algorithm but its own', async () => {
    const keys: [string, KeyObject][] = [
      ['rsa', rsa.publicKey], ['p256', p256.publicKey], ['p384', p384.publicKey], ['p521', p521.publicKey], ['ed25519', ed.publicKey],
      ['oct32', createSecretKey(secret64.subarray(0, 32))],
    ];
    const fits: Record<string, string[]> = {
      rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], p256: ['ES256'], p384: ['ES384'], p521: ['ES512'], ed25519: ['EdDSA', 'Ed25519'], oct32: ['HS256'],
    };
    let checked = 0;
    for (const c of CASES) {
      const token = signed(c);
      for (const [name, key] of keys) {
        if (fits[name]!.includes(c.alg)) continue;
        assert.equal(verifySignature(token, key, c.alg), false, `${c.alg} with ${name}`);
        checked++;
      }
    }
    assert.ok(checked >= 60, `${checked} mismatches checked`);
  });

  test('HS256 keyed with the RSA public key bytes (algorithm confusion) fails when given the RSA key', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const forged = join(input({ sub: 'admin' }, 'HS256'), createHmac('sha256', pem).update(input({ sub: 'admin' }, 'HS256')).digest());
    assert.equal(verifySignature(forged, rsa.publicKey, 'HS256'), false);
    assert.equal(verifySignature(forged, rsa.publicKey, 'RS256'), false);
  });

  test('an RSA key under 2048 bits fails even with a correct signature', async () => {
    const token = signed({ ...rs, pub: rsa1024.publicKey, signWith: rsaSign('sha256', false, rsa1024.privateKey) });
    assert.equal(verifySignature(token, rsa1024.publicKey, 'RS256'), false);
  });

  test('a private key or an HMAC key shorter than the hash is never a verification key', async () => {
    assert.equal(verifySignature(signed(rs), rsa.privateKey, 'RS256'), false);
    const short = secret64.subarray(0, 31);
    const token = signed({ alg: 'HS256', pub: createSecretKey(short), signWith: hmac('sha256', short) });
    assert.equal(verifySignature(token, createSecretKey(short), 'HS256'), false);
    const k48 = secret64.subarray(0, 48);
    const hs512 = signed({ alg: 'HS512', pub: createSecretKey(k48), signWith: hmac('sha512', k48) });
    assert.equal(verifySignature(hs512, createSecretKey(k48), 'HS512'), false, 'HS512 needs 64 bytes');
  });

  test('unknown algorithms and none never verify', async () => {
    const token = signed(rs);
    for (const alg of ['none', 'None', 'RS1', 'rs256', 'HS1', 'ES256K', '']) assert.equal(verifySignature(token, rsa.publicKey, alg), false, alg);
  });
});

describe('verifySignature is strict about encodings', () => {
  test('PSS signatures with a salt other than the digest length fail', async () => {
    for (const salt of [0, 20, 64]) {
      const token = signed({ alg: 'PS256', pub: rsa.publicKey, signWith: rsaSign('sha256', true, rsa.privateKey, salt) });
      assert.equal(verifySignature(token, rsa.publicKey, 'PS256'), false, `salt ${salt}`);
    }
  });

  test('an RS256 signature with its leading zero octet dropped fails', async () => {
    let token: string | undefined;
    for (let i = 0; i < 5000 && !token; i++) {
      const si = input({ n: i }, 'RS256');
      const sig = sign('sha256', Buffer.from(si), rsa.privateKey);
      if (sig[0] === 0) token = join(si, sig.subarray(1));
    }
    assert.ok(token, 'found a signature starting with 0x00');
    assert.equal(verifySignature(token, rsa.publicKey, 'RS256'), false);
  });

  test('ECDSA signatures in DER instead of R||S fail', async () => {
    const si = input({ sub: 'u' }, 'ES256');
    const der = sign('sha256', Buffer.from(si), { key: p256.privateKey, dsaEncoding: 'der' });
    assert.equal(verifySignature(join(si, der), p256.publicKey, 'ES256'), false);
    const p1363 = sign('sha256', Buffer.from(si), { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(verifySignature(join(si, Buffer.concat([p1363, Buffer.from([0])])), p256.publicKey, 'ES256'), false, 'one byte long');
  });

  test('tokens without three parts never verify', async () => {
    const token = signed(rs);
    const [h, p, s] = token.split('.') as [string, string, string];
    for (const t of ['', '.', `${h}`, `${h}.${s}`, `.${p}.${s}`]) assert.equal(verifySignature(t, rsa.publicKey, 'RS256'), false, JSON.stringify(t.slice(0, 10)));
  });
});
