import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyToken } from '../../src/authn/verify-token.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { keyFitsAlg, keyRejection } from '../../src/keys/key-filter.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { generateKey, jwksOf, makeIssuer, signRaw, signToken } from '../helpers/tokens.js';

const NOW = 1_800_000_000;
const dir = mkdtempSync(join(tmpdir(), 'claimcheck-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rsa = generateKey('RS256', 'rsa');
const ec = generateKey('ES256', 'ec');
const ed = generateKey('EdDSA', 'ed');
const es384 = generateKey('ES384', 'ec384');
const es512 = generateKey('ES512', 'ec512');

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function loaded(issuer: CompiledIssuer) {
  const reg = new KeyRegistry({ logger: silentLogger() });
  reg.sync([issuer]);
  await reg.waitReady(5000);
  return { reg, st: reg.status()[0]! };
}

async function check(reg: KeyRegistry, issuer: CompiledIssuer, token: string) {
  const r = await verifyToken(token, [issuer], reg, { nowSec: NOW, maxTokenBytes: 16384 });
  return r.ok ? 'ok' : r.reason;
}

const payload = (iss: string) => ({ iss, aud: 'api', exp: NOW + 60 });

describe('local key sources', () => {
  test('verifies with an inline JWKS', async () => {
    const issuer = makeIssuer({ issuer: 'https://inline.test', jwks: { inline: jwksOf(rsa, ec, ed) } });
    const { reg, st } = await loaded(issuer);
    assert.deepEqual([st.ready, st.keyCount], [true, 3]);
    for (const key of [rsa, ec, ed]) assert.equal(await check(reg, issuer, await signToken(payload(issuer.issuer), { key })), 'ok');
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
    const issuer = makeIssuer({ issuer: 'https://pem.test', jwks: { secretPath: file('keys.pem', pem) } });
    const { reg, st } = await loaded(issuer);
    assert.deepEqual([st.ready, st.keyCount], [true, 2]);
    assert.equal(await check(reg, issuer, await signToken(payload(issuer.issuer), { key: rsa, kid: null })), 'ok');
    assert.equal(await check(reg, issuer, await signToken(payload(issuer.issuer), { key: ec, kid: 'whatever' })), 'ok');
    reg.close();
  });

  test('refuses a key file that holds a private key', async () => {
    const issuer = makeIssuer({ jwks: { secretPath: file('priv.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, false);
    assert.match(st.error ?? '', /private/);
    reg.close();
  });

  test('verifies HS256 with a raw secret file of 32 bytes or more', async () => {
    const secret = randomBytes(32);
    const issuer = makeIssuer({ issuer: 'https://hs.test', algorithms: ['HS256'], jwks: { secretPath: file('secret.bin', secret) } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, true);
    assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, payload(issuer.issuer), secret, 'HS256')), 'ok');
    assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, payload(issuer.issuer), randomBytes(32), 'HS256')), 'bad_signature');
    reg.close();
  });

  test('refuses an HMAC secret shorter than 32 bytes', async () => {
    const issuer = makeIssuer({ algorithms: ['HS256'], jwks: { secretPath: file('short.bin', 'too-short-secret\n') } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.ready, false);
    reg.close();
  });

  test('reads a JWKS file and leaves out keys with private members', async () => {
    const jwks = { keys: [rsa.jwk, { ...(ec.privateKey.export({ format: 'jwk' }) as object), kid: 'ec' }] };
    const issuer = makeIssuer({ issuer: 'https://jwks-file.test', jwks: { secretPath: file('jwks.json', JSON.stringify(jwks)) } });
    const { reg, st } = await loaded(issuer);
    assert.equal(st.keyCount, 1);
    assert.equal(await check(reg, issuer, await signToken(payload(issuer.issuer), { key: ec })), 'unknown_kid');
    reg.close();
  });

  test('reports an unreadable key file as keys unavailable', async () => {
    const issuer = makeIssuer({ jwks: { secretPath: join(dir, 'missing.json') } });
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
