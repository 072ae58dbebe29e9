/** Registered-claim checks after the signature verified (RFC 7519 §4.1, RFC 8725 §3.8-3.10). */
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { VerifyFailure } from './types.js';
import { invalid } from './invalid.js';

/** NumericDate (RFC 7519 §2): fractions allowed; strings, null and Infinity (JSON 1e999) are not numbers. */
function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** RFC 7515 §4.1.9: `application/` may be omitted, and media types compare case-insensitively. */
export function normaliseTyp(typ: string): string {
  const t = typ.toLowerCase();
  return t.startsWith('application/') ? t.slice('application/'.length) : t;
}

export function checkClaims(
  claims: Record<string, unknown>,
  /** undefined: no JOSE header (an introspected opaque token), so `tokenTypes` does not apply */
  header: Record<string, unknown> | undefined,
  issuer: CompiledIssuer,
  nowSec: number,
): VerifyFailure | undefined {
  const { exp, nbf, iat } = claims;
  if (exp === undefined) return invalid('missing_claim');
  if (!isNumericDate(exp)) return invalid('invalid_claim_type');
  if (nbf !== undefined && !isNumericDate(nbf)) return invalid('invalid_claim_type');
  if (iat !== undefined && !isNumericDate(iat)) return invalid('invalid_claim_type');
  const skew = issuer.clockSkewSec;
  if (exp <= nowSec - skew) return invalid('token_expired');
  if (nbf !== undefined && nbf > nowSec + skew) return invalid('token_not_yet_valid');
  if (iat !== undefined && iat > nowSec + skew) return invalid('token_issued_in_future');
  if (issuer.maxTokenLifetimeSec !== undefined) {
    if (iat === undefined) return invalid('missing_claim');
    if (exp - iat > issuer.maxTokenLifetimeSec) return invalid('token_lifetime_exceeded');
  }
  if (issuer.audiences.length > 0) {
    const aud = claims.aud;
    if (aud === undefined) return invalid('audience_mismatch');
    const list = typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) return invalid('invalid_claim_type');
    if (!list.some((a) => issuer.audiences.includes(a))) return invalid('audience_mismatch');
  }
  if (issuer.tokenTypes.length > 0 && header !== undefined) {
    const typ = header.typ;
    if (typeof typ !== 'string' || !issuer.tokenTypes.includes(normaliseTyp(typ))) return invalid('token_type_not_allowed');
  }
  for (const name of issuer.requiredClaims) {
    if (!Object.hasOwn(claims, name) || claims[name] === null) return invalid('missing_claim');
  }
  return undefined;
}
