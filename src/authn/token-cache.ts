/**
 * Verified-token cache in front of verifyToken: a hit skips the signature check, never the
 * rest. Keyed by the SHA-256 of the token, not the token itself: a 32-byte key whatever the
 * token's size (up to --max-token-bytes), and the cache never holds bearer credentials an
 * attacker could lift from a heap dump; SHA-256 collisions are out of reach, so a hit is the
 * very token that verified.
 *
 * Two tiers:
 * - every verified token's verdict (what verified it, when it goes stale) in a typed-array
 *   table (verdict-table.ts), ~55 bytes per token and no heap object;
 * - the parsed claims of tokens used again, in a smaller LRU. A token's first use verifies
 *   it; its second finds the verdict, decodes the payload once more (no signature check)
 *   and keeps the claims; from the third on nothing is decoded. A stream of tokens each
 *   used once, the common shape of a miss, so leaves nothing on the heap to promote.
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
 * Failures that cannot become valid later for the same keys go to a short, bounded negative
 * cache (rejected-tokens.ts). Payload findings (scan-payload.ts) are reported once, when the
 * token is verified; an audited token's findings stay beside its parsed claims.
 */
import { sha256Binary } from '../digest.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { checkClaims } from './check-claims.js';
import { Lru, type LruStamped } from './lru.js';
import { parseCompactJws, type ParsedJws } from './parse-compact.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';
import type { KeyLookup, VerifyFailure, VerifyResult } from './types.js';
import type { Finding, Verified } from '../decision.js';
import { verifyParsed, type VerifyOptions } from './verify-token.js';
import { VerdictTable } from './verdict-table.js';
import { currentIssuer, SignerTable, type Signer } from './signer-table.js';
import { verifyEncrypted, wantsDecryption } from './verify-encrypted.js';
import { introspectionIssuerFor, verifyOpaque } from './verify-opaque.js';
import { RejectedTokens, REJECTED_CACHE_SIZE } from './rejected-tokens.js';

export { REJECTED_CACHE_SIZE, REJECTED_TTL_MS } from './rejected-tokens.js';

export const DEFAULT_TOKEN_CACHE_SIZE = 100_000;
/** Tokens whose parsed claims are kept (at most the cache size): ~500 bytes each. */
export const PARSED_TIER_SIZE = 10_000;
/** Larger tokens are verified every time: bounds the parsed tier to PARSED_TIER_SIZE × this many bytes of claims. */
export const MAX_CACHED_TOKEN_CHARS = 8192;

interface VerifiedEntry extends LruStamped {
  claims: Record<string, unknown>;
  /** the header as checkClaims reads it: only `typ` */
  header: Record<string, unknown>;
  signer: Signer;
  /** exp + the issuer's skew, in seconds: past it the entry is dropped */
  staleAfterSec: number;
  /** payload.detect findings of an audited token, which the verdict table cannot hold */
  findings?: readonly Finding[];
}

const NO_TYP: Record<string, unknown> = Object.freeze({});

/** Counters for one cache: plain callbacks, called on the request path (the server batches them, telemetry/metrics.ts). */
export interface CacheCounters {
  verifiedHit(): void;
  verifiedMiss(): void;
  rejectedHit(): void;
  /** the payload scan of a token being verified found something (audited when not denied) */
  payloadFindings?(issuerKey: string, findings: readonly Finding[], denied: boolean): void;
}

export interface TokenCacheOptions {
  /** verified tokens kept; 0 disables both caches */
  size: number;
  /** of those, tokens kept with parsed claims (default PARSED_TIER_SIZE, at most `size`) */
  parsedSize?: number;
  counters?: CacheCounters;
  /** ms since epoch, for the negative cache's TTL */
  now?: () => number;
}

const hashToken = sha256Binary;

export class TokenCache {
  private readonly parsed: Lru<string, VerifiedEntry>;
  private readonly verdicts: VerdictTable;
  private readonly rejected: RejectedTokens;
  // The verdicts name signers by number: they go when the table starts again. Parsed entries hold their signer.
  private readonly signers = new SignerTable(() => this.verdicts.clear());
  private readonly now: () => number;

