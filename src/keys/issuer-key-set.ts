/** The keys of one TrustedIssuer: first load, scheduled refresh, unknown-kid refetch, staleness. */
import type { KeyLookupResult, VerificationKey, VerifyFailure } from '../authn/types.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { ClaimcheckError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { isRemote, loadRemoteKeys, loadStaticKeys, type SecretReader } from './load-keys.js';
import type { ParsedKeys } from './parse-jwks.js';
import { prepareKeys, type PreparedKey } from './prepared-key.js';

/** Tokens without a kid try at most this many keys: each try is a signature verification. */
export const MAX_CANDIDATES = 10;

export interface KeySetOptions {
  logger: Logger;
  metrics?: Metrics;
  now: () => number;
  fetchTimeoutMs: number;
  /** longest a Check waits for a fetch in flight */
  coldWaitMs: number;
  readSecret?: SecretReader;
}

export interface KeySetStatus {
  issuer: string;
  ready: boolean;
  keyCount: number;
  lastRefreshMs?: number;
  error?: string;
  stale: boolean;
}

const unavailable: VerifyFailure = { ok: false, status: 'unavailable', reason: 'keys_unavailable', description: 'keys unavailable' };

export class IssuerKeySet {
  readonly fingerprint: string;
  readonly ready: Promise<void>;
  private issuer: CompiledIssuer;
  private readonly remote: boolean;
  private keys: PreparedKey[] | undefined;
  private lastSuccessMs: number | undefined;
  private lastFetchStartMs: number | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private nextRefreshAtMs = Infinity;
  private inflight: Promise<void> | undefined;
  private jwksUri: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private staleReported = false;

  constructor(issuer: CompiledIssuer, private readonly opts: KeySetOptions) {
    this.issuer = issuer;
    this.fingerprint = issuer.keysFingerprint;
    this.remote = isRemote(issuer);
    this.ready = this.remote ? this.refetch() : this.loadStatic();
  }

