/**
 * Verified-token cache in front of verifyToken: a hit skips parsing and the signature check,
 * never the rest. Keyed by the SHA-256 of the token, not the token itself: a 32-byte key
 * whatever the token's size (up to --max-token-bytes), and the map never holds bearer
 * credentials an attacker could lift from a heap dump; SHA-256 collisions are out of reach,
 * so a hit is the very token that verified.
 *
 * A hit is used only while
 * - the issuer that verified it is still among the rule's candidates with the same
 *   fingerprint (anything affecting verification changed -> miss),
 * - that issuer's key set version is unchanged (rotation or removal -> miss; stale
 *   beyond maxStaleness -> no version -> the uncached path answers 503),
 * - and the time and claim checks pass again (checkClaims runs on every hit, so a cached
 *   token is never accepted past exp or before nbf, with the issuer's skew, exactly as uncached).
 * Revocation, scopes and rule claims run after this, on every request (decide-request.ts).
 *
 * Failures that cannot become valid later for the same keys (bad_signature, malformed_token)
 * go to a short, bounded negative cache so a flood of one forged token costs one hash each.
 * Never unknown_kid or keys_unavailable: a rotation or a recovered JWKS endpoint makes those valid.
 */
import * as crypto from 'node:crypto';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { checkClaims } from './check-claims.js';
import { Lru, type LruStamped } from './lru.js';
import { parseCompactJws, type ParsedJws } from './parse-compact.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';
import type { KeyLookup, VerifyFailure, VerifyResult } from './types.js';
import type { Verified } from '../decision.js';
import { verifyParsed, type VerifyOptions } from './verify-token.js';

export const DEFAULT_TOKEN_CACHE_SIZE = 100_000;
/** Larger tokens are verified every time: bounds the cache to size × this many bytes of claims. */
export const MAX_CACHED_TOKEN_CHARS = 8192;
export const REJECTED_CACHE_SIZE = 10_000;
export const REJECTED_TTL_MS = 10_000;

interface VerifiedEntry extends LruStamped {
  claims: Record<string, unknown>;
  /** the header as checkClaims reads it: only `typ` */
  header: Record<string, unknown>;
  signer: Signer;
  /** exp + the issuer's skew, in seconds: past it the entry is dropped */
  staleAfterSec: number;
}

/** What verified a token; shared by every entry it verified (100,000 entries, a handful of signers). */
interface Signer {
  alg: string;
  kid: string | undefined;
  issuerKey: string;
  fingerprint: string;
  keysVersion: number;
}

const NO_TYP: Record<string, unknown> = Object.freeze({});
const MAX_SIGNERS = 1000;

interface RejectedEntry extends LruStamped {
  failure: VerifyFailure;
  untilMs: number;
  /** undefined for malformed tokens, which fail whatever the configuration */
  candidates?: readonly CompiledIssuer[];
  versions?: readonly (number | undefined)[];
}

/** Counters for one cache: plain callbacks, called on the request path (the server batches them, telemetry/metrics.ts). */
export interface CacheCounters {
  verifiedHit(): void;
  verifiedMiss(): void;
  rejectedHit(): void;
}

export interface TokenCacheOptions {
  /** verified tokens kept; 0 disables both caches */
  size: number;
  counters?: CacheCounters;
  /** ms since epoch, for the negative cache's TTL */
  now?: () => number;
}

