import { FifoQueue } from './fifo-queue.js';

/** What the cache stamps on each value: when it last moved to the recent end. */
export interface LruStamped {
  lruTick: number;
}

/**
 * A bounded, nearly least-recently-used map. Inserts and moves are queued in order with
 * their tick, so the oldest entry whose tick still matches its value is the one to evict.
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
  /** every insert and move as [key, tick], oldest first; one whose tick is no longer the value's is stale */
  private readonly order = new FifoQueue<readonly [K, number]>();

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
      this.enqueue(key, v.lruTick);
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
    this.enqueue(key, value.lruTick);
    if (this.map.size > this.capacity) this.evictOldest();
  }

  private enqueue(key: K, tick: number): void {
    this.order.push([key, tick]);
    if (this.order.size > 2 * this.capacity + 1024) {
      // moves without evictions: start again from the map, whose order is the same
      this.order.clear();
      for (const [k, v] of this.map) this.order.push([k, v.lruTick]);
    }
  }

  private evictOldest(): void {
    for (let e = this.order.shift(); e !== undefined; e = this.order.shift()) {
      if (this.map.get(e[0])?.lruTick === e[1]) {
        this.map.delete(e[0]);
        return;
      }
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.order.clear();
  }
}