  constructor(private readonly opts: TokenCacheOptions) {
    const size = Math.max(0, opts.size);
    this.parsed = new Lru(Math.min(size, Math.max(0, opts.parsedSize ?? PARSED_TIER_SIZE)));
    this.verdicts = new VerdictTable(size);
    this.now = opts.now ?? Date.now;
    this.rejected = new RejectedTokens(size > 0 ? REJECTED_CACHE_SIZE : 0, this.now);
  }

  /** verified: tokens whose verdict is kept; parsed: of those, tokens kept with parsed claims. */
  get size(): { verified: number; parsed: number; rejected: number } {
    return { verified: this.verdicts.size, parsed: this.parsed.size, rejected: this.rejected.size };
  }

  clear(): void {
    this.parsed.clear();
    this.verdicts.clear();
    this.rejected.clear();
    this.signers.clear();
  }

  /** Same contract as verifyToken; a hit (or a cached rejection) answers without a promise. */
  verify(token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup, opts: VerifyOptions): MaybePromise<VerifyResult> {
    // opaque tokens: the introspection client caches its answers itself (its TTLs are not a JWT's)
    const introspecting = introspectionIssuerFor(token, candidates, keys);
    if (introspecting) return verifyOpaque(token, introspecting, keys, opts);
    // a JWE is cached whatever its own length: what the cache keeps is its inner token's claims
    const jwe = wantsDecryption(token, candidates, keys);
    const cacheable = this.opts.size > 0 && keys.keysVersion !== undefined && token.length <= opts.maxTokenBytes && (jwe || token.length <= MAX_CACHED_TOKEN_CHARS);
    if (!cacheable) {
      if (jwe) return verifyEncrypted(token, candidates, keys, opts).then(({ result }) => this.reported(result));
      const parsed = parseCompactJws(token, opts.maxTokenBytes);
      if ('ok' in parsed) return parsed;
      const result = verifyParsed(token, parsed, candidates, keys, opts.nowSec);
      return isPromise(result) ? result.then((r) => this.reported(r)) : this.reported(result);
    }
    const h = hashToken(token);
    const hit = this.parsed.get(h);
    const issuer = hit && currentIssuer(hit.signer, candidates, keys);
    if (issuer) return this.answerHit(h, hit, issuer, token, opts.nowSec);
    const v = this.verdicts.find(h);
    if (v >= 0) {
      const answer = this.fromVerdict(h, v, token, candidates, keys, opts);
      if (answer) return answer;
    }
    const rejected = this.rejected.get(h, candidates, keys);
    if (rejected) {
      this.opts.counters?.rejectedHit();
      return rejected;
    }
    this.opts.counters?.verifiedMiss();
    return jwe ? this.decryptMiss(h, token, candidates, keys, opts) : this.parseMiss(h, token, candidates, keys, opts);
  }

  /**
   * A JWE (verify-encrypted.ts), keyed by the JWE itself and kept with its claims from the first
   * use on (never as a bare verdict, which would mean decrypting again): a repeat costs no decryption.
   */
  private decryptMiss(h: string, token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup, opts: VerifyOptions): Promise<VerifyResult> {
    const versions = candidates.map((c) => keys.keysVersion!(c));
    return verifyEncrypted(token, candidates, keys, opts).then(({ result, inner }) =>
      inner && inner.payloadChars <= MAX_CACHED_TOKEN_CHARS ? this.remember(h, inner, candidates, versions, result, true) : this.reported(result),
    );
  }

  private parseMiss(h: string, token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup, opts: VerifyOptions): MaybePromise<VerifyResult> {
    const parsed = parseCompactJws(token, opts.maxTokenBytes);
    if ('ok' in parsed) {
      if (parsed.reason === 'malformed_token') this.rejected.malformed(h, parsed);
      return parsed;
    }
    return this.verifyMiss(h, token, parsed, candidates, keys, opts.nowSec);
  }

