import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BatchedHistogram } from './batched-histogram.js';
import { TlsMetrics } from './tls-metrics.js';

/** Which listener a Check came in on: gRPC ext_authz, or the HTTP authorization listener. */
export type Protocol = 'grpc' | 'http';

/** One issuer's key set as the gauges show it (keys/ KeySetSample). */
export interface IssuerKeySample {
  issuer: string;
  ready: boolean;
  keyCount: number;
  lastRefreshMs?: number;
  staleSeconds: number;
}

export interface CheckLabels {
  readonly key: string;
  readonly labels: { decision: string; reason: string; policy: string; protocol: Protocol };
}

/** All claimcheck metrics, on a registry of their own. Labels stay bounded: no path, no subject. */
export class Metrics {
  readonly registry = new Registry();
  /**
   * Counted per request in a plain map and handed to prom-client when scraped: its inc()
   * validates and hashes the labels on every call (~0.7 µs, on the request path).
   */
  private readonly pendingChecks = new Map<string, { labels: { decision: string; reason: string; policy: string; protocol: Protocol }; n: number }>();
  readonly checks = new Counter({
    name: 'claimcheck_checks_total',
    help: 'Check decisions by decision, reason, policy and protocol (grpc, http)',
    labelNames: ['decision', 'reason', 'policy', 'protocol'] as const,
    registers: [this.registry],
    collect: () => this.flushChecks(),
  });
  /** observe(BatchedHistogram.key(decision, protocol), seconds) */
  readonly checkDuration = new BatchedHistogram({
    name: 'claimcheck_check_duration_seconds',
    help: 'Time to decide one Check, from request decoded to response built, by decision and protocol',
    labelNames: ['decision', 'protocol'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly keyFetches = new Counter({
    name: 'claimcheck_key_fetches_total',
    help: 'JWKS and discovery fetches by issuer, document (jwks, discovery) and outcome (ok, timeout, http_error, ...)',
    labelNames: ['issuer', 'document', 'outcome'] as const,
    registers: [this.registry],
  });
  // The per-issuer key gauges are filled at scrape time from the key sets (watchKeySets).
  private readonly keySources = new Set<() => readonly IssuerKeySample[]>();
  // Each cluster worker (--workers) holds its own key sets: the aggregated series report the worst worker.
  readonly keyCount = this.keyGauge('claimcheck_issuer_keys', 'Usable verification keys per issuer', 'min', (s) => s.keyCount);
  readonly keyLastRefresh = this.keyGauge(
    'claimcheck_issuer_keys_last_refresh_timestamp_seconds',
    'Unix time the keys were last confirmed current (successful fetch or unchanged key file)',
    'min',
    (s) => (s.lastRefreshMs !== undefined ? Math.floor(s.lastRefreshMs / 1000) : undefined),
  );
  readonly keyStaleSeconds = this.keyGauge(
    'claimcheck_issuer_keys_stale_seconds',
    'Seconds since the keys were last confirmed current, while the latest refresh failed; 0 when it succeeded',
    'max',
    (s) => s.staleSeconds,
  );
  readonly keyReady = this.keyGauge('claimcheck_issuer_keys_ready', '1 when the issuer has keys within maxStaleness', 'min', (s) => (s.ready ? 1 : 0));
  readonly configReloads = new Counter({
    name: 'claimcheck_config_reloads_total',
    help: 'Configuration reload attempts by result (success, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly configErrors = new Gauge({
    name: 'claimcheck_config_errors',
    help: 'Problems found in the most recent configuration attempt (0 when it was accepted)',
    // --workers: each worker loads the configuration; /metrics shows the worst
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly configResources = new Gauge({
    name: 'claimcheck_config_resources',
    help: 'Resources (and unreadable documents) of the configuration by state: accepted (served) or rejected',
    labelNames: ['state'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly malformedRequests = new Counter({
    name: 'claimcheck_malformed_requests_total',
    help: 'Requests that failed before a decision (answered with a deny) by kind and protocol (grpc, http): malformed_request, request_too_large, request_timeout, connection_busy, unknown_endpoint, missing_original_uri, conflicting_original_request, identity_header_alias, headers_too_large, body_too_large (docs/security.md), internal_error',
    labelNames: ['kind', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly sensitiveClaims = new Counter({
    name: 'claimcheck_sensitive_claims_total',
    help: 'Tokens whose payload carried a forbidden claim (kind forbidden) or sensitive data (kind pan), by issuer (namespace/name), counted when the token is verified, not on each reuse from the token cache',
    labelNames: ['issuer', 'kind'] as const,
    registers: [this.registry],
  });
  readonly configGeneration = new Gauge({
    name: 'claimcheck_config_generation',
    help: 'Generation of the snapshot being served',
    aggregator: 'min',
    registers: [this.registry],
  });
  private readonly pendingLookups = { hit: 0, miss: 0, rejected_hit: 0 };
  readonly tokenCacheLookups = this.batchedResults('claimcheck_token_cache_lookups_total', 'Verified-token cache lookups: hit, miss, or rejected_hit (a cached bad signature or malformed token)', this.pendingLookups);
  private readonly pendingIntrospections = { hit: 0, miss: 0 };
  readonly introspectionCacheLookups = this.batchedResults('claimcheck_introspection_cache_lookups_total', 'Introspection answer cache lookups for opaque tokens: hit or miss', this.pendingIntrospections);
  readonly introspectionRequests = new Counter({
    name: 'claimcheck_introspection_requests_total',
    help: 'Requests to introspection endpoints by issuer and outcome (active, inactive, or why it failed: timeout, http_error, ...)',
    labelNames: ['issuer', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly pendingAnswers = { hit: 0, miss: 0 };
  readonly answerCacheLookups = this.batchedResults('claimcheck_answer_cache_lookups_total', 'HTTP authorization listener: remembered-answer lookups, hit or miss', this.pendingAnswers);
  readonly ready = new Gauge({
    name: 'claimcheck_ready',
    help: '1 when this process reports ready (--workers: when every worker does)',
    aggregator: 'min',
    registers: [this.registry],
  });
  // Kubernetes config source (labels: resource = plural, kind = resource kind; both bounded)
  readonly kubeRelists = new Counter({
    name: 'claimcheck_kubernetes_relists_total',
    help: 'Complete lists of a watched collection by reason (initial, expired = 410 Gone, periodic, error)',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly kubeWatchRestarts = new Counter({
    name: 'claimcheck_kubernetes_watch_restarts_total',
    help: 'Watch streams that ended, by reason (closed, error, idle = watchdog, expired = 410 Gone)',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly kubeObjects = new Gauge({
    name: 'claimcheck_kubernetes_objects',
    help: 'Objects of each kind currently seen in the API server',
    labelNames: ['kind'] as const,
    aggregator: 'max', // --workers: every worker watches the same objects
    registers: [this.registry],
  });
  readonly kubeRejected = new Gauge({
    name: 'claimcheck_kubernetes_rejected_objects',
    help: 'Objects of each kind whose current version is not accepted',
    labelNames: ['kind'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'claimcheck_kubernetes_status_writes_total',
    help: 'Status subresource updates by kind and result (only the elected replica writes)',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'claimcheck_leader',
    help: '1 while this replica holds the status Lease',
    registers: [this.registry],
  });

  readonly tls = new TlsMetrics(this.registry);

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'claimcheck_' });
  }

  /** Report these key sets on every scrape; returns the function that stops it. */
  watchKeySets(source: () => readonly IssuerKeySample[]): () => void {
    this.keySources.add(source);
    return () => void this.keySources.delete(source);
  }

  /** claimcheck_checks_total{decision, reason, policy, protocol} += 1 */
  /** A counter by `result` whose counts are kept in `pending` on the request path and added when scraped. */
  private batchedResults(name: string, help: string, pending: Record<string, number>): Counter<'result'> {
    const counter: Counter<'result'> = new Counter({
      name,
      help,
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect: () => {
        for (const [result, n] of Object.entries(pending)) {
          if (n > 0) counter.inc({ result }, n);
          pending[result] = 0;
        }
      },
    });
    return counter;
  }

  countCheck(decision: string, reason: string, policy: string, protocol: Protocol = 'grpc'): void {
    this.countCheckAs(Metrics.checkLabels(decision, reason, policy, protocol));
  }

  /** The labels of countCheck, made once by a caller that counts the same ones again and again. */
  static checkLabels(decision: string, reason: string, policy: string, protocol: Protocol): CheckLabels {
    return { key: `${decision}\0${reason}\0${policy}\0${protocol}`, labels: { decision, reason, policy, protocol } };
  }

  countCheckAs(l: CheckLabels): void {
    const entry = this.pendingChecks.get(l.key);
    if (entry) entry.n++;
    else this.pendingChecks.set(l.key, { labels: l.labels, n: 1 });
  }

  /** claimcheck_token_cache_lookups_total{result} += 1 */
  countTokenCacheLookup(result: 'hit' | 'miss' | 'rejected_hit'): void {
    this.pendingLookups[result]++;
  }

  countIntrospectionCacheLookup(result: 'hit' | 'miss'): void {
    this.pendingIntrospections[result]++;
  }

  countAnswerCacheLookup(result: 'hit' | 'miss'): void {
    this.pendingAnswers[result]++;
  }

  private flushChecks(): void {
    for (const { labels, n } of this.pendingChecks.values()) this.checks.inc(labels, n);
    this.pendingChecks.clear();
  }

  private keyGauge(name: string, help: string, aggregator: 'min' | 'max', value: (s: IssuerKeySample) => number | undefined): Gauge<'issuer'> {
    const gauge: Gauge<'issuer'> = new Gauge({
      name,
      help,
      labelNames: ['issuer'] as const,
      registers: [this.registry],
      aggregator,
      collect: () => {
        gauge.reset();
        for (const source of this.keySources) {
          for (const s of source()) {
            const v = value(s);
            if (v !== undefined) gauge.set({ issuer: s.issuer }, v);
          }
        }
      },
    });
    return gauge;
  }
}
