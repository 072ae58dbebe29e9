/** A key load's result as a bounded metric label, and a coarse description safe for /readyz and the CLI. */
import { ClaimcheckError } from '../errors.js';

export const FETCH_OUTCOMES = [
  'ok',
  'refused',
  'connect_error',
  'tls_error',
  'timeout',
  'http_error',
  'redirect',
  'too_large',
  'invalid_json',
  'invalid_jwks',
  'too_many_keys',
  'no_usable_keys',
  'invalid_discovery',
  'issuer_mismatch',
  'unreadable',
  'error',
] as const;

export type FetchOutcome = (typeof FETCH_OUTCOMES)[number];

const BY_CODE: Record<string, FetchOutcome> = {
  key_fetch_refused: 'refused',
  key_fetch_failed: 'connect_error',
  key_fetch_tls: 'tls_error',
  key_fetch_timeout: 'timeout',
  key_fetch_status: 'http_error',
  key_fetch_redirect: 'redirect',
  key_fetch_too_large: 'too_large',
  key_fetch_invalid: 'invalid_json',
  jwks_invalid: 'invalid_jwks',
  jwks_too_many_keys: 'too_many_keys',
  jwks_no_usable_keys: 'no_usable_keys',
  discovery_invalid: 'invalid_discovery',
  discovery_issuer_mismatch: 'issuer_mismatch',
  jwks_source_unavailable: 'unreadable',
};

/** Never an unbounded value: an unexpected error is `error`. */
export function outcomeOf(err: unknown): FetchOutcome {
  return err instanceof ClaimcheckError ? (BY_CODE[err.code] ?? 'error') : 'error';
}

/** keys/ builds every ClaimcheckError message itself (no URLs, server text or key material); anything else is hidden. */
export function describeFailure(err: unknown): string {
  return err instanceof ClaimcheckError ? err.message : 'internal error';
}

/**
 * A discovery endpoint that could not be read, as opposed to one that answered with a document
 * we refuse: only the first may fall back to the last jwks_uri that was validated.
 */
export function isUnreachable(outcome: FetchOutcome): boolean {
  return ['connect_error', 'tls_error', 'timeout', 'http_error', 'redirect', 'too_large', 'invalid_json'].includes(outcome);
}