  /** A snapshot swap with the same keysFingerprint keeps this set; later imports use the new algorithms. */
  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.opts.metrics?.keyCount.remove({ issuer: this.issuer.key });
    this.opts.metrics?.keyLastRefresh.remove({ issuer: this.issuer.key });
  }

  async resolve(header: { alg: string; kid?: string }): Promise<KeyLookupResult> {
    const now = this.opts.now();
    if (this.remote) {
      if (!this.keys || this.staleBeyondLimit(now)) {
        await this.boundedWait(this.refetchIfAllowed(now));
        if (!this.keys || this.staleBeyondLimit(this.opts.now())) return unavailable;
      } else if (now >= this.nextRefreshAtMs) {
        // Timers may lag (suspended process, fake clocks): a due refresh also starts from here, in the background.
        void this.refetchIfAllowed(now);
      }
    } else if (!this.keys) {
      await this.boundedWait(this.ready);
      if (!this.keys) return unavailable;
    }
    let found = this.candidates(header);
    if (found === 'unknown_kid' && this.remote) {
      // Rotation: an unknown kid may be a new key. At most one refetch per cooldown, shared by all callers.
      await this.boundedWait(this.refetchIfAllowed(this.opts.now()));
      found = this.candidates(header);
    }
    if (found === 'unknown_kid') return { ok: false, status: 'invalid', reason: 'unknown_kid', description: 'unknown signing key' };
    const usable: { key: VerificationKey; kid?: string }[] = [];
    for (const k of found) {
      const key = await k.importFor(header.alg);
      if (key) usable.push({ key, ...(k.kid !== undefined ? { kid: k.kid } : {}) });
    }
    if (usable.length === 0) return { ok: false, status: 'invalid', reason: 'no_matching_key', description: 'no matching key' };
    const [first, ...more] = usable;
    return { ok: true, ...first!, ...(more.length > 0 ? { more } : {}) };
  }

  status(): KeySetStatus {
    const now = this.opts.now();
    return {
      issuer: this.issuer.key,
      ready: this.keys !== undefined && !this.staleBeyondLimit(now),
      keyCount: this.keys?.length ?? 0,
      ...(this.lastSuccessMs !== undefined ? { lastRefreshMs: this.lastSuccessMs } : {}),
      ...(this.lastError !== undefined ? { error: this.lastError } : {}),
      stale: this.keys !== undefined && this.lastError !== undefined,
    };
  }

  /** Keys for this header; a kid the set does not hold at all is `unknown_kid`. */
  private candidates(header: { alg: string; kid?: string }): PreparedKey[] | 'unknown_kid' {
    const keys = this.keys ?? [];
    if (header.kid === undefined) return keys.filter((k) => k.fits(header.alg)).slice(0, MAX_CANDIDATES);
    const byKid = keys.filter((k) => k.kid === header.kid);
    // Like Envoy jwt_authn: a key without a kid (e.g. from PEM) may verify a token that names one.
    const pool = byKid.length > 0 ? byKid : keys.filter((k) => k.kid === undefined);
    if (pool.length === 0) return 'unknown_kid';
    return pool.filter((k) => k.fits(header.alg)).slice(0, MAX_CANDIDATES);
  }

  private staleBeyondLimit(now: number): boolean {
    if (!this.remote || this.lastSuccessMs === undefined) return false;
    const stale = now - this.lastSuccessMs > this.issuer.jwks.maxStalenessMs;
    if (stale && !this.staleReported) {
      this.staleReported = true;
      this.opts.logger.error({ issuer: this.issuer.key, iss: this.issuer.issuer }, 'keys stale beyond maxStaleness: failing closed');
    }
    return stale;
  }

  private boundedWait(p: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.opts.coldWaitMs);
      timer.unref();
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  }

  private refetchIfAllowed(now: number): Promise<void> {
    if (this.inflight) return this.inflight;
    const cooldown = this.issuer.jwks.minRefreshIntervalMs;
    if (this.lastFetchStartMs !== undefined && now - this.lastFetchStartMs < cooldown) return Promise.resolve();
    return this.refetch();
  }

  private refetch(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastFetchStartMs = this.opts.now();
    this.inflight = this.fetchOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    const iss = this.issuer;
    let maxAgeSec: number | undefined;
    try {
      const got = await loadRemoteKeys(iss, this.opts.fetchTimeoutMs, this.jwksUri);
      this.jwksUri = iss.jwks.discovery && !iss.jwks.uri ? got.jwksUri : undefined;
      maxAgeSec = got.maxAgeSec;
      await this.commit(got.parsed);
      if (this.closed) return;
      this.opts.metrics?.keyFetches.inc({ issuer: iss.key, outcome: 'success' });
      this.schedule(this.refreshDelay(maxAgeSec));
    } catch (err) {
      if (this.closed) return;
      const code = err instanceof ClaimcheckError ? err.code : 'key_fetch_failed';
      this.failures++;
      this.lastError = err instanceof Error ? err.message : String(err);
      // Re-discover next time: the jwks_uri itself may be what moved.
      this.jwksUri = undefined;
      this.opts.metrics?.keyFetches.inc({ issuer: iss.key, outcome: code });
      this.opts.logger.warn(
        { issuer: iss.key, iss: iss.issuer, code, error: this.lastError, failures: this.failures, servingLastGood: this.keys !== undefined },
        'key fetch failed',
      );
      this.schedule(this.backoffDelay());
    }
  }

  private async loadStatic(): Promise<void> {
    try {
      await this.commit(loadStaticKeys(this.issuer, this.opts.readSecret));
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.opts.logger.error({ issuer: this.issuer.key, iss: this.issuer.issuer, error: this.lastError }, 'key source unusable');
    }
  }

  private async commit(parsed: ParsedKeys): Promise<void> {
    const iss = this.issuer;
    const { keys, dropped } = await prepareKeys(parsed.keys, iss.algorithms);
    const skipped = parsed.skipped.length + dropped;
    if (keys.length === 0) throw new ClaimcheckError('jwks_no_usable_keys', `no usable keys (${skipped} skipped)`);
    if (this.closed) return;
    const recovered = this.lastError !== undefined && this.keys !== undefined;
    const before = this.keys?.map((k) => k.kid ?? '').join(',');
    this.keys = keys;
    this.lastSuccessMs = this.opts.now();
    this.lastError = undefined;
    this.failures = 0;
    this.staleReported = false;
    const kids = keys.map((k) => k.kid ?? '');
    const log = { issuer: iss.key, iss: iss.issuer, keyCount: keys.length, skipped, kids };
    if (parsed.skipped.length > 0) this.opts.logger.info({ issuer: iss.key, skippedKeys: parsed.skipped }, 'keys skipped');
    const dup = kids.filter((k, i) => k !== '' && kids.indexOf(k) !== i);
    if (dup.length > 0) this.opts.logger.warn({ issuer: iss.key, duplicateKids: [...new Set(dup)] }, 'duplicate kid in key set: each candidate is tried');
    if (recovered) this.opts.logger.info(log, 'key fetch recovered');
    else if (before !== kids.join(',')) this.opts.logger.info(log, `loaded ${keys.length} keys`);
    else this.opts.logger.debug(log, 'keys refreshed, unchanged');
    this.opts.metrics?.keyCount.set({ issuer: iss.key }, keys.length);
    this.opts.metrics?.keyLastRefresh.set({ issuer: iss.key }, Math.floor(this.lastSuccessMs / 1000));
  }

  /** Cache-Control max-age may shorten the refresh interval, never below the cooldown. */
  private refreshDelay(maxAgeSec: number | undefined): number {
    const { refreshIntervalMs, minRefreshIntervalMs } = this.issuer.jwks;
    if (maxAgeSec === undefined) return refreshIntervalMs;
    return Math.max(minRefreshIntervalMs, Math.min(refreshIntervalMs, maxAgeSec * 1000));
  }

  private backoffDelay(): number {
    const { refreshIntervalMs, minRefreshIntervalMs } = this.issuer.jwks;
    const base = Math.max(1000, Math.min(minRefreshIntervalMs, 30_000));
    const cap = Math.max(base, refreshIntervalMs);
    const delay = Math.min(cap, base * 2 ** Math.min(this.failures - 1, 16));
    return delay + Math.floor(Math.random() * delay * 0.1);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.nextRefreshAtMs = this.opts.now() + delayMs;
    // setTimeout overflows above 2^31-1 ms and would then fire at once.
    this.timer = setTimeout(() => void this.refetch(), Math.min(delayMs, 2 ** 31 - 1));
    this.timer.unref();
  }
}
