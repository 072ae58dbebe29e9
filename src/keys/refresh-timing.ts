/** When the next key fetch happens: after success (refreshInterval, max-age) and after failure (backoff). */
import type { CompiledJwks } from '../compile/snapshot.js';

/** No retry sooner than this, whatever minRefreshInterval says. */
export const MIN_RETRY_MS = 1000;
/** Upper share of a retry delay added at random, so replicas that failed together do not retry together. */
export const RETRY_JITTER = 0.2;

type Timing = Pick<CompiledJwks, 'refreshIntervalMs' | 'minRefreshIntervalMs'>;

/**
 * RFC 9111 §5.2.2.1 max-age may shorten refreshInterval, never below the cooldown nor 1 s: a server
 * answering `no-store` or `max-age=0` must not turn the refresh into a loop.
 */
export function refreshDelayMs(jwks: Timing, maxAgeSec: number | undefined): number {
  if (maxAgeSec === undefined) return jwks.refreshIntervalMs;
  return Math.max(MIN_RETRY_MS, jwks.minRefreshIntervalMs, Math.min(jwks.refreshIntervalMs, maxAgeSec * 1000));
}

/**
 * After the n-th consecutive failure (n >= 1): minRefreshInterval doubled per failure, capped at
 * refreshInterval, plus up to 20% jitter. Never below minRefreshInterval (nor 1 s), so the
 * per-issuer cooldown holds for retries too.
 */
export function retryDelayMs(jwks: Timing, failures: number, random: () => number = Math.random): number {
  const base = Math.max(MIN_RETRY_MS, jwks.minRefreshIntervalMs);
  const cap = Math.max(base, jwks.refreshIntervalMs);
  const delay = Math.min(cap, base * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return Math.round(delay * (1 + RETRY_JITTER * random()));
}
