/**
 * What every kind of key set shares: the keys in use, resolve() and its cache, the key-set version,
 * committing a newly prepared set, one load in flight at a time, and status. The kinds say how keys
 * are loaded and when a Check may ask for a load (remote-key-set.ts, local-key-set.ts).
 */
import type { KeyLookupResult, VerifyFailure } from '../authn/types.js';
import { KEYS_UNAVAILABLE } from '../authn/invalid.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { MaybePromise } from '../maybe-async.js';
import { ClaimcheckError } from '../errors.js';
import type { KeySet, KeySetOptions } from './key-set.js';
import { KeySetHealth, type KeySetSample, type KeySetStatus } from './key-set-health.js';
import { diffKeys, logPreparedSet, type PreparedSet } from './key-set-log.js';
import type { ParsedKeys } from './parse-jwks.js';
import { lookupResult, pickCandidates } from './pick-keys.js';
import { prepareKeys, type PreparedKey } from './prepared-key.js';
import { SingleTimer, settledWithin, type Scheduler } from './scheduler.js';

const unavailable: VerifyFailure = KEYS_UNAVAILABLE;

const MAX_RESOLVED = 64;

function resolvedKey(header: { alg: string; kid?: string }): string {
  return header.kid === undefined ? header.alg : `${header.alg}\0${header.kid}`;
}

/** Process-wide, so a replaced key set never reuses a version its predecessor handed out. */
let versionSeq = 0;

export abstract class IssuerKeySet implements KeySet {
  readonly fingerprint: string;
  abstract readonly ready: Promise<void>;
  protected issuer: CompiledIssuer;
  protected readonly health: KeySetHealth;
  protected readonly scheduler: Scheduler;
  protected keys: PreparedKey[] | undefined;
  protected closed = false;
  protected lastLoadStartMs: number | undefined;
  /** when the scheduled refresh, retry or poll is due */
  protected nextLoadAtMs = Infinity;
  private readonly nextLoad: SingleTimer;
  private inflight: Promise<void> | undefined;
  private version = 0;
  private versionJson: string | undefined;
  /** resolve()'s successful answers for the current keys, by alg and kid */
  private readonly resolved = new Map<string, KeyLookupResult>();

  /** `maxStalenessMs` undefined: the keys never expire. */
  protected constructor(issuer: CompiledIssuer, protected readonly opts: KeySetOptions, maxStalenessMs: number | undefined) {
    this.issuer = issuer;
    this.fingerprint = issuer.keysFingerprint;
    this.scheduler = opts.scheduler;
    this.nextLoad = new SingleTimer(opts.scheduler);
    this.health = new KeySetHealth({ issuerKey: issuer.key, iss: issuer.issuer, logger: opts.logger, maxStalenessMs });
  }

  /** One fetch or read of the source; ends in commit() or fail() and schedules the next one. */
  protected abstract loadOnce(): Promise<void>;
  /** What a Check waits for, at most coldWaitMs, while no keys are usable. */
  protected abstract awaitUsableKeys(now: number): Promise<void>;
  /** A load that may bring a kid the keys lack, or undefined when asking cannot bring one. */
  protected abstract loadForUnknownKid(now: number): Promise<void> | undefined;
  /** Told by every Check that found usable keys. */
  protected abstract noteUse(now: number): void;
  protected abstract describeSource(): Pick<KeySetStatus, 'source' | 'jwksUri'>;

  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
    this.resolved.clear();
  }

  close(): void {
    this.closed = true;
    this.nextLoad.clear();
  }

  /**
   * Without a promise when the keys are usable and this alg/kid was resolved before against the
   * same keys: a new token from a known signer then costs no microtask (docs/performance.md).
   */
  resolve(header: { alg: string; kid?: string }): MaybePromise<KeyLookupResult> {
    const now = this.scheduler.now();
    const usable = this.usable(now);
    if (usable) {
      this.noteUse(now);
      const known = this.resolved.get(resolvedKey(header));
      if (known) return known;
    }
    return this.resolveSlowly(header, now, usable);
  }

  private async resolveSlowly(header: { alg: string; kid?: string }, now: number, usable: boolean): Promise<KeyLookupResult> {
    const keysBefore = this.keys;
    if (!usable) {
      // Not loaded yet, or stale beyond maxStaleness: wait a bounded time for the fetch or first read.
      await this.boundedWait(this.awaitUsableKeys(now));
      if (!this.usable(this.scheduler.now())) return unavailable;
    }
    let found = pickCandidates(this.keys ?? [], header);
    const refetch = found === 'unknown_kid' ? this.loadForUnknownKid(this.scheduler.now()) : undefined;
    if (refetch) {
      const settled = await this.boundedWait(refetch);
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

  keysVersion(): number | undefined {
    return this.usable(this.scheduler.now()) ? this.version : undefined;
  }

  status(): KeySetStatus {
    const now = this.scheduler.now();
    const state = this.health.state(now, this.keys !== undefined);
    const err = this.health.error;
    const last = this.health.lastSuccessMs;
    const { source, jwksUri } = this.describeSource();
    return {
      issuer: this.issuer.key,
      source,
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
    const now = this.scheduler.now();
    const last = this.health.lastSuccessMs;
    return {
      issuer: this.issuer.key,
      ready: this.usable(now),
      keyCount: this.keys?.length ?? 0,
      ...(last !== undefined ? { lastRefreshMs: last } : {}),
      staleSeconds: this.health.staleSeconds(now),
    };
  }

  idle(): Promise<void> {
    return this.inflight?.catch(() => undefined) ?? Promise.resolve();
  }

  protected usable(now: number): boolean {
    return this.keys !== undefined && this.health.state(now, true) !== 'expired';
  }

  protected get loadInFlight(): Promise<void> | undefined {
    return this.inflight;
  }

  /** Single flight: a load asked for while one runs is that one. */
  protected load(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.closed) return Promise.resolve();
    this.lastLoadStartMs = this.scheduler.now();
    this.inflight = this.loadOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  protected scheduleLoad(delayMs: number): void {
    if (this.closed) return;
    this.nextLoadAtMs = this.scheduler.now() + delayMs;
    this.nextLoad.set(delayMs, () => void this.load());
  }

  protected async prepare(parsed: ParsedKeys): Promise<PreparedSet> {
    const { keys, dropped } = await prepareKeys(parsed.keys, this.issuer.algorithms);
    if (keys.length === 0) {
      throw new ClaimcheckError('jwks_no_usable_keys', `no usable keys (${parsed.skipped.length + dropped} skipped)`);
    }
    return { keys, skipped: parsed.skipped, dropped };
  }

  protected commit(set: PreparedSet): void {
    const now = this.scheduler.now();
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
    this.health.record(now, true, { keyCount: set.keys.length, keyIds, ...(afterFailures > 0 ? { afterFailures } : {}) });
  }

  /** The source still holds the keys in use. */
  protected confirm(): void {
    const now = this.scheduler.now();
    this.health.succeeded(now);
    this.health.record(now, true);
  }

  protected fail(err: unknown): void {
    const e = this.health.failed(err);
    this.opts.logger.debug({ issuer: this.issuer.key, code: e.outcome, error: e.message, failures: this.health.failures }, 'key load failed');
    this.health.record(this.scheduler.now(), this.keys !== undefined);
  }

  private boundedWait(p: Promise<void>): Promise<boolean> {
    return settledWithin(p, this.opts.coldWaitMs, this.scheduler);
  }
}
