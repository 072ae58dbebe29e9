import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DIGEST_BYTES, VerdictTable } from '../../src/authn/verdict-table.js';
import { mulberry32 } from '../helpers/prng.js';

const digest = (s: string) => createHash('sha256').update(s).digest('binary');

/** A digest whose first bytes (the slot hash) are chosen: forces probe runs, wrap-around and shifts. */
function crafted(slotBytes: number, rest: number): string {
  const b = Buffer.alloc(DIGEST_BYTES);
  b.writeUInt32LE(slotBytes >>> 0, 0);
  b.writeUInt32LE(rest >>> 0, 4);
  return b.toString('binary');
}

describe('verdict table', () => {
  test('finds what was set, with its tag and stale time; misses what was not', () => {
    const t = new VerdictTable(4);
    t.set(digest('a'), 7, 1000.5);
    t.set(digest('b'), 8, 2000);
    const a = t.find(digest('a'));
    assert.ok(a >= 0);
    assert.equal(t.tagOf(a), 7);
    assert.equal(t.staleAfterOf(a), 1000.5);
    assert.equal(t.tagOf(t.find(digest('b'))), 8);
    assert.equal(t.find(digest('c')), -1);
    t.set(digest('a'), 9, 3000);
    assert.equal(t.size, 2, 'setting again updates in place');
    assert.equal(t.tagOf(t.find(digest('a'))), 9);
  });

  test('a digest differing in its last byte only is another entry', () => {
    const t = new VerdictTable(4);
    const d = digest('x');
    const twin = d.slice(0, DIGEST_BYTES - 1) + String.fromCharCode(d.charCodeAt(DIGEST_BYTES - 1) ^ 1);
    t.set(d, 1, 0);
    assert.equal(t.find(twin), -1);
    t.set(twin, 2, 0);
    assert.equal(t.tagOf(t.find(d)), 1);
    assert.equal(t.tagOf(t.find(twin)), 2);
  });

  test('when full, the oldest insert is replaced', () => {
    const t = new VerdictTable(3);
    for (const k of ['a', 'b', 'c', 'd']) t.set(digest(k), 0, 0);
    assert.equal(t.size, 3);
    assert.equal(t.find(digest('a')), -1);
    for (const k of ['b', 'c', 'd']) assert.ok(t.find(digest(k)) >= 0, k);
  });

  test('capacity 0 keeps nothing', () => {
    const t = new VerdictTable(0);
    t.set(digest('a'), 1, 1);
    assert.equal(t.find(digest('a')), -1);
    assert.equal(t.size, 0);
  });

  test('agrees with a Map model over random sets, deletes and ring evictions, colliding slots included', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = mulberry32(seed);
      const capacity = 1 + Math.floor(rand() * 40);
      const t = new VerdictTable(capacity);
      // The model: a Map plus the ring of positions (a deleted entry's room is reused when the ring comes round to it).
      const model = new Map<string, number>();
      const ring: (string | undefined)[] = new Array(capacity).fill(undefined);
      let next = 0;
      const keys = Array.from({ length: capacity * 3 }, (_, i) => (i % 2 ? digest(`${seed}-${i}`) : crafted(Math.floor(rand() * 8) | (i % 4 === 0 ? 0xffffffff : 0), i)));
      for (let step = 0; step < 4000; step++) {
        const k = keys[Math.floor(rand() * keys.length)]!;
        const op = rand();
        if (op < 0.55) {
          const tag = Math.floor(rand() * 1000);
          if (!model.has(k)) {
            const old = ring[next];
            if (old !== undefined) model.delete(old);
            ring[next] = k;
            next = (next + 1) % capacity;
          }
          model.set(k, tag);
          t.set(k, tag, step);
        } else if (op < 0.75) {
          if (model.delete(k)) ring[ring.indexOf(k)] = undefined;
          t.delete(k);
        } else if (op < 0.76) {
          model.clear();
          ring.fill(undefined);
          next = 0;
          t.clear();
        }
        assert.equal(t.size, model.size, `seed ${seed} step ${step}`);
        const e = t.find(k);
        assert.equal(e >= 0 ? t.tagOf(e) : undefined, model.get(k), `seed ${seed} step ${step}`);
      }
      for (const k of keys) {
        const e = t.find(k);
        assert.equal(e >= 0 ? t.tagOf(e) : undefined, model.get(k));
      }
    }
  });
});
