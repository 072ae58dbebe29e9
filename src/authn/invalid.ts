/** Coarse, value-free failures: the description ends up in a WWW-Authenticate header. */
import type { VerifyFailure } from './types.js';

const DESCRIPTIONS = {
  token_too_large: 'token too large',
  malformed_token: 'malformed token',
  unsupported_token: 'unsupported token',
  unsupported_header: 'unsupported token header',
  alg_not_allowed: 'algorithm not allowed',
  untrusted_issuer: 'untrusted issuer',
  bad_signature: 'signature invalid',
  invalid_claim_type: 'invalid claim type',
  missing_claim: 'missing required claim',
  token_expired: 'token expired',
  token_not_yet_valid: 'token not yet valid',
  token_issued_in_future: 'token issued in the future',
  token_lifetime_exceeded: 'token lifetime too long',
  audience_mismatch: 'audience not allowed',
  token_type_not_allowed: 'token type not allowed',
} as const;

export type InvalidReason = keyof typeof DESCRIPTIONS;

export function invalid(reason: InvalidReason): VerifyFailure {
  return { ok: false, status: 'invalid', reason, description: DESCRIPTIONS[reason] };
}
