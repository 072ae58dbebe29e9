import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** All claimcheck metrics, on a registry of their own. Labels stay bounded: no path, no subject. */
export class Metrics {
  readonly registry = new Registry();
  readonly checks = new Counter({
    name: 'claimcheck_checks_total',
    help: 'Check decisions by decision, reason and policy',
    labelNames: ['decision', 'reason', 'policy'] as const,
    registers: [this.registry],
  });
  readonly checkDuration = new Histogram({
    name: 'claimcheck_check_duration_seconds',
    help: 'Time to decide one Check, from request decoded to response built',
    labelNames: ['decision'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly keyFetches = new Counter({
    name: 'claimcheck_key_fetches_total',
    help: 'JWKS and discovery fetches by issuer and outcome',
    labelNames: ['issuer', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly keyCount = new Gauge({
    name: 'claimcheck_issuer_keys',
    help: 'Usable verification keys per issuer',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });
  readonly keyLastRefresh = new Gauge({
    name: 'claimcheck_issuer_keys_last_refresh_timestamp_seconds',
    help: 'Unix time of the last successful key refresh per issuer',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'claimcheck_config_reloads_total',
    help: 'Configuration reload attempts by result (success, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly configErrors = new Gauge({
    name: 'claimcheck_config_errors',
    help: 'Problems found in the most recent configuration attempt (0 when it was accepted)',
    registers: [this.registry],
  });
  readonly configGeneration = new Gauge({
    name: 'claimcheck_config_generation',
    help: 'Generation of the snapshot being served',
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'claimcheck_ready',
    help: '1 when this process reports ready',
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'claimcheck_' });
  }
}
