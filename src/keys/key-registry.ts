/** All issuers' key sets, kept in step with the snapshot; implements authn's KeyLookup. */
import type { KeyLookup, KeyLookupResult } from '../authn/types.js';
import { KEYS_UNAVAILABLE } from '../authn/invalid.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { MaybePromise } from '../maybe-async.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { KeySet, KeySetOptions, TraceFetch } from './key-set.js';
import type { KeySetStatus } from './key-set-health.js';
import { LocalKeySet } from './local-key-set.js';
import { DecryptionKeyRing } from './decryption-key-ring.js';
import type { Decrypted, Introspected, VerifyFailure } from '../authn/types.js';
import { IntrospectionClient } from './introspection-client.js';
import type { SecretReader } from './local-key-source.js';
import { isRemote } from './remote-documents.js';
import { NoKeySet } from './no-key-set.js';
import { RemoteKeySet } from './remote-key-set.js';
import { DISCOVERY_INTERVAL_MS } from './remote-key-source.js';
import { MAX_BODY_BYTES } from './fetch-json.js';
import { MAX_KEYS } from './parse-jwks.js';
import { realScheduler, settledWithin, withClock, type Scheduler } from './scheduler.js';

/**
 * Below Envoy's default ext_authz timeout (200 ms), so the client gets claimcheck's own 503 rather
 * than Envoy's timeout error; the fetch itself goes on in the background.
 */
export const COLD_WAIT_MS = 150;
/** per remote request, like jose's createRemoteJWKSet */
export const FETCH_TIMEOUT_MS = 5000;
/** Like the file config source's rescan: a changed key file is picked up within about two seconds. */
export const SOURCE_POLL_MS = 2000;

export interface KeyRegistryOptions {
  logger: Logger;
  metrics?: Metrics;
  /** clock and timers of refreshes, retries, polls, cold waits and maxStaleness; default the real ones, unref'ed */
  scheduler?: Scheduler;
  /** ms since epoch, replacing the scheduler's clock; for callers that fake only the time of day */
  now?: () => number;
  /** per remote request (discovery or JWKS); default 5 s like jose's createRemoteJWKSet */
  fetchTimeoutMs?: number;
  /** longest a Check waits for a key fetch in flight; default COLD_WAIT_MS (the server preloads at startup) */
  coldWaitMs?: number;
  /** re-read of the OIDC discovery document; default DISCOVERY_INTERVAL_MS (1 h) */
  discoveryIntervalMs?: number;
  /** JWKS and discovery body cap; default MAX_BODY_BYTES (512 KiB) */
  jwksMaxBytes?: number;
  /** keys in one JWKS; default MAX_KEYS (100) */
  jwksMaxKeys?: number;
  /** OpenTelemetry: a span per JWKS, discovery or introspection request */
  traceFetch?: TraceFetch;
  /** check of a local key file or Secret for changes; default SOURCE_POLL_MS (2 s) */
  sourcePollMs?: number;
  /** content of a `secretRef` without a file path (kubernetes Secrets) */
  readSecret?: SecretReader;
}

export class KeyRegistry implements KeyLookup {
  private readonly sets = new Map<string, KeySet>();
  /** issuers with `decryption`: their private keys */
  private readonly rings = new Map<string, DecryptionKeyRing>();
  /** issuers with `introspection`: their clients and answer caches */
  private readonly introspectors = new Map<string, IntrospectionClient>();
  private readonly setOpts: KeySetOptions;
  private readonly unwatch: (() => void) | undefined;

  constructor(opts: KeyRegistryOptions) {
    const scheduler = opts.scheduler ?? realScheduler;
    this.setOpts = {
      logger: opts.logger,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      scheduler: opts.now ? withClock(scheduler, opts.now) : scheduler,
      fetchTimeoutMs: opts.fetchTimeoutMs ?? FETCH_TIMEOUT_MS,
      coldWaitMs: opts.coldWaitMs ?? COLD_WAIT_MS,
      discoveryIntervalMs: opts.discoveryIntervalMs ?? DISCOVERY_INTERVAL_MS,
      jwksMaxBytes: opts.jwksMaxBytes ?? MAX_BODY_BYTES,
      jwksMaxKeys: opts.jwksMaxKeys ?? MAX_KEYS,
      sourcePollMs: opts.sourcePollMs ?? SOURCE_POLL_MS,
      ...(opts.readSecret ? { readSecret: opts.readSecret } : {}),
      ...(opts.traceFetch ? { traceFetch: opts.traceFetch } : {}),
    };
    // Key count, last refresh, readiness and staleness are read at scrape time: always current, and a removed issuer simply disappears.
    this.unwatch = opts.metrics?.watchKeySets(() => [...this.sets.values()].map((s) => s.sample()));
  }

