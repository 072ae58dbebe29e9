/**
 * Every reason a request can be denied or allowed with: the `reason` label of
 * claimcheck_checks_total, the decision log's `reason`, the codes `claimcheck check` and
 * docs/responses.md name. One table says, for each denial, what kind of denial it is
 * (which decides the gRPC code, the HTTP status and the challenge: respond/build-deny.ts)
 * and its coarse description (the `error_description`: never a claim value).
 */
import type { DenyKind } from './decision.js';
import type { NormalizeReason } from './authz/normalize-path.js';

const TABLE = {
  // the token is bad: 401 invalid_token
  token_too_large: ['invalid_token', 'token too large'],
  malformed_token: ['invalid_token', 'malformed token'],
  unsupported_token: ['invalid_token', 'unsupported token'],
  unsupported_header: ['invalid_token', 'unsupported token header'],
  alg_not_allowed: ['invalid_token', 'algorithm not allowed'],
  untrusted_issuer: ['invalid_token', 'untrusted issuer'],
  unknown_kid: ['invalid_token', 'unknown signing key'],
  no_matching_key: ['invalid_token', 'no matching key'],
  bad_signature: ['invalid_token', 'signature invalid'],
  invalid_claim_type: ['invalid_token', 'invalid claim type'],
  missing_claim: ['invalid_token', 'missing required claim'],
  token_expired: ['invalid_token', 'token expired'],
  token_not_yet_valid: ['invalid_token', 'token not yet valid'],
  token_issued_in_future: ['invalid_token', 'token issued in the future'],
  token_lifetime_exceeded: ['invalid_token', 'token lifetime too long'],
  audience_mismatch: ['invalid_token', 'audience not allowed'],
  token_type_not_allowed: ['invalid_token', 'token type not allowed'],
  token_revoked: ['invalid_token', 'token revoked'],
  // opaque tokens (TrustedIssuer introspection, RFC 7662)
  token_inactive: ['invalid_token', 'token is not active'],
  // encrypted tokens (TrustedIssuer decryption)
  encryption_not_allowed: ['invalid_token', 'token encryption algorithm not allowed'],
  decryption_failed: ['invalid_token', 'token cannot be decrypted'],
  unsigned_inner_token: ['invalid_token', 'encrypted token does not carry a signed token'],
  // payload hygiene (TrustedIssuer payload)
  payload_too_large: ['invalid_token', 'token payload too large'],
  forbidden_claim: ['invalid_token', 'token carries a forbidden claim'],
  sensitive_claim: ['invalid_token', 'token carries sensitive data'],
  // sender-constrained tokens (RFC 9449 §7, RFC 8705 §3): the token is bad as presented
  dpop_token_as_bearer: ['invalid_token', 'bound token sent as a bearer token'],
  dpop_proof_missing: ['invalid_token', 'DPoP proof required'],
  dpop_token_not_bound: ['invalid_token', 'token is not bound to a DPoP key'],
  token_not_sender_constrained: ['invalid_token', 'token is not sender-constrained'],
  unsupported_binding: ['invalid_token', 'unsupported token binding'],
  certificate_missing: ['invalid_token', 'client certificate required'],
  certificate_mismatch: ['invalid_token', 'client certificate does not match the token'],
  // a DPoP proof (RFC 9449 §4.3) that does not hold: 401 invalid_dpop_proof
  dpop_proof_malformed: ['invalid_dpop_proof', 'malformed DPoP proof'],
  dpop_proof_type: ['invalid_dpop_proof', 'DPoP proof has the wrong type'],
  dpop_proof_alg: ['invalid_dpop_proof', 'DPoP proof algorithm not allowed'],
  dpop_proof_key: ['invalid_dpop_proof', 'DPoP proof key invalid'],
  dpop_proof_signature: ['invalid_dpop_proof', 'DPoP proof signature invalid'],
  dpop_proof_jti: ['invalid_dpop_proof', 'DPoP proof jti invalid'],
  dpop_proof_htm: ['invalid_dpop_proof', 'DPoP proof method mismatch'],
  dpop_proof_htu: ['invalid_dpop_proof', 'DPoP proof URI mismatch'],
  dpop_proof_iat: ['invalid_dpop_proof', 'DPoP proof too old or from the future'],
  dpop_proof_ath: ['invalid_dpop_proof', 'DPoP proof is for another token'],
  dpop_proof_key_mismatch: ['invalid_dpop_proof', 'DPoP proof key is not the token key'],
  dpop_proof_replayed: ['invalid_dpop_proof', 'DPoP proof replayed'],
  // RFC 9449 §8: the proof must carry a nonce claimcheck issued
  dpop_nonce_missing: ['use_dpop_nonce', 'DPoP nonce required'],
  dpop_nonce_stale: ['use_dpop_nonce', 'DPoP nonce stale'],
  // no token where one is required: 401 without an error code (RFC 6750 §3.1)
  missing_token: ['unauthorized', 'token required'],
  // the token is good, the rule says no: 403
  insufficient_scope: ['insufficient_scope', 'insufficient scope'],
  claim_mismatch: ['access_denied', 'access denied'],
  condition_false: ['access_denied', 'access denied'],
  condition_error: ['access_denied', 'access denied'],
  no_rule: ['access_denied', 'access denied'],
  rule_denies: ['access_denied', 'access denied'],
  no_policy: ['access_denied', 'no policy'],
  policy_not_found: ['access_denied', 'no policy'],
  // the request is malformed: 400 invalid_request
  invalid_host: ['invalid_request', 'invalid host'],
  multiple_credentials: ['invalid_request', 'more than one credential'],
  dpop_proof_multiple: ['invalid_request', 'more than one DPoP proof'],
  not_origin_form: ['invalid_request', 'malformed request path'],
  path_traversal: ['invalid_request', 'malformed request path'],
  encoded_slash: ['invalid_request', 'malformed request path'],
  encoded_backslash: ['invalid_request', 'malformed request path'],
  backslash: ['invalid_request', 'malformed request path'],
  nul: ['invalid_request', 'malformed request path'],
  control_character: ['invalid_request', 'malformed request path'],
  invalid_encoding: ['invalid_request', 'malformed request path'],
  // the gRPC request message itself, refused before any decision
  malformed_request: ['invalid_request', 'malformed CheckRequest'],
  request_too_large: ['invalid_request', 'CheckRequest larger than the limit'],
  // the HTTP authorization request itself (docs/http-authz.md), refused before any decision
  unknown_endpoint: ['invalid_request', 'not an authorization endpoint'],
  missing_original_uri: ['invalid_request', 'forward auth request without the original URI'],
  conflicting_original_request: ['invalid_request', 'forward auth headers disagree on the original request'],
  identity_header_alias: ['invalid_request', 'header name aliases an identity header'],
  headers_too_large: ['invalid_request', 'request headers larger than the limit'],
  body_too_large: ['invalid_request', 'request body larger than the limit'],
  // cannot decide right now: 503, fail closed
  keys_unavailable: ['temporarily_unavailable', 'keys unavailable'],
  introspection_unavailable: ['temporarily_unavailable', 'token introspection unavailable'],
  internal_error: ['temporarily_unavailable', 'internal error'],
  not_ready: ['temporarily_unavailable', 'not ready'],
  replay_store_unavailable: ['temporarily_unavailable', 'DPoP replay store unavailable'],
  identity_token_unavailable: ['temporarily_unavailable', 'identity token signing key unavailable'],
  connection_busy: ['temporarily_unavailable', 'too many request bytes in flight on this connection'],
} as const satisfies Record<string, readonly [DenyKind, string]>;

export type DenyReason = keyof typeof TABLE;

/** A request path refused by normalisation is a denial reason of its own. */
const _pathReasonsAreDenyReasons: readonly DenyReason[] = [] as NormalizeReason[];
void _pathReasonsAreDenyReasons;

/** What a DPoP proof check can fail with (authn/dpop-proof.ts). */
export type DpopProofReason = Exclude<Extract<DenyReason, `dpop_proof_${string}`>, 'dpop_proof_missing' | 'dpop_proof_multiple' | 'dpop_proof_replayed'>;

export type AllowReason = 'allowed' | 'anonymous' | 'unmatched_host' | 'audit_deny';

/** What a token verification can fail with: the token is bad (401), or keys are unavailable (503). */
export type TokenFailureReason = { [R in DenyReason]: (typeof TABLE)[R][0] extends 'invalid_token' ? R : never }[DenyReason] | 'keys_unavailable' | 'introspection_unavailable';

export function kindOf(reason: DenyReason): DenyKind {
  return TABLE[reason][0];
}

export function descriptionOf(reason: DenyReason): string {
  return TABLE[reason][1];
}

export const DENY_REASONS = Object.keys(TABLE) as DenyReason[];
