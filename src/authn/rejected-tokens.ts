/**
 * The token cache's negative side (token-cache.ts): failures that cannot become valid later
 * for the same keys and configuration, kept briefly and bounded, so a flood of one forged or
 * refused token costs one hash each. Never unknown_kid or keys_unavailable: a rotation or a
 * recovered JWKS endpoint makes those valid.
 */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { Lru, type LruStamped } from './lru.js';
import type { KeyLookup, VerifyFailure } from './types.js';

export const REJECTED_CACHE_SIZE = 10_000;
export const REJECTED_TTL_MS = 10_000;

/** failures the same keys and configuration always repeat */
const REMEMBERED: ReadonlySet<string> = new Set(['bad_signature', 'payload_too_large', 'forbidden_claim', 'sensitive_claim']);

interface RejectedEntry extends LruStamped {
  failure: VerifyFailure;
  untilMs: number;
  /** undefined for malformed tokens, which fail whatever the configuration */
  candidates?: readonly CompiledIssuer[];
  versions?: readonly (number | undefined)[];
}

export class RejectedTokens {
  private readonly lru: Lru<string, RejectedEntry>;

  constructor(capacity: number, private readonly now: () => number) {
    this.lru = new Lru(capacity);
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }

  /** A token that fails whatever the configuration. */
  malformed(h: string, failure: VerifyFailure): void {
    this.lru.set(h, { failure, untilMs: this.now() + REJECTED_TTL_MS, lruTick: 0 });
  }

  /** A verification failure, kept when the same rule's issuers with the same keys would repeat it. */
  failed(h: string, failure: VerifyFailure, candidates: readonly CompiledIssuer[], versions: readonly (number | undefined)[]): void {
    if (!REMEMBERED.has(failure.reason) || !versions.every((v) => v !== undefined)) return;
    this.lru.set(h, { failure, untilMs: this.now() + REJECTED_TTL_MS, candidates, versions, lruTick: 0 });
  }

  /** The remembered failure, while it still holds for these candidates and their keys. */
  get(h: string, candidates: readonly CompiledIssuer[], keys: KeyLookup): VerifyFailure | undefined {
    const rej = this.lru.get(h);
    if (!rej || this.now() >= rej.untilMs) return undefined;
    if (!rej.candidates) return rej.failure;
    // Same rule in the same snapshot (its issuers array is compiled once) and the same keys.
    if (rej.candidates !== candidates) return undefined;
    return candidates.every((c, i) => keys.keysVersion!(c) === rej.versions![i]) ? rej.failure : undefined;
  }
}
