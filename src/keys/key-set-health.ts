/**
 * The health of one issuer's key set: its state, the numbers /readyz and /metrics show, and a log
 * line per state change. Reads (state, staleSeconds, error) change nothing: /readyz, /metrics and
 * every Check ask. The key set calls record() where the state may have moved: a load finished or
 * failed, or maxStaleness ran out.
 */
import type { Logger } from '../telemetry/logger.js';
import { describeFailure, outcomeOf, type FetchOutcome } from './fetch-outcome.js';

/**
 * loading: no attempt finished yet · failed: no keys, the last attempt failed · fresh: keys, the last
 * attempt succeeded · stale: last good keys served, the last attempt failed · expired: stale for
 * longer than maxStaleness, failing closed.
 */
export type KeyState = 'loading' | 'failed' | 'fresh' | 'stale' | 'expired';

/** none: an issuer with introspection and no jwks (no-key-set.ts) */
export type KeySourceKind = 'uri' | 'discovery' | 'inline' | 'file' | 'secret' | 'none';

/** One issuer's entry in /readyz and in `claimcheck check --json`. No key material, no server text. */
export interface KeySetStatus {
  /** namespace/name of the TrustedIssuer */
  issuer: string;
  source: KeySourceKind;
  state: KeyState;
  /** keys are loaded and not past maxStaleness */
  ready: boolean;
  keyCount: number;
  keyIds: string[];
  /** ISO time the keys were last confirmed current */
  lastRefresh?: string;
  /** 0 while the latest attempt succeeded; else seconds since the keys were last confirmed current (or since the first attempt) */
  staleSeconds: number;
  /** the latest attempt failed */
  stale: boolean;
  /** coarse description of the latest failure */
  error?: string;
  errorCode?: FetchOutcome;
  /** consecutive failed attempts */
  failures: number;
  /** discovery only: the jwks_uri in use */
  jwksUri?: string;
}

/** What /metrics needs per issuer, computed at scrape time (telemetry's IssuerKeySample). */
export interface KeySetSample {
  issuer: string;
  ready: boolean;
  keyCount: number;
  lastRefreshMs?: number;
  staleSeconds: number;
}

/** The latest failed attempt, as /readyz shows it. */
export interface KeyLoadFailure {
  outcome: FetchOutcome;
  message: string;
}

export interface HealthContext {
  issuerKey: string;
  iss: string;
  logger: Logger;
  /** undefined: never expires (local sources, which no one else rotates) */
  maxStalenessMs: number | undefined;
}

export class KeySetHealth {
  lastSuccessMs: number | undefined;
  failures = 0;
  private firstAttemptMs: number | undefined;
  private failure: KeyLoadFailure | undefined;
  private reported: KeyState = 'loading';

  constructor(private readonly ctx: HealthContext) {}

  get error(): KeyLoadFailure | undefined {
    return this.failure;
  }

  attempted(now: number): void {
    this.firstAttemptMs ??= now;
  }

  succeeded(now: number): void {
    this.lastSuccessMs = now;
    this.failure = undefined;
    this.failures = 0;
  }

  failed(err: unknown): KeyLoadFailure {
    this.failures++;
    this.failure = { outcome: outcomeOf(err), message: describeFailure(err) };
    return this.failure;
  }

  state(now: number, hasKeys: boolean): KeyState {
    if (!hasKeys) return this.failure ? 'failed' : 'loading';
    const end = this.freshUntilMs();
    if (end !== undefined && now > end) return 'expired';
    return this.failure ? 'stale' : 'fresh';
  }

  /** The last instant the keys are within maxStaleness; undefined when they never expire. */
  freshUntilMs(): number | undefined {
    const limit = this.ctx.maxStalenessMs;
    return limit === undefined || this.lastSuccessMs === undefined ? undefined : this.lastSuccessMs + limit;
  }

  staleSeconds(now: number): number {
    if (!this.failure) return 0;
    const since = this.lastSuccessMs ?? this.firstAttemptMs ?? now;
    return Math.max(0, Math.floor((now - since) / 1000));
  }

  /** Logs one line when the state differs from the one last recorded; `detail` goes into that line. */
  record(now: number, hasKeys: boolean, detail?: Record<string, unknown>): void {
    const next = this.state(now, hasKeys);
    const prev = this.reported;
    if (next === prev) return;
    this.reported = next;
    const why = this.failure ? { code: this.failure.outcome, error: this.failure.message, failures: this.failures } : {};
    const log = this.ctx.logger;
    const base = { issuer: this.ctx.issuerKey, iss: this.ctx.iss, state: next, ...detail };
    switch (next) {
      case 'fresh':
        if (prev === 'stale' || prev === 'expired') log.info({ ...base, previous: prev }, 'keys recovered');
        else log.info({ ...base, previous: prev }, 'keys loaded');
        break;
      case 'failed':
        log.error({ ...base, ...why }, 'keys unavailable: first load failed, failing closed');
        break;
      case 'stale':
        log.warn({ ...base, ...why, maxStalenessMs: this.ctx.maxStalenessMs ?? null }, 'key refresh failed: serving last good keys');
        break;
      case 'expired':
        log.error({ ...base, ...why, staleSeconds: this.staleSeconds(now) }, 'keys stale beyond maxStaleness: failing closed');
        break;
      case 'loading':
        break;
    }
  }
}
