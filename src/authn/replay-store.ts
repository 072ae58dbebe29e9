/**
 * DPoP proof replay (RFC 9449 §11.1): a proof's `jti` is accepted once while the proof
 * could still be accepted (`proofMaxAge`, plus the 5 s a proof may be ahead of the clock).
 *
 * `memory` is per replica and bounded: each remembered proof costs ~120 bytes (a 32-byte
 * digest as the key, its expiry, the queue slot), so the default 200,000 is ~24 MB. When
 * every remembered proof is still live, a new one is refused as `unavailable` (503) rather
 * than forgetting one that could then be replayed.
 */
import { sha256Binary } from '../digest.js';
import type { MaybePromise } from '../maybe-async.js';
import { FifoQueue } from './fifo-queue.js';

/** first: never seen inside its window; replayed: seen; unavailable: cannot tell (fail closed) */
export type ReplayVerdict = 'first' | 'replayed' | 'unavailable';

export interface ReplayStore {
  /** Records `id` for `ttlMs`, saying whether it was already there. */
  claim(id: string, ttlMs: number): MaybePromise<ReplayVerdict>;
  close(): Promise<void>;
}

export const DEFAULT_REPLAY_ENTRIES = 200_000;

/** The id of one proof: its key's thumbprint and its jti, hashed (a jti may be 256 bytes). */
export function proofId(jkt: string, jti: string): string {
  return sha256Binary(`${jkt}\n${jti}`);
}

export class MemoryReplayStore implements ReplayStore {
  private readonly expiry = new Map<string, number>();
  /** ids in the order they came: the policies' windows are alike, so nearly the order they expire in */
  private readonly ids = new FifoQueue<string>();

  constructor(readonly capacity: number = DEFAULT_REPLAY_ENTRIES, private readonly nowMs: () => number = Date.now) {}

  get size(): number {
    return this.expiry.size;
  }

  claim(id: string, ttlMs: number): ReplayVerdict {
    const now = this.nowMs();
    this.dropExpired(now);
    const until = this.expiry.get(id);
    if (until !== undefined && until > now) return 'replayed';
    if (this.expiry.size >= this.capacity) return 'unavailable';
    this.expiry.set(id, now + ttlMs);
    this.ids.push(id);
    return 'first';
  }

  async close(): Promise<void> {
    this.expiry.clear();
    this.ids.clear();
  }

  private dropExpired(now: number): void {
    for (let id = this.ids.peek(); id !== undefined; id = this.ids.peek()) {
      const until = this.expiry.get(id);
      if (until !== undefined && until > now) return;
      this.expiry.delete(id);
      this.ids.shift();
    }
  }
}
