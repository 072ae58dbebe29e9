import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lru } from '../../src/authn/lru.js';

const v = () => ({ lruTick: 0 });

describe('Lru', () => {
  test('never holds more than its capacity and evicts the oldest untouched key first', () => {
    const lru = new Lru<number, { lruTick: number }>(8);
    for (let i = 0; i < 20; i++) lru.set(i, v());
    assert.equal(lru.size, 8);
    for (let i = 0; i < 12; i++) assert.equal(lru.has(i), false, `${i} evicted`);
    for (let i = 12; i < 20; i++) assert.equal(lru.has(i), true, `${i} kept`);
  });

  test('capacity 0 holds nothing', () => {
    const lru = new Lru<string, { lruTick: number }>(0);
    lru.set('a', v());
    assert.equal(lru.size, 0);
    assert.equal(lru.get('a'), undefined);
  });

  test('a hit key outlives capacity/2 - 1 further inserts and moves (random workload)', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (const capacity of [1, 2, 3, 8, 40, 100]) {
      const lru = new Lru<number, { lruTick: number }>(capacity);
      // ops (inserts + moves) at each key's last hit, and the op counter
      const lastHit = new Map<number, number>();
      let ops = 0;
      let next = 0;
      let evictionsChecked = 0;
      for (let step = 0; step < 20_000; step++) {
        if (rnd(3) === 0 || lru.size === 0) {
          const before = new Set([...lastHit.keys()].filter((k) => lru.has(k)));
          lru.set(next++, v());
          ops++;
          for (const k of before) {
            if (lru.has(k)) continue;
            evictionsChecked++;
            assert.ok(ops - lastHit.get(k)! >= Math.floor(capacity / 2) - 1, `capacity ${capacity}: key ${k} evicted ${ops - lastHit.get(k)!} ops after its hit`);
            lastHit.delete(k);
          }
        } else {
          const k = next - 1 - rnd(Math.min(next, capacity * 2));
          const size = lru.size;
          const hit = lru.get(k);
          assert.equal(lru.size, size, 'a get never changes the size');
          if (hit) {
            // a move counts as an op too; it happened when the stamp is the newest
            if (hit.lruTick === ops + 1) ops++;
            lastHit.set(k, ops);
          }
        }
      }
      assert.ok(capacity < 3 || evictionsChecked > 100, `capacity ${capacity}: ${evictionsChecked} evictions of hit keys checked`);
    }
  });
});
