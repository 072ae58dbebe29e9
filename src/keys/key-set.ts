/** What KeyRegistry holds per issuer, whatever the kind of source (remote-key-set.ts, local-key-set.ts). */
import type { KeyLookupResult } from '../authn/types.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { MaybePromise } from '../maybe-async.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { KeySetSample, KeySetStatus } from './key-set-health.js';
import type { SecretReader } from './local-key-source.js';
import type { Scheduler } from './scheduler.js';

export type TraceFetch = (document: 'jwks' | 'discovery' | 'introspection', issuer: string) => (outcome: string) => void;

export interface KeySet {
  /** the issuer's keysFingerprint this set was built for */
  readonly fingerprint: string;
  /** settles when the first load attempt has finished, whatever its outcome */
  readonly ready: Promise<void>;
  /** A snapshot swap with the same keysFingerprint keeps this set; later imports use the new algorithms. */
  update(issuer: CompiledIssuer): void;
  resolve(header: { alg: string; kid?: string }): MaybePromise<KeyLookupResult>;
  /**
   * Changes whenever the usable key material changes (rotation, removal); undefined while no keys
   * are usable (not loaded, or stale beyond maxStaleness), so caches of verified tokens step aside.
   */
  keysVersion(): number | undefined;
  /** For /readyz and `claimcheck check`; reading it changes nothing and logs nothing. */
  status(): KeySetStatus;
  /** For /metrics at scrape time; reading it changes nothing and logs nothing. */
  sample(): KeySetSample;
  /** Settles once no load (fetch or read) is in flight. */
  idle(): Promise<void>;
  close(): void;
}

export interface KeySetOptions {
  logger: Logger;
  metrics?: Metrics;
  scheduler: Scheduler;
  fetchTimeoutMs: number;
  /** longest a Check waits for a fetch in flight */
  coldWaitMs: number;
  discoveryIntervalMs: number;
  /** a JWKS or discovery document larger than this is a failed fetch */
  jwksMaxBytes: number;
  /** a JWKS with more keys is refused as a whole */
  jwksMaxKeys: number;
  /** a trace span per remote request (telemetry/tracing.ts); call the result with the outcome */
  traceFetch?: TraceFetch;
  /** how often a local key file or Secret is checked for changes */
  sourcePollMs: number;
  readSecret?: SecretReader;
}
