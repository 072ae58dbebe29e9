/** The keys of one TrustedIssuer: first load, scheduled refresh, unknown-kid refetch, retries, staleness. */
import type { KeyLookupResult, VerifyFailure } from '../authn/types.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { MaybePromise } from '../maybe-async.js';
import { ClaimcheckError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { KeySetHealth, type KeySetSample, type KeySetStatus } from './key-set-health.js';
import { diffKeys, logPreparedSet, type PreparedSet } from './key-set-log.js';
import { isRemote } from './remote-documents.js';
import { LocalKeySource, type SecretReader } from './local-key-source.js';
import type { ParsedKeys } from './parse-jwks.js';
import { lookupResult, pickCandidates, settledWithin } from './pick-keys.js';
import { prepareKeys, type PreparedKey } from './prepared-key.js';
import { refreshDelayMs, retryDelayMs } from './refresh-timing.js';
import { RemoteKeySource } from './remote-key-source.js';

export type { KeySetSample, KeySetStatus };

export interface KeySetOptions {
  logger: Logger;
  metrics?: Metrics;
  now: () => number;
  fetchTimeoutMs: number;
  /** longest a Check waits for a fetch in flight */
  coldWaitMs: number;
  discoveryIntervalMs: number;
  /** how often a local key file or Secret is checked for changes */
  sourcePollMs: number;
  readSecret?: SecretReader;
}

const unavailable: VerifyFailure = { ok: false, status: 'unavailable', reason: 'keys_unavailable', description: 'keys unavailable' };

const MAX_RESOLVED = 64;

function resolvedKey(header: { alg: string; kid?: string }): string {
  return header.kid === undefined ? header.alg : `${header.alg}\0${header.kid}`;
}

/** Process-wide, so a replaced key set never reuses a version its predecessor handed out. */
let versionSeq = 0;

export class IssuerKeySet {
  readonly fingerprint: string;
  readonly ready: Promise<void>;
  private issuer: CompiledIssuer;
  private readonly remote: RemoteKeySource | undefined;
  private readonly local: LocalKeySource | undefined;
  private readonly health: KeySetHealth;
  private keys: PreparedKey[] | undefined;
  private lastFetchStartMs: number | undefined;
  private nextRefreshAtMs = Infinity;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private version = 0;
  private versionJson: string | undefined;
  /** resolve()'s successful answers for the current keys, by alg and kid */
  private readonly resolved = new Map<string, KeyLookupResult>();

  constructor(issuer: CompiledIssuer, private readonly opts: KeySetOptions) {
    this.issuer = issuer;
    this.fingerprint = issuer.keysFingerprint;
    const remote = isRemote(issuer);
    this.health = new KeySetHealth({
      issuerKey: issuer.key,
      iss: issuer.issuer,
      logger: opts.logger,
      maxStalenessMs: () => (remote ? this.issuer.jwks.maxStalenessMs : undefined),
    });
    if (remote) {
      this.remote = new RemoteKeySource(opts);
      this.ready = this.refetch();
    } else {
      this.local = new LocalKeySource(issuer, opts.readSecret);
      this.ready = this.reload();
    }
  }

  /** A snapshot swap with the same keysFingerprint keeps this set; later imports use the new algorithms. */
  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
    this.resolved.clear();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /**
   * Without a promise when the keys are usable and this alg/kid was resolved before against the
   * same keys: a new token from a known signer then costs no microtask (docs/performance.md).
   */
  resolve(header: { alg: string; kid?: string }): MaybePromise<KeyLookupResult> {
    const now = this.opts.now();
    const usable = this.remote ? this.usable(now) : this.keys !== undefined;
    if (usable) {
      // Timers may lag (suspended process, fake clocks): a due refresh also starts from here, in the background.
      if (this.remote && now >= this.nextRefreshAtMs) void this.refetchIfAllowed(now);
      const known = this.resolved.get(resolvedKey(header));
      if (known) return known;
    }
    return this.resolveSlowly(header, now, usable);
  }

  private async resolveSlowly(header: { alg: string; kid?: string }, now: number, usable: boolean): Promise<KeyLookupResult> {
    const keysBefore = this.keys;
    if (!usable) {
      // Not loaded yet, or (remote) stale beyond maxStaleness: wait a bounded time for the fetch or first read.
      await this.boundedWait(this.remote ? this.refetchIfAllowed(now) : this.ready);
      if (this.remote ? !this.usable(this.opts.now()) : !this.keys) return unavailable;
    }
    let found = pickCandidates(this.keys ?? [], header);
    if (found === 'unknown_kid' && this.remote) {
      // Rotation: an unknown kid may be a new key. At most one refetch per cooldown, shared by all callers.
      const settled = await this.boundedWait(this.refetchIfAllowed(this.opts.now()));
      found = pickCandidates(this.keys ?? [], header);
      // The refetch that may bring this kid is still running: "cannot verify right now", not "bad token".
      if (found === 'unknown_kid' && !settled) return unavailable;
    }
    const result = await lookupResult(found, header.alg);
    // Only successes, and only if the keys did not change meanwhile; kids are the token's, so the map is bounded.
    if (result.ok && this.keys === keysBefore && keysBefore) {
      if (this.resolved.size >= MAX_RESOLVED) this.resolved.clear();
      this.resolved.set(resolvedKey(header), result);
    }
    return result;
  }

  /**
   * Changes whenever the usable key material changes (rotation, removal); undefined while no keys
   * are usable (not loaded, or stale beyond maxStaleness), so caches of verified tokens step aside.
   */
  keysVersion(): number | undefined {
    return this.usable(this.opts.now()) ? this.version : undefined;
  }

  status(): KeySetStatus {
    const now = this.opts.now();
    const state = this.health.observe(now, this.keys !== undefined);
    const err = this.health.error;
    const last = this.health.lastSuccessMs;
    const jwksUri = this.issuer.jwks.discovery && !this.issuer.jwks.uri ? this.remote?.currentJwksUri : undefined;
    return {
      issuer: this.issuer.key,
      source: this.remote ? (this.issuer.jwks.uri ? 'uri' : 'discovery') : this.local!.kind,
      state,
      ready: this.keys !== undefined && state !== 'expired',
      keyCount: this.keys?.length ?? 0,
      keyIds: (this.keys ?? []).flatMap((k) => (k.kid !== undefined ? [k.kid] : [])),
      ...(last !== undefined ? { lastRefresh: new Date(last).toISOString() } : {}),
      staleSeconds: this.health.staleSeconds(now),
      stale: this.keys !== undefined && err !== undefined,
      ...(err ? { error: err.message, errorCode: err.outcome } : {}),
      failures: this.health.failures,
      ...(jwksUri !== undefined ? { jwksUri } : {}),
    };
  }

  sample(): KeySetSample {
    const now = this.opts.now();
    const last = this.health.lastSuccessMs;
    return {
      issuer: this.issuer.key,
      ready: this.usable(now),
      keyCount: this.keys?.length ?? 0,
      ...(last !== undefined ? { lastRefreshMs: last } : {}),
      staleSeconds: this.health.staleSeconds(now),
    };
  }

  private usable(now: number): boolean {
    return this.keys !== undefined && this.health.observe(now, true) !== 'expired';
  }

  private boundedWait(p: Promise<void>): Promise<boolean> {
    return settledWithin(p, this.opts.coldWaitMs);
  }

  private refetchIfAllowed(now: number): Promise<void> {
    if (this.inflight) return this.inflight;
    const cooldown = this.issuer.jwks.minRefreshIntervalMs;
    if (this.lastFetchStartMs !== undefined && now - this.lastFetchStartMs < cooldown) return Promise.resolve();
    return this.refetch();
  }

  private refetch(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.closed) return Promise.resolve();
    this.lastFetchStartMs = this.opts.now();
    this.inflight = this.fetchOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    const issuer = this.issuer;
    this.health.attempted(this.opts.now());
    let delay: number;
    try {
      const { value, maxAgeSec } = await this.remote!.load(issuer, (parsed) => this.prepare(parsed));
      if (this.closed) return;
      this.commit(value);
      delay = refreshDelayMs(issuer.jwks, maxAgeSec);
    } catch (err) {
      if (this.closed) return;
      this.fail(err);
      delay = retryDelayMs(issuer.jwks, this.health.failures);
    }
    this.schedule(delay, () => void this.refetch());
  }

  /** Local sources: read at start, then polled; an unchanged source only confirms the keys. */
  private async reload(): Promise<void> {
    const local = this.local!;
    this.health.attempted(this.opts.now());
    try {
      const read = local.read();
      if (read !== 'unchanged') {
        const prepared = await this.prepare(read);
        if (this.closed) return;
        this.commit(prepared);
      } else if (this.keys) {
        this.health.succeeded(this.opts.now());
        this.health.observe(this.opts.now(), true);
      }
    } catch (err) {
      if (this.closed) return;
      local.forget();
      this.fail(err);
    }
    if (local.changes) this.schedule(this.opts.sourcePollMs, () => void this.reload());
  }

  private async prepare(parsed: ParsedKeys): Promise<PreparedSet> {
    const { keys, dropped } = await prepareKeys(parsed.keys, this.issuer.algorithms);
    if (keys.length === 0) {
      throw new ClaimcheckError('jwks_no_usable_keys', `no usable keys (${parsed.skipped.length + dropped} skipped)`);
    }
    return { keys, skipped: parsed.skipped, dropped };
  }

  private commit(set: PreparedSet): void {
    const now = this.opts.now();
    const previous = this.keys;
    const afterFailures = this.health.failures;
    this.keys = set.keys;
    this.resolved.clear();
    this.health.succeeded(now);
    const json = JSON.stringify(set.keys.map((k) => k.jwk));
    if (json !== this.versionJson) {
      this.versionJson = json;
      this.version = ++versionSeq;
      logPreparedSet(this.opts.logger, this.issuer, set, previous ? diffKeys(previous, set.keys) : undefined);
    }
    const keyIds = set.keys.flatMap((k) => (k.kid !== undefined ? [k.kid] : []));
    this.health.observe(now, true, { keyCount: set.keys.length, keyIds, ...(afterFailures > 0 ? { afterFailures } : {}) });
  }

  private fail(err: unknown): void {
    this.health.failed(err);
    const e = this.health.error!;
    this.opts.logger.debug({ issuer: this.issuer.key, code: e.outcome, error: e.message, failures: this.health.failures }, 'key load failed');
    this.health.observe(this.opts.now(), this.keys !== undefined);
  }

  private schedule(delayMs: number, run: () => void): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.nextRefreshAtMs = this.opts.now() + delayMs;
    // setTimeout overflows above 2^31-1 ms and would then fire at once.
    this.timer = setTimeout(run, Math.min(delayMs, 2 ** 31 - 1));
    this.timer.unref();
  }
}