  /** A token verified before whose claims were not kept: decoded again, not verified again, and kept parsed from now on. */
  private fromVerdict(h: string, v: number, token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup, opts: VerifyOptions): VerifyResult | undefined {
    const signer = this.signers.at(this.verdicts.tagOf(v));
    const issuer = signer && currentIssuer(signer, candidates, keys);
    if (!issuer) return undefined;
    const parsed = parseCompactJws(token, opts.maxTokenBytes);
    // cannot fail for a token that verified under the same limit; if it does, verify from scratch
    if ('ok' in parsed) return undefined;
    const header = parsed.header.typ === undefined ? NO_TYP : { typ: parsed.header.typ };
    const staleAfterSec = this.verdicts.staleAfterOf(v);
    const entry: VerifiedEntry = { claims: parsed.payload, header, signer, staleAfterSec, lruTick: 0 };
    const result = this.answerHit(h, entry, issuer, token, opts.nowSec);
    if (result.ok) this.parsed.set(h, entry);
    return result;
  }

  private answerHit(h: string, e: VerifiedEntry, issuer: CompiledIssuer, token: string, nowSec: number): VerifyResult {
    const failure = checkClaims(e.claims, e.header, issuer, nowSec);
    if (!failure) {
      this.opts.counters?.verifiedHit();
      const verified: Verified = { claims: e.claims, issuer, token, alg: e.signer.alg, reused: true, digest: h };
      if (e.signer.kid !== undefined) verified.kid = e.signer.kid;
      if (e.findings) verified.findings = e.findings;
      return { ok: true, verified };
    }
    if (nowSec >= e.staleAfterSec) {
      this.parsed.delete(h);
      this.verdicts.delete(h);
    }
    this.opts.counters?.verifiedMiss();
    return failure;
  }

  private verifyMiss(h: string, token: string, parsed: ParsedJws, candidates: readonly CompiledIssuer[], keys: KeyLookup, nowSec: number): MaybePromise<VerifyResult> {
    // Versions are read before verifying: keys that change meanwhile make the entry stale, never wrongly fresh.
    const versions = candidates.map((c) => keys.keysVersion!(c));
    const result = verifyParsed(token, parsed, candidates, keys, nowSec);
    if (isPromise(result)) return result.then((r) => this.remember(h, parsed, candidates, versions, r));
    return this.remember(h, parsed, candidates, versions, result);
  }

  /** `keepParsed`: straight into the parsed tier, as a JWE must be */
  private remember(h: string, parsed: ParsedJws, candidates: readonly CompiledIssuer[], versions: (number | undefined)[], result: VerifyResult, keepParsed = false): VerifyResult {
    this.reported(result);
    if (result.ok) {
      const { issuer, alg, kid, findings } = result.verified;
      const version = versions[candidates.indexOf(issuer)];
      const exp = parsed.payload.exp;
      if (version !== undefined && typeof exp === 'number') {
        const signer: Signer = { alg, kid, issuerKey: issuer.key, fingerprint: issuer.fingerprint, keysVersion: version };
        // findings live only beside parsed claims: a token that had them is never re-decoded from a bare verdict
        if (findings || keepParsed) this.parsed.set(h, { claims: parsed.payload, header: parsed.header.typ === undefined ? NO_TYP : { typ: parsed.header.typ }, signer, staleAfterSec: exp + issuer.clockSkewSec, ...(findings ? { findings } : {}), lruTick: 0 });
        else this.verdicts.set(h, this.signers.numberOf(signer), exp + issuer.clockSkewSec);
      }
    } else {
      this.rejected.failed(h, result, candidates, versions);
    }
    return result;
  }

  /** Payload findings are reported when a token is verified, not on each reuse. */
  private reported(result: VerifyResult): VerifyResult {
    const findings = result.ok ? result.verified.findings : result.findings;
    if (findings) this.opts.counters?.payloadFindings?.(result.ok ? result.verified.issuer.key : result.issuerKey!, findings, !result.ok);
    return result;
  }

}

