/** Local key files and Secret volumes that change under a running key set: picked up at the next poll. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledIssuer } from '../../src/compile/snapshot.js';
import { KeyRegistry, SOURCE_POLL_MS } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';
import { generateKey, jwksOf, makeIssuer, signRaw, signToken } from '../helpers/tokens.js';
import { captureLogs, claimsAt, elapse, keyFile, keyFileDir, statusOf, verdict } from './keys-support.js';

const rsa = generateKey('RS256', 'rsa');
const ec = generateKey('ES256', 'ec');

describe('local key sources that change', () => {
  /** `poll()`: one poll interval passes and the read it started ends. */
  function watching(issuer: CompiledIssuer, logger = silentLogger()) {
    const clock = new FakeScheduler();
    const reg = new KeyRegistry({ logger, scheduler: clock });
    reg.sync([issuer]);
    return { reg, poll: () => elapse(clock, reg, SOURCE_POLL_MS) };
  }
  const sign = (issuer: CompiledIssuer, key: typeof rsa) => signToken(claimsAt(issuer.issuer), { key });

  test('picks up a JWKS key file rewritten in place: the new key verifies, the removed one is denied', async () => {
    const path = keyFile('rotating.json', JSON.stringify(jwksOf(rsa)));
    const issuer = makeIssuer({ issuer: 'https://file-rotation.test', jwks: { secretPath: path } });
    const logs = captureLogs();
    const { reg, poll } = watching(issuer, logs.logger);
    try {
      await reg.waitReady(5000);
      assert.equal(await verdict(reg, issuer, await sign(issuer, rsa)), 'ok');
      writeFileSync(path, JSON.stringify(jwksOf(ec)));
      await poll();
      assert.equal(statusOf(reg, issuer).keyIds.join(), 'ec', 'the new key file');
      assert.equal(await verdict(reg, issuer, await sign(issuer, ec)), 'ok');
      assert.equal(await verdict(reg, issuer, await sign(issuer, rsa)), 'unknown_kid');
      const changed = logs.lines.find((l) => l.msg === 'keys changed');
      assert.deepEqual([changed?.added, changed?.removed], [['ec'], ['rsa']]);
      assert.doesNotMatch(logs.raw(), new RegExp(String(ec.jwk.x).slice(0, 20)), 'no key material in the logs');
    } finally {
      reg.close();
    }
  });

  test('picks up a Kubernetes Secret volume update (..data symlink swap)', async () => {
    const vol = join(keyFileDir(), 'secret-volume');
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
      assert.equal(await verdict(reg, issuer, await sign(issuer, ec)), 'ok');
    } finally {
      reg.close();
    }
  });

  test('picks up a rotated HMAC secret file: the new secret verifies, the old one no longer does', async () => {
    const oldSecret = randomBytes(32);
    const newSecret = randomBytes(32);
    const path = keyFile('hmac-rotating.bin', oldSecret);
    const issuer = makeIssuer({ issuer: 'https://hs-rotation.test', algorithms: ['HS256'], jwks: { secretPath: path } });
    const { reg, poll } = watching(issuer);
    try {
      await reg.waitReady(5000);
      const hs = (secret: Buffer) => signRaw({ alg: 'HS256' }, claimsAt(issuer.issuer), secret, 'HS256');
      assert.equal(await verdict(reg, issuer, hs(oldSecret)), 'ok');
      const v1 = reg.keysVersion(issuer);
      writeFileSync(path + '.tmp', newSecret);
      renameSync(path + '.tmp', path);
      await poll();
      assert.notEqual(reg.keysVersion(issuer), v1, 'the new secret');
      assert.equal(await verdict(reg, issuer, hs(newSecret)), 'ok');
      assert.equal(await verdict(reg, issuer, hs(oldSecret)), 'bad_signature');
    } finally {
      reg.close();
    }
  });

  test('a key file that disappears or breaks keeps the last good keys, reports it, and recovers when fixed', async () => {
    const path = keyFile('flaky.json', JSON.stringify(jwksOf(rsa)));
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
      assert.equal(await verdict(reg, issuer, await sign(issuer, rsa)), 'ok');
      writeFileSync(path, '{"keys": [');
      await poll();
      assert.equal(statusOf(reg, issuer).errorCode, 'invalid_jwks', 'the broken file');
      assert.equal(await verdict(reg, issuer, await sign(issuer, rsa)), 'ok');
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
    const path = keyFile('touched.json', JSON.stringify(jwksOf(rsa)));
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
