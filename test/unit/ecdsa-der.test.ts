/** JOSE's R||S ECDSA signatures as DER (authn/verify-signature.ts p1363ToDer), against node's own conversion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { p1363ToDer } from '../../src/authn/verify-signature.js';

const CURVES = [['P-256', 'sha256', 64], ['P-384', 'sha384', 96], ['P-521', 'sha512', 132]] as const;

test('every R||S signature, as DER, verifies for its message only, leading zeros and high bits included', () => {
  for (const [curve, hash, size] of CURVES) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    let zeros = 0;
    for (let i = 0; i < 400; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.equal(raw.length, size);
      if (raw[0] === 0 || raw[size / 2] === 0) zeros++;
      const der = p1363ToDer(raw);
      assert.ok(verify(hash, data, publicKey, der), `${curve} #${i}`);
      assert.ok(!verify(hash, Buffer.from(`other ${i}`), publicKey, der), `${curve} #${i}: another message`);
    }
    // the cases the minimal-INTEGER rule is for turn up by themselves now and then; P-521's top byte is mostly zero
    if (curve === 'P-521') assert.ok(zeros > 100, `${curve}: ${zeros}`);
  }
});

test('r or s of zero, and a flipped bit, never verify', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('m');
  const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const zeroR = Buffer.concat([Buffer.alloc(32), raw.subarray(32)]);
  const zeroS = Buffer.concat([raw.subarray(0, 32), Buffer.alloc(32)]);
  assert.ok(!verify('sha256', data, publicKey, p1363ToDer(zeroR)));
  assert.ok(!verify('sha256', data, publicKey, p1363ToDer(zeroS)));
  const flipped = Buffer.from(raw);
  flipped[40]! ^= 1;
  assert.ok(!verify('sha256', data, publicKey, p1363ToDer(flipped)));
});
