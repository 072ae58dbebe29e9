/** Stateless DPoP nonces (authn/dpop-nonce.ts) and the memory replay store (authn/replay-store.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpopNonces, NONCE_WINDOW_SEC, nonceSecretFrom } from '../../src/authn/dpop-nonce.js';
import { MemoryReplayStore, proofId } from '../../src/authn/replay-store.js';

const SECRET = Buffer.alloc(32, 1);

describe('DPoP nonces', () => {
  test('a replica with the same secret accepts another replica\'s nonce; one with another secret does not', () => {
    let now = 1_800_000_000_000;
    const a = new DpopNonces(SECRET, () => now);
    const b = new DpopNonces(Buffer.from(SECRET), () => now);
    const stranger = new DpopNonces(Buffer.alloc(32, 2), () => now);
    const n = a.current();
    assert.equal(b.check(n), 'ok');
    assert.equal(stranger.check(n), 'stale');
    assert.equal(a.check(undefined), 'missing');
    now += 1000;
    assert.equal(a.current(), n, 'the same nonce through its window');
  });

  test('valid in its window and the next, stale after', () => {
    let now = Math.ceil(1_800_000_000 / NONCE_WINDOW_SEC) * NONCE_WINDOW_SEC * 1000;
    const nonces = new DpopNonces(SECRET, () => now);
    const n = nonces.current();
    now += NONCE_WINDOW_SEC * 1000;
    assert.equal(nonces.check(n), 'ok', 'the next window');
    assert.notEqual(nonces.current(), n, 'a new nonce is handed out');
    now += NONCE_WINDOW_SEC * 1000;
    assert.equal(nonces.check(n), 'stale', 'two windows later');
  });

  test('a changed byte, another length or a non-canonical spelling is stale', () => {
    const nonces = new DpopNonces(SECRET);
    const n = nonces.current();
    const raw = Buffer.from(n, 'base64url');
    raw[raw.length - 1]! ^= 1;
    assert.equal(nonces.check(raw.toString('base64url')), 'stale');
    assert.equal(nonces.check(n.slice(0, -2)), 'stale');
    assert.equal(nonces.check(`${n}A`), 'stale');
    assert.equal(nonces.check('!!!'), 'stale');
  });

  test('a secret shorter than 32 bytes is refused; a file\'s trailing newline is not part of it', () => {
    assert.throws(() => new DpopNonces(Buffer.alloc(31)), /at least 32 bytes/);
    assert.deepEqual(nonceSecretFrom(Buffer.from('abc\n')), Buffer.from('abc'));
    assert.deepEqual(nonceSecretFrom(Buffer.from('abc\r\n')), Buffer.from('abc'));
    assert.deepEqual(nonceSecretFrom(Buffer.from('abc')), Buffer.from('abc'));
  });
});

describe('memory replay store', () => {
  test('a proof id is first once, then replayed until its time is up', () => {
    let now = 0;
    const store = new MemoryReplayStore(10, () => now);
    const id = proofId('jkt-1', 'jti-1');
    assert.equal(store.claim(id, 65_000), 'first');
    assert.equal(store.claim(id, 65_000), 'replayed');
    assert.equal(store.claim(proofId('jkt-2', 'jti-1'), 65_000), 'first', 'the same jti of another key is another proof');
    now = 65_000;
    assert.equal(store.claim(id, 65_000), 'first', 'past its window');
  });

  test('bounded: when every remembered proof is live, a new one is unavailable, not a forgotten one', () => {
    let now = 0;
    const store = new MemoryReplayStore(3, () => now);
    for (let i = 0; i < 3; i++) assert.equal(store.claim(`p${i}`, 1000), 'first');
    assert.equal(store.claim('p3', 1000), 'unavailable');
    assert.equal(store.claim('p0', 1000), 'replayed', 'nothing was forgotten');
    now = 1000;
    assert.equal(store.claim('p3', 1000), 'first', 'expired ones make room');
    assert.equal(store.size, 1);
  });
});
