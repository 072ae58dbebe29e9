/** One remote key load: discovery when due, then the JWKS; every document fetched is counted by outcome. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { isUnreachable, outcomeOf, type FetchOutcome } from './fetch-outcome.js';
import { discoverJwksUri, fetchJwks, type DocumentLimits } from './remote-documents.js';
import type { TraceFetch } from './key-set.js';
import type { ParsedKeys } from './parse-jwks.js';
import type { Scheduler } from './scheduler.js';

/**
 * Default for re-reading the OIDC discovery document: hourly, at the first key fetch after the hour.
 * jwks_uri moves far less often than keys rotate; jose/openid-client and go-oidc read it once at
 * start-up, Istio at every JWKS refresh (20 min). An hour bounds a move while adding at most one
 * request an hour per issuer.
 */
export const DISCOVERY_INTERVAL_MS = 60 * 60_000;

export interface RemoteSourceOptions {
  logger: Logger;
  metrics?: Metrics;
  scheduler: Pick<Scheduler, 'now'>;
  fetchTimeoutMs: number;
  discoveryIntervalMs: number;
  jwksMaxBytes: number;
  jwksMaxKeys: number;
  traceFetch?: TraceFetch;
}

export class RemoteKeySource {
  /** the JWKS location in use: spec.jwks.uri, or the last one discovery validated */
  private jwksUri: string | undefined;
  private discoveredAtMs = -Infinity;
  private rediscover = false;

  constructor(private readonly opts: RemoteSourceOptions) {}

  get currentJwksUri(): string | undefined {
    return this.jwksUri;
  }

  /**
   * Fetch, parse and `prepare` the JWKS; `prepare` runs before the fetch is counted so that a set
   * with no usable key counts as `no_usable_keys`, not `ok`.
   */
  async load<T>(issuer: CompiledIssuer, prepare: (parsed: ParsedKeys) => Promise<T>): Promise<{ value: T; maxAgeSec?: number }> {
    const uri = issuer.jwks.uri ?? (await this.discovered(issuer));
    this.jwksUri = uri;
    const span = this.opts.traceFetch?.('jwks', issuer.key);
    try {
      const { parsed, maxAgeSec } = await fetchJwks(issuer, uri, this.limits());
      const value = await prepare(parsed);
      this.count(issuer, 'jwks', 'ok', span);
      return { value, ...(maxAgeSec !== undefined ? { maxAgeSec } : {}) };
    } catch (err) {
      this.count(issuer, 'jwks', outcomeOf(err), span);
      // The jwks_uri itself may be what moved: ask discovery again before the next try.
      this.rediscover = true;
      throw err;
    }
  }

  private async discovered(issuer: CompiledIssuer): Promise<string> {
    const now = this.opts.scheduler.now();
    const known = this.jwksUri;
    if (known !== undefined && !this.rediscover && now - this.discoveredAtMs < this.opts.discoveryIntervalMs) return known;
    const span = this.opts.traceFetch?.('discovery', issuer.key);
    try {
      const uri = await discoverJwksUri(issuer, this.limits());
      this.count(issuer, 'discovery', 'ok', span);
      if (known !== undefined && uri !== known) {
        this.opts.logger.info({ issuer: issuer.key, iss: issuer.issuer, jwksUri: uri, previous: known }, 'discovery: jwks_uri changed');
      }
      this.discoveredAtMs = now;
      this.rediscover = false;
      return uri;
    } catch (err) {
      const outcome = outcomeOf(err);
      this.count(issuer, 'discovery', outcome, span);
      // An endpoint that cannot be reached right now does not stop JWKS refreshes from the location it
      // last validated; a document that answers and is refused (another issuer, no jwks_uri) does.
      if (known !== undefined && isUnreachable(outcome)) {
        this.opts.logger.debug({ issuer: issuer.key, outcome }, 'discovery re-read failed; using the last validated jwks_uri');
        return known;
      }
      this.jwksUri = undefined;
      throw err;
    }
  }

  private limits(): DocumentLimits {
    return { timeoutMs: this.opts.fetchTimeoutMs, maxBytes: this.opts.jwksMaxBytes, maxKeys: this.opts.jwksMaxKeys };
  }

  private count(issuer: CompiledIssuer, document: 'jwks' | 'discovery', outcome: FetchOutcome, span?: (outcome: string) => void): void {
    this.opts.metrics?.keyFetches.inc({ issuer: issuer.key, document, outcome });
    span?.(outcome);
  }
}