  /** One key set per issuer: reused while its keysFingerprint is unchanged, stopped when the issuer goes away. */
  sync(issuers: Iterable<CompiledIssuer>): void {
    const list = [...issuers];
    const seen = new Set<string>();
    for (const issuer of list) {
      seen.add(issuer.key);
      const existing = this.sets.get(issuer.key);
      if (existing && existing.fingerprint === issuer.keysFingerprint) {
        existing.update(issuer);
        continue;
      }
      existing?.close();
      this.sets.set(issuer.key, newKeySet(issuer, this.setOpts));
    }
    for (const [key, set] of this.sets) {
      if (!seen.has(key)) {
        set.close();
        this.sets.delete(key);
      }
    }
    this.syncRings(list);
  }

  private syncRings(issuers: readonly CompiledIssuer[]): void {
    syncPerIssuer(this.rings, issuers, (i) => i.decryption?.fingerprint, (i) => new DecryptionKeyRing(i, this.setOpts));
    syncPerIssuer(this.introspectors, issuers, (i) => i.introspection?.fingerprint, (i) => new IntrospectionClient(i, this.setOpts));
  }

  introspect(issuer: CompiledIssuer, token: string): MaybePromise<Introspected | VerifyFailure> {
    const client = this.introspectors.get(issuer.key);
    return client && client.fingerprint === issuer.introspection?.fingerprint ? client.introspect(token) : KEYS_UNAVAILABLE;
  }

  decrypt(issuer: CompiledIssuer, jwe: string): MaybePromise<Decrypted | VerifyFailure> {
    const ring = this.rings.get(issuer.key);
    return ring && ring.fingerprint === issuer.decryption?.fingerprint ? ring.decrypt(jwe) : KEYS_UNAVAILABLE;
  }

  resolve(issuer: CompiledIssuer, header: { alg: string; kid?: string }): MaybePromise<KeyLookupResult> {
    const set = this.sets.get(issuer.key);
    if (!set) return KEYS_UNAVAILABLE;
    return set.resolve(header);
  }

  /** See KeySet.keysVersion; undefined for an issuer without a usable key set. */
  keysVersion(issuer: CompiledIssuer): number | undefined {
    const set = this.sets.get(issuer.key);
    return set && set.fingerprint === issuer.keysFingerprint ? set.keysVersion() : undefined;
  }

  /** Resolves once every issuer's first load attempt has finished, or after timeoutMs; status() tells which are ready. */
  async waitReady(timeoutMs: number): Promise<void> {
    await settledWithin(Promise.all([...this.sets.values()].map((s) => s.ready)), timeoutMs, this.setOpts.scheduler);
  }

  /** Resolves once no key set has a fetch or read in flight, e.g. those started by a scheduler's timers. */
  async idle(): Promise<void> {
    await Promise.all([...this.sets.values()].map((s) => s.idle()));
  }

  status(): KeySetStatus[] {
    return [...this.sets.values()].map((s) => s.status());
  }

  close(): void {
    this.unwatch?.();
    for (const set of this.sets.values()) set.close();
    this.sets.clear();
    for (const ring of this.rings.values()) ring.close();
    this.rings.clear();
    for (const client of this.introspectors.values()) client.close();
    this.introspectors.clear();
  }
}

/** One `T` per issuer that has the feature (`fingerprint` defined): kept while its fingerprint holds, else replaced. */
function syncPerIssuer<T extends { fingerprint: string; update(i: CompiledIssuer): void; close?(): void }>(
  byIssuer: Map<string, T>,
  issuers: readonly CompiledIssuer[],
  fingerprint: (i: CompiledIssuer) => string | undefined,
  create: (i: CompiledIssuer) => T,
): void {
  const wanted = new Set<string>();
  for (const issuer of issuers) {
    const fp = fingerprint(issuer);
    if (fp === undefined) continue;
    wanted.add(issuer.key);
    const existing = byIssuer.get(issuer.key);
    if (existing && existing.fingerprint === fp) {
      existing.update(issuer);
      continue;
    }
    existing?.close?.();
    byIssuer.set(issuer.key, create(issuer));
  }
  for (const [key, item] of byIssuer) {
    if (!wanted.has(key)) {
      item.close?.();
      byIssuer.delete(key);
    }
  }
}

function newKeySet(issuer: CompiledIssuer, opts: KeySetOptions): KeySet {
  if (issuer.jwks.none) return new NoKeySet(issuer);
  return isRemote(issuer) ? new RemoteKeySet(issuer, opts) : new LocalKeySet(issuer, opts);
}
