/** Key sources read from the configuration or a key file: inline JWKS, PEM, JWKS files, HMAC secrets; which keys fit which algorithms. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { keyFitsAlg, keyRejection } from '../../src/keys/key-filter.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';
import { generateKey, jwksOf, makeIssuer, signRaw, signToken } from '../helpers/tokens.js';
import { claimsAt, keyFile, keyFileDir, verdict } from './keys-support.js';

const rsa = generateKey('RS256', 'rsa');
const ec = generateKey('ES256', 'ec');
const ed = generateKey('EdDSA', 'ed');
const es384 = generateKey('ES384', 'ec384');
const es512 = generateKey('ES512', 'ec512');

async function loaded(issuer: CompiledIssuer) {
  const reg = new KeyRegistry({ logger: silentLogger(), scheduler: new FakeScheduler() });
  reg.sync([issuer]);
  await reg.waitReady(5000);
  return { reg, st: reg.status()[0]! };
}

describe('local key sources', () => {
  test('verifies with an inline JWKS', async () => {
    const issuer = makeIssuer({ issuer: 'https://inline.test', jwks: { inline: jwksOf(rsa, ec, ed) } });
    const { reg, st } = await loaded(issuer);
    assert.deepEqual([st.ready, st.keyCount], [true, 3]);
    for (const key of [rsa, ec, ed]) assert.equal(await verdict(reg, issuer, await signToken(claimsAt(issuer.issuer), { key })), 'ok');
    reg.close();
  });

  test('refuses a symmetric key in an inline JWKS', async () => {
    const issuer = makeIssuer({
      issuer: 'https://inline-hs.test',
      algorithms: ['HS256'],
      jwks: { inline: { keys: [{ kty: 'oct', k: randomBytes(32).toString('base64url') }] } },
    });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, false);
    reg.close();
  });

  test('verifies with PEM public keys and certificates from a key file, matching any kid', async () => {
    const pem = [rsa.publicKey.export({ type: 'spki', format: 'pem' }), ec.publicKey.export({ type: 'spki', format: 'pem' })].join('\n');
    const issuer = makeIssuer({ issuer: 'https://pem.test', jwks: { secretPath: keyFile('keys.pem', pem) } });
    const { reg, st } = await loaded(issuer);
    assert.deepEqual([st.ready, st.keyCount], [true, 2]);
    assert.equal(await verdict(reg, issuer, await signToken(claimsAt(issuer.issuer), { key: rsa, kid: null })), 'ok');
    assert.equal(await verdict(reg, issuer, await signToken(claimsAt(issuer.issuer), { key: ec, kid: 'whatever' })), 'ok');
    reg.close();
  });

  test('refuses a key file that holds a private key', async () => {
    const issuer = makeIssuer({ jwks: { secretPath: keyFile('priv.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, false);
    assert.match(st.error ?? '', /private/);
    reg.close();
  });

  test('verifies HS256 with a raw secret file of 32 bytes or more', async () => {
    const secret = randomBytes(32);
    const issuer = makeIssuer({ issuer: 'https://hs.test', algorithms: ['HS256'], jwks: { secretPath: keyFile('secret.bin', secret) } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, true);
    assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), secret, 'HS256')), 'ok');
    assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), randomBytes(32), 'HS256')), 'bad_signature');
    reg.close();
  });

  test('a binary secret is used byte for byte: a final 0x0a is kept and a leading "{" is not JSON', async () => {
    for (const [name, secret] of [
      ['ends-in-newline.bin', Buffer.concat([randomBytes(31).map((b) => b | 0x80), Buffer.from([0x0a])])],
      ['starts-with-brace.bin', Buffer.concat([Buffer.from('{'), randomBytes(32).map((b) => b | 0x80)])],
    ] as const) {
      const issuer = makeIssuer({ issuer: `https://${name}.test`, algorithms: ['HS256'], jwks: { secretPath: keyFile(name, secret) } });
      const { reg, st } = await loaded(issuer);
      assert.equal(st.ready, true, name);
      assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), secret, 'HS256')), 'ok', name);
      reg.close();
    }
  });

  test('a text secret loses its trailing newline, nothing else', async () => {
    const secret = `${randomBytes(24).toString('base64url')} with spaces`;
    const issuer = makeIssuer({ issuer: 'https://hs-text.test', algorithms: ['HS256'], jwks: { secretPath: keyFile('text-secret.txt', `${secret}\r\n`) } });
    const { reg } = await loaded(issuer);
    assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), Buffer.from(secret), 'HS256')), 'ok');
    assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), Buffer.from(`${secret}\r\n`), 'HS256')), 'bad_signature');
    reg.close();
  });

  test('refuses an HMAC secret shorter than 32 bytes', async () => {
    const issuer = makeIssuer({ algorithms: ['HS256'], jwks: { secretPath: keyFile('short.bin', 'too-short-secret\n') } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, false);
    reg.close();
  });

  test('reads a JWKS file and leaves out keys with private members', async () => {
    const jwks = { keys: [rsa.jwk, { ...(ec.privateKey.export({ format: 'jwk' }) as object), kid: 'ec' }] };
    const issuer = makeIssuer({ issuer: 'https://jwks-file.test', jwks: { secretPath: keyFile('jwks.json', JSON.stringify(jwks)) } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.keyCount, 1);
    assert.equal(await verdict(reg, issuer, await signToken(claimsAt(issuer.issuer), { key: ec })), 'unknown_kid');
    reg.close();
  });

  test('reports an unreadable key file as keys unavailable', async () => {
    const issuer = makeIssuer({ jwks: { secretPath: join(keyFileDir(), 'missing.json') } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, false);
    const r = await reg.resolve(issuer, { alg: 'RS256' });
    assert.deepEqual(r.ok ? r : [r.status, r.reason], ['unavailable', 'keys_unavailable']);
    reg.close();
  });
});

describe('key and algorithm compatibility', () => {
  const table: [string, Record<string, unknown>, string, boolean][] = [
    ['RSA for RS256', rsa.jwk, 'RS256', true],
    ['RSA for PS256 when the key says RS256', rsa.jwk, 'PS256', false],
    ['RSA without alg for PS384', { ...rsa.jwk, alg: undefined }, 'PS384', true],
    ['RSA for ES256', rsa.jwk, 'ES256', false],
    ['P-256 for ES256', ec.jwk, 'ES256', true],
    ['P-256 for ES384', { ...ec.jwk, alg: undefined }, 'ES384', false],
    ['P-384 for ES384', es384.jwk, 'ES384', true],
    ['P-521 for ES512', es512.jwk, 'ES512', true],
    ['Ed25519 for EdDSA', ed.jwk, 'EdDSA', true],
    ['Ed25519 labelled EdDSA for Ed25519', ed.jwk, 'Ed25519', true],
    ['Ed25519 for ES256', { ...ed.jwk, alg: undefined }, 'ES256', false],
    ['oct of 32 bytes for HS256', { kty: 'oct', k: randomBytes(32).toString('base64url') }, 'HS256', true],
    ['oct of 32 bytes for HS512', { kty: 'oct', k: randomBytes(32).toString('base64url') }, 'HS512', false],
    ['RSA for HS256', { ...rsa.jwk, alg: undefined }, 'HS256', false],
    ['any key for none', { ...rsa.jwk, alg: undefined }, 'none', false],
  ];
  for (const [name, jwk, alg, fits] of table) {
    test(`${fits ? 'fits' : 'does not fit'}: ${name}`, () => assert.equal(keyFitsAlg(jwk, alg), fits));
  }

  test('rejects keys with use enc, key_ops without verify, and private members', () => {
    assert.match(keyRejection({ ...rsa.jwk, use: 'enc' }, { symmetricAllowed: false }) ?? '', /use/);
    assert.match(keyRejection({ ...rsa.jwk, key_ops: ['encrypt'] }, { symmetricAllowed: false }) ?? '', /key_ops/);
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      assert.match(keyRejection({ ...rsa.jwk, [m]: 'AQAB' }, { symmetricAllowed: false }) ?? '', /private/, m);
    }
    assert.equal(keyRejection({ ...rsa.jwk, key_ops: ['verify'] }, { symmetricAllowed: false }), undefined);
  });
});

describe('HMAC secrets', () => {
  test('are used only for the HS* algorithms the issuer lists', async () => {
    const secret = randomBytes(64);
    const issuer = makeIssuer({ issuer: 'https://hs-listed.test', algorithms: ['HS512'], jwks: { secretPath: keyFile('hs512.bin', secret) } });
    const { reg } = await loaded(issuer);
    assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), secret, 'HS256')), 'alg_not_allowed');
    reg.close();
  });

  test('must be at least as long as the hash: a 32-byte secret serves HS256, never HS384', async () => {
    const secret = randomBytes(32);
    const issuer = makeIssuer({ issuer: 'https://hs-length.test', algorithms: ['HS256', 'HS384'], jwks: { secretPath: keyFile('hs-32.bin', secret) } });
    const { reg } = await loaded(issuer);
    assert.equal(await verdict(reg, issuer, signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), secret, 'HS256')), 'ok');
    const r = await reg.resolve(issuer, { alg: 'HS384' });
    assert.equal(r.ok ? 'ok' : r.reason, 'no_matching_key');
    reg.close();
  });

  test('refuses a secret of 31 bytes, even as a JWKS oct key', async () => {
    const k = randomBytes(31).toString('base64url');
    const issuer = makeIssuer({ issuer: 'https://hs-short.test', algorithms: ['HS256'], jwks: { secretPath: keyFile('hs-31.json', JSON.stringify({ keys: [{ kty: 'oct', k, kid: 'h' }] })) } });
    const { reg, st } = await loaded(issuer);
    assert.deepEqual([st.ready, st.errorCode], [false, 'no_usable_keys']);
    reg.close();
  });
});
