import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyToken } from '../../src/authn/verify-token.js';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { keyFitsAlg, keyRejection } from '../../src/keys/key-filter.js';
import { KeyRegistry, SOURCE_POLL_MS } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';
import { generateKey, jwksOf, makeIssuer, signRaw, signToken } from '../helpers/tokens.js';
import { captureLogs, elapse, statusOf } from './keys-support.js';

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
  const reg = new KeyRegistry({ logger: silentLogger(), scheduler: new FakeScheduler() });
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

  test('a binary secret is used byte for byte: a final 0x0a is kept and a leading "{" is not JSON', async () => {
    for (const [name, secret] of [
      ['ends-in-newline.bin', Buffer.concat([randomBytes(31).map((b) => b | 0x80), Buffer.from([0x0a])])],
      ['starts-with-brace.bin', Buffer.concat([Buffer.from('{'), randomBytes(32).map((b) => b | 0x80)])],
    ] as const) {
      const issuer = makeIssuer({ issuer: `https://${name}.test`, algorithms: ['HS256'], jwks: { secretPath: file(name, secret) } });
      const { reg, st } = await loaded(issuer);
      assert.equal(st.ready, true, name);
      assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, payload(issuer.issuer), secret, 'HS256')), 'ok', name);
      reg.close();
    }
  });

  test('a text secret loses its trailing newline, nothing else', async () => {
    const secret = `${randomBytes(24).toString('base64url')} with spaces`;
    const issuer = makeIssuer({ issuer: 'https://hs-text.test', algorithms: ['HS256'], jwks: { secretPath: file('text-secret.txt', `${secret}\r\n`) } });
    const { reg } = await loaded(issuer);
    assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, payload(issuer.issuer), Buffer.from(secret), 'HS256')), 'ok');
    assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, payload(issuer.issuer), Buffer.from(`${secret}\r\n`), 'HS256')), 'bad_signature');
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

