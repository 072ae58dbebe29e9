/** What the cache stamps on each value: when it last moved to the recent end. */
export interface LruStamped {
  lruTick: number;
}

/**
 * A bounded, nearly least-recently-used map. Map keeps insertion order, so re-inserting a
 * key moves it to the recent end and the first key is the one to evict.
 *
 * A hit re-inserts only when its key has drifted out of the most recent quarter (measured
 * in inserts and moves since it last moved): a delete plus a set on every hit cost more
 * than the rest of a cache hit, and the deleted slots make V8 rebuild the whole table
 * every `capacity` hits. What is kept: a key, once hit, outlives at least capacity/2 - 1
 * further inserts and moves (exact LRU: capacity - 1).
 */
export class Lru<K, V extends LruStamped> {
  private readonly map = new Map<K, V>();
  private tick = 0;
  private readonly window: number;

  constructor(readonly capacity: number) {
    this.window = Math.floor(capacity / 4);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (this.tick - v.lruTick >= this.window) {
      this.map.delete(key);
      this.map.set(key, v);
      v.lruTick = ++this.tick;
    }
    return v;
  }

  /** Without counting as a use. */
  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    value.lruTick = ++this.tick;
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