const hashToken: (token: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (token) => (crypto as unknown as { hash(alg: string, data: string, enc: 'binary'): string }).hash('sha256', token, 'binary')
    : (token) => crypto.createHash('sha256').update(token).digest('binary');

export class TokenCache {
  private readonly verified: Lru<string, VerifiedEntry>;
  private readonly rejected: Lru<string, RejectedEntry>;
  private readonly signers = new Map<string, Signer>();
  private readonly now: () => number;

  constructor(private readonly opts: TokenCacheOptions) {
    this.verified = new Lru(Math.max(0, opts.size));
    this.rejected = new Lru(opts.size > 0 ? REJECTED_CACHE_SIZE : 0);
    this.now = opts.now ?? Date.now;
  }

  get size(): { verified: number; rejected: number } {
    return { verified: this.verified.size, rejected: this.rejected.size };
  }

  clear(): void {
    this.verified.clear();
    this.rejected.clear();
    this.signers.clear();
  }

  /** Same contract as verifyToken; a hit (or a cached rejection) answers without a promise. */
  verify(token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup, opts: VerifyOptions): MaybePromise<VerifyResult> {
    const cacheable = this.opts.size > 0 && keys.keysVersion !== undefined && token.length <= MAX_CACHED_TOKEN_CHARS && token.length <= opts.maxTokenBytes;
    if (!cacheable) {
      const parsed = parseCompactJws(token, opts.maxTokenBytes);
      return 'ok' in parsed ? parsed : verifyParsed(token, parsed, candidates, keys, opts.nowSec);
    }
    const h = hashToken(token);
    const hit = this.verified.get(h);
    if (hit) {
      const s = hit.signer;
      let issuer: CompiledIssuer | undefined;
      for (const c of candidates) {
        if (c.key === s.issuerKey) {
          issuer = c;
          break;
        }
      }
      if (issuer && issuer.fingerprint === s.fingerprint && keys.keysVersion!(issuer) === s.keysVersion) {
        const failure = checkClaims(hit.claims, hit.header, issuer, opts.nowSec);
        if (!failure) {
          this.opts.counters?.verifiedHit();
          const verified: Verified = { claims: hit.claims, issuer, token, alg: s.alg };
          if (s.kid !== undefined) verified.kid = s.kid;
          return { ok: true, verified };
        }
        if (opts.nowSec >= hit.staleAfterSec) this.verified.delete(h);
        this.opts.counters?.verifiedMiss();
        return failure;
      }
    }
    const rej = this.rejected.get(h);
    if (rej && this.rejectedStillHolds(rej, candidates, keys)) {
      this.opts.counters?.rejectedHit();
      return rej.failure;
    }
    this.opts.counters?.verifiedMiss();

    const parsed = parseCompactJws(token, opts.maxTokenBytes);
    if ('ok' in parsed) {
      if (parsed.reason === 'malformed_token') this.rejected.set(h, { failure: parsed, untilMs: this.now() + REJECTED_TTL_MS, lruTick: 0 });
      return parsed;
    }
    return this.verifyMiss(h, token, parsed, candidates, keys, opts.nowSec);
  }

  private verifyMiss(h: string, token: string, parsed: ParsedJws, candidates: readonly CompiledIssuer[], keys: KeyLookup, nowSec: number): MaybePromise<VerifyResult> {
    // Versions are read before verifying: keys that change meanwhile make the entry stale, never wrongly fresh.
    const versions = candidates.map((c) => keys.keysVersion!(c));
    const result = verifyParsed(token, parsed, candidates, keys, nowSec);
    if (isPromise(result)) return result.then((r) => this.remember(h, parsed, candidates, versions, r));
    return this.remember(h, parsed, candidates, versions, result);
  }

  private remember(h: string, parsed: ParsedJws, candidates: readonly CompiledIssuer[], versions: (number | undefined)[], result: VerifyResult): VerifyResult {
    if (result.ok) {
      const issuer = result.verified.issuer;
      const version = versions[candidates.indexOf(issuer)];
      const exp = parsed.payload.exp;
      if (version !== undefined && typeof exp === 'number') {
        const typ = parsed.header.typ;
        this.verified.set(h, {
          claims: parsed.payload,
          header: typ === undefined ? NO_TYP : { typ },
          signer: this.signer({ alg: result.verified.alg, kid: result.verified.kid, issuerKey: issuer.key, fingerprint: issuer.fingerprint, keysVersion: version }),
          staleAfterSec: exp + issuer.clockSkewSec,
          lruTick: 0,
        });
      }
    } else if (result.reason === 'bad_signature' && versions.every((v) => v !== undefined)) {
      this.rejected.set(h, { failure: result, untilMs: this.now() + REJECTED_TTL_MS, candidates, versions, lruTick: 0 });
    }
    return result;
  }

  private signer(s: Signer): Signer {
    const key = `${s.issuerKey}\0${s.keysVersion}\0${s.alg}\0${s.kid ?? ''}\0${s.kid === undefined ? 0 : 1}`;
    const known = this.signers.get(key);
    if (known && known.fingerprint === s.fingerprint) return known;
    if (this.signers.size >= MAX_SIGNERS) this.signers.clear();
    this.signers.set(key, s);
    return s;
  }

  private rejectedStillHolds(
    rej: RejectedEntry,
    candidates: readonly CompiledIssuer[],
    keys: KeyLookup,
  ): boolean {
    if (this.now() >= rej.untilMs) return false;
    if (!rej.candidates) return true;
    // Same rule in the same snapshot (its issuers array is compiled once) and the same keys.
    if (rej.candidates !== candidates) return false;
    return candidates.every((c, i) => keys.keysVersion!(c) === rej.versions![i]);
  }
}
