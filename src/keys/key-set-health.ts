/** The health of one issuer's key set: its state, the numbers /readyz and /metrics show, and a log line per state change. */
import type { Logger } from '../telemetry/logger.js';
import { describeFailure, outcomeOf, type FetchOutcome } from './fetch-outcome.js';

/**
 * loading: no attempt finished yet · failed: no keys, the last attempt failed · fresh: keys, the last
 * attempt succeeded · stale: last good keys served, the last attempt failed · expired: stale for
 * longer than maxStaleness, failing closed.
 */
export type KeyState = 'loading' | 'failed' | 'fresh' | 'stale' | 'expired';

export type KeySourceKind = 'uri' | 'discovery' | 'inline' | 'file' | 'secret';

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

export interface HealthContext {
  issuerKey: string;
  iss: string;
  logger: Logger;
  /** undefined: never expires (local sources, which no one else rotates) */
  maxStalenessMs: () => number | undefined;
}

export class KeySetHealth {
  lastSuccessMs: number | undefined;
  failures = 0;
  private firstAttemptMs: number | undefined;
  private failure: { outcome: FetchOutcome; message: string } | undefined;
  private reported: KeyState = 'loading';

  constructor(private readonly ctx: HealthContext) {}

  get error(): { outcome: FetchOutcome; message: string } | undefined {
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

  failed(err: unknown): void {
    this.failures++;
    this.failure = { outcome: outcomeOf(err), message: describeFailure(err) };
  }

  state(now: number, hasKeys: boolean): KeyState {
    if (!hasKeys) return this.failure ? 'failed' : 'loading';
    const limit = this.ctx.maxStalenessMs();
    if (limit !== undefined && this.lastSuccessMs !== undefined && now - this.lastSuccessMs > limit) return 'expired';
    return this.failure ? 'stale' : 'fresh';
  }

  staleSeconds(now: number): number {
    if (!this.failure) return 0;
    const since = this.lastSuccessMs ?? this.firstAttemptMs ?? now;
    return Math.max(0, Math.floor((now - since) / 1000));
  }

  /** Logs one line when the state differs from the one last logged; `detail` goes into that line. */
  observe(now: number, hasKeys: boolean, detail?: Record<string, unknown>): KeyState {
    const next = this.state(now, hasKeys);
    const prev = this.reported;
    if (next === prev) return next;
    this.reported = next;
    const why = this.failure ? { code: this.failure.outcome, error: this.failure.message, failures: this.failures } : {};
    const log = this.ctx.logger;
    // called on every Check (keysVersion): nothing is allocated unless the state changed
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
        log.warn({ ...base, ...why, maxStalenessMs: this.ctx.maxStalenessMs() ?? null }, 'key refresh failed: serving last good keys');
        break;
      case 'expired':
        log.error({ ...base, ...why, staleSeconds: this.staleSeconds(now) }, 'keys stale beyond maxStaleness: failing closed');
        break;
      case 'loading':
        break;
    }
    return next;
  }
}