describe('local key sources that change', () => {
  /** `poll()`: one poll interval passes and the read it started ends. */
  function watching(issuer: CompiledIssuer, logger = silentLogger()) {
    const clock = new FakeScheduler();
    const reg = new KeyRegistry({ logger, scheduler: clock });
    reg.sync([issuer]);
    return { reg, poll: () => elapse(clock, reg, SOURCE_POLL_MS) };
  }
  const sign = (issuer: CompiledIssuer, key: typeof rsa) => signToken(payload(issuer.issuer), { key });

  test('picks up a JWKS key file rewritten in place: the new key verifies, the removed one is denied', async () => {
    const path = file('rotating.json', JSON.stringify(jwksOf(rsa)));
    const issuer = makeIssuer({ issuer: 'https://file-rotation.test', jwks: { secretPath: path } });
    const logs = captureLogs();
    const { reg, poll } = watching(issuer, logs.logger);
    try {
      await reg.waitReady(5000);
      assert.equal(await check(reg, issuer, await sign(issuer, rsa)), 'ok');
      writeFileSync(path, JSON.stringify(jwksOf(ec)));
      await poll();
      assert.equal(statusOf(reg, issuer).keyIds.join(), 'ec', 'the new key file');
      assert.equal(await check(reg, issuer, await sign(issuer, ec)), 'ok');
      assert.equal(await check(reg, issuer, await sign(issuer, rsa)), 'unknown_kid');
      const changed = logs.lines.find((l) => l.msg === 'keys changed');
      assert.deepEqual([changed?.added, changed?.removed], [['ec'], ['rsa']]);
      assert.doesNotMatch(logs.raw(), new RegExp(String(ec.jwk.x).slice(0, 20)), 'no key material in the logs');
    } finally {
      reg.close();
    }
  });

  test('picks up a Kubernetes Secret volume update (..data symlink swap)', async () => {
    const vol = join(dir, 'secret-volume');
    mkdirSync(join(vol, '..v1'), { recursive: true });
    writeFileSync(join(vol, '..v1', 'jwks.json'), JSON.stringify(jwksOf(rsa)));
    symlinkSync('..v1', join(vol, '..data'));
    symlinkSync('..data/jwks.json', join(vol, 'jwks.json'));
    const issuer = makeIssuer({ issuer: 'https://k8s-volume.test', jwks: { secretPath: join(vol, 'jwks.json') } });
    const { reg, poll } = watching(issuer);
    try {
      await reg.waitReady(5000);
      assert.deepEqual(statusOf(reg, issuer).keyIds, ['rsa']);
      // What the kubelet's atomic writer does: a new timestamped dir, a new ..data link renamed over the old one.
      mkdirSync(join(vol, '..v2'));
      writeFileSync(join(vol, '..v2', 'jwks.json'), JSON.stringify(jwksOf(rsa, ec)));
      symlinkSync('..v2', join(vol, '..data_tmp'));
      renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
      await poll();
      assert.equal(statusOf(reg, issuer).keyCount, 2, 'the swapped volume');
      assert.equal(await check(reg, issuer, await sign(issuer, ec)), 'ok');
    } finally {
      reg.close();
    }
  });

  test('picks up a rotated HMAC secret file: the new secret verifies, the old one no longer does', async () => {
    const oldSecret = randomBytes(32);
    const newSecret = randomBytes(32);
    const path = file('hmac-rotating.bin', oldSecret);
    const issuer = makeIssuer({ issuer: 'https://hs-rotation.test', algorithms: ['HS256'], jwks: { secretPath: path } });
    const { reg, poll } = watching(issuer);
    try {
      await reg.waitReady(5000);
      const hs = (secret: Buffer) => signRaw({ alg: 'HS256' }, payload(issuer.issuer), secret, 'HS256');
      assert.equal(await check(reg, issuer, hs(oldSecret)), 'ok');
      const v1 = reg.keysVersion(issuer);
      writeFileSync(path + '.tmp', newSecret);
      renameSync(path + '.tmp', path);
      await poll();
      assert.notEqual(reg.keysVersion(issuer), v1, 'the new secret');
      assert.equal(await check(reg, issuer, hs(newSecret)), 'ok');
      assert.equal(await check(reg, issuer, hs(oldSecret)), 'bad_signature');
    } finally {
      reg.close();
    }
  });

  test('a key file that disappears or breaks keeps the last good keys, reports it, and recovers when fixed', async () => {
    const path = file('flaky.json', JSON.stringify(jwksOf(rsa)));
    const issuer = makeIssuer({ issuer: 'https://file-flaky.test', jwks: { secretPath: path } });
    const logs = captureLogs();
    const { reg, poll } = watching(issuer, logs.logger);
    try {
      await reg.waitReady(5000);
      unlinkSync(path);
      await poll();
      assert.equal(statusOf(reg, issuer).errorCode, 'unreadable', 'the missing file');
      let st = statusOf(reg, issuer);
      assert.deepEqual([st.source, st.state, st.ready, st.stale, st.keyCount], ['file', 'stale', true, true, 1]);
      assert.equal(await check(reg, issuer, await sign(issuer, rsa)), 'ok');
      writeFileSync(path, '{"keys": [');
      await poll();
      assert.equal(statusOf(reg, issuer).errorCode, 'invalid_jwks', 'the broken file');
      assert.equal(await check(reg, issuer, await sign(issuer, rsa)), 'ok');
      writeFileSync(path, JSON.stringify({ keys: [{ ...ec.jwk, use: 'enc' }] }));
      await poll();
      assert.equal(statusOf(reg, issuer).errorCode, 'no_usable_keys', 'the unusable file');
      const failures = statusOf(reg, issuer).failures;
      for (let i = 0; i < 3; i++) await poll();
      assert.equal(statusOf(reg, issuer).failures, failures + 3, 'more polls of the same file, each a failure');
      assert.deepEqual([statusOf(reg, issuer).state, statusOf(reg, issuer).keyIds], ['stale', ['rsa']], 'an unchanged bad file stays reported');
      writeFileSync(path, JSON.stringify(jwksOf(rsa)));
      await poll();
      assert.equal(statusOf(reg, issuer).state, 'fresh', 'recovery');
      st = statusOf(reg, issuer);
      assert.deepEqual([st.ready, st.stale, st.staleSeconds, st.error], [true, false, 0, undefined]);
      const states = logs.messages().filter((m) => m.startsWith('key'));
      assert.deepEqual(states, ['keys loaded', 'key refresh failed: serving last good keys', 'keys recovered'], 'one line per state change');
    } finally {
      reg.close();
    }
  });

  test('a touched but unchanged key file keeps the key-set version', async () => {
    const path = file('touched.json', JSON.stringify(jwksOf(rsa)));
    const issuer = makeIssuer({ issuer: 'https://file-touched.test', jwks: { secretPath: path } });
    const { reg, poll } = watching(issuer);
    try {
      await reg.waitReady(5000);
      const v = reg.keysVersion(issuer);
      const first = statusOf(reg, issuer).lastRefresh;
      const later = new Date(Date.now() + 5000);
      utimesSync(path, later, later);
      await poll();
      assert.notEqual(statusOf(reg, issuer).lastRefresh, first, 'a later check');
      assert.equal(reg.keysVersion(issuer), v);
    } finally {
      reg.close();
    }
  });
});

describe('HMAC secrets', () => {
  const hsPayload = (iss: string) => payload(iss);

  test('are used only for the HS* algorithms the issuer lists', async () => {
    const secret = randomBytes(64);
    const issuer = makeIssuer({ issuer: 'https://hs-listed.test', algorithms: ['HS512'], jwks: { secretPath: file('hs512.bin', secret) } });
    const { reg } = await loaded(issuer);
    assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, hsPayload(issuer.issuer), secret, 'HS256')), 'alg_not_allowed');
    reg.close();
  });

  test('must be at least as long as the hash: a 32-byte secret serves HS256, never HS384', async () => {
    const secret = randomBytes(32);
    const issuer = makeIssuer({ issuer: 'https://hs-length.test', algorithms: ['HS256', 'HS384'], jwks: { secretPath: file('hs-32.bin', secret) } });
    const { reg } = await loaded(issuer);
    assert.equal(await check(reg, issuer, signRaw({ alg: 'HS256' }, hsPayload(issuer.issuer), secret, 'HS256')), 'ok');
    const r = await reg.resolve(issuer, { alg: 'HS384' });
    assert.equal(r.ok ? 'ok' : r.reason, 'no_matching_key');
    reg.close();
  });

  test('refuses a secret of 31 bytes, even as a JWKS oct key', async () => {
    const k = randomBytes(31).toString('base64url');
    const issuer = makeIssuer({ issuer: 'https://hs-short.test', algorithms: ['HS256'], jwks: { secretPath: file('hs-31.json', JSON.stringify({ keys: [{ kty: 'oct', k, kid: 'h' }] })) } });
    const { reg, st } = await loaded(issuer);
    assert.deepEqual([st.ready, st.errorCode], [false, 'no_usable_keys']);
    reg.close();
  });
});
