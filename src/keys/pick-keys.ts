/** Which of an issuer's keys may verify a token header, imported for its algorithm. */
import type { KeyLookupResult, VerificationKey } from '../authn/types.js';
import type { PreparedKey } from './prepared-key.js';
import { invalid } from '../authn/invalid.js';

/** Tokens without a kid try at most this many keys: each try is a signature verification. */
export const MAX_CANDIDATES = 10;

/** Keys for this header; a kid the set does not hold at all is `unknown_kid`. */
export function pickCandidates(keys: readonly PreparedKey[], header: { alg: string; kid?: string }): PreparedKey[] | 'unknown_kid' {
  if (header.kid === undefined) return keys.filter((k) => k.fits(header.alg)).slice(0, MAX_CANDIDATES);
  const byKid = keys.filter((k) => k.kid === header.kid);
  // Like Envoy jwt_authn: a key without a kid (e.g. from PEM) may verify a token that names one.
  const pool = byKid.length > 0 ? byKid : keys.filter((k) => k.kid === undefined);
  if (pool.length === 0) return 'unknown_kid';
  return pool.filter((k) => k.fits(header.alg)).slice(0, MAX_CANDIDATES);
}

/** The candidates as verification keys, in order; a candidate that cannot be imported for `alg` is left out. */
export async function lookupResult(found: PreparedKey[] | 'unknown_kid', alg: string): Promise<KeyLookupResult> {
  if (found === 'unknown_kid') return invalid('unknown_kid');
  const usable: { key: VerificationKey; kid?: string }[] = [];
  for (const k of found) {
    const key = await k.importFor(alg);
    if (key) usable.push({ key, ...(k.kid !== undefined ? { kid: k.kid } : {}) });
  }
  if (usable.length === 0) return invalid('no_matching_key');
  const [first, ...more] = usable;
  return { ok: true, ...first!, ...(more.length > 0 ? { more } : {}) };
}
