/**
 * Tokens that verified, remembered without a heap object each: the token's SHA-256, a
 * number for what verified it and when it goes stale, in typed arrays. 100,000 entries take
 * ~5.5 MB and give the garbage collector nothing to trace or promote; a Map of parsed entries
 * took ~500 bytes each and made every new token old-generation garbage (docs/performance.md).
 *
 * Linear probing over a power-of-two slot array at most half full, backward-shift deletion
 * (no tombstones). Entries live in a ring: an insert takes the next position, replacing the
 * oldest insert however recently it was used (a deleted entry's room is reused when the ring
 * comes round to it). Tokens in use are also in the parsed tier (token-cache.ts), which
 * is least-recently-used.
 *
 * A digest is a 32-character latin1 string (crypto.hash(..., 'binary')); SHA-256 output is
 * uniform and cannot be steered, so its first four bytes serve as the slot hash.
 */
export const DIGEST_BYTES = 32;
const EMPTY = -1;

export class VerdictTable {
  /** entry index + 1 per slot; 0 = empty */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly digests: Uint8Array;
  /** the caller's number for what verified the token; EMPTY for a free entry */
  private readonly tags: Int32Array;
  private readonly staleAfter: Float64Array;
  private next = 0;
  private live = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    const n = Math.max(0, Math.floor(capacity));
    let slots = 2;
    while (slots < n * 2) slots *= 2;
    this.slots = new Int32Array(n > 0 ? slots : 0);
    this.mask = slots - 1;
    this.digests = new Uint8Array(n * DIGEST_BYTES);
    this.tags = new Int32Array(n).fill(EMPTY);
    this.staleAfter = new Float64Array(n);
    this.capacity = n;
  }

  get size(): number {
    return this.live;
  }

  /** The entry holding `digest`, or -1. */
  find(digest: string): number {
    if (this.capacity === 0) return -1;
    const slot = this.slotOf(digest);
    return slot < 0 ? -1 : this.slots[slot]! - 1;
  }

  tagOf(entry: number): number {
    return this.tags[entry]!;
  }

  staleAfterOf(entry: number): number {
    return this.staleAfter[entry]!;
  }

  set(digest: string, tag: number, staleAfter: number): void {
    if (this.capacity === 0) return;
    let entry = this.find(digest);
    if (entry < 0) {
      entry = this.next;
      this.next = (this.next + 1) % this.capacity;
      if (this.tags[entry] !== EMPTY) this.removeEntry(entry);
      const base = entry * DIGEST_BYTES;
      for (let k = 0; k < DIGEST_BYTES; k++) this.digests[base + k] = digest.charCodeAt(k);
      let slot = this.home(entry);
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = entry + 1;
      this.live++;
    }
    this.tags[entry] = tag;
    this.staleAfter[entry] = staleAfter;
  }

  delete(digest: string): void {
    const entry = this.find(digest);
    if (entry >= 0) this.removeEntry(entry);
  }

  clear(): void {
    this.slots.fill(0);
    this.tags.fill(EMPTY);
    this.next = 0;
    this.live = 0;
  }

  private slotOf(digest: string): number {
    const first = digest.charCodeAt(0) | (digest.charCodeAt(1) << 8) | (digest.charCodeAt(2) << 16) | (digest.charCodeAt(3) << 24);
    for (let slot = first & this.mask; ; slot = (slot + 1) & this.mask) {
      const s = this.slots[slot]!;
      if (s === 0) return -1;
      if (this.holds(s - 1, digest)) return slot;
    }
  }

  private holds(entry: number, digest: string): boolean {
    const base = entry * DIGEST_BYTES;
    for (let k = 0; k < DIGEST_BYTES; k++) if (this.digests[base + k] !== digest.charCodeAt(k)) return false;
    return true;
  }

  private home(entry: number): number {
    const d = this.digests;
    const b = entry * DIGEST_BYTES;
    return (d[b]! | (d[b + 1]! << 8) | (d[b + 2]! << 16) | (d[b + 3]! << 24)) & this.mask;
  }

  private removeEntry(entry: number): void {
    let hole = this.home(entry);
    while (this.slots[hole] !== entry + 1) hole = (hole + 1) & this.mask;
    this.tags[entry] = EMPTY;
    this.live--;
    // Backward shift: pull later entries of the probe run into the hole unless that would
    // move one before its home slot, which would make it unreachable.
    this.slots[hole] = 0;
    for (let j = (hole + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const s = this.slots[j]!;
      if (s === 0) return;
      const h = this.home(s - 1);
      const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (stays) continue;
      this.slots[hole] = s;
      this.slots[j] = 0;
      hole = j;
    }
  }
}
