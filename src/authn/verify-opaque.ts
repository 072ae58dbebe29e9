/**
 * An opaque token (neither a JWS nor a JWE) for the one issuer of a rule with `introspection`
 * (docs/token-formats.md): its endpoint's answer, checked like a JWT's claims.
 */
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { Verified } from '../decision.js';
import { then, type MaybePromise } from '../maybe-async.js';
import { checkClaims } from './check-claims.js';
import { invalid } from './invalid.js';
import { segmentDots, tooLarge } from './parse-compact.js';
import type { KeyLookup, VerifyResult } from './types.js';

/** The rule's introspection issuer (compile/rules.ts allows one), when the token is opaque and there is one. */
export function introspectionIssuerFor(token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup): CompiledIssuer | undefined {
  if (keys.introspect === undefined) return undefined;
  const issuer = candidates.find((c) => c.introspection !== undefined);
  if (!issuer) return undefined;
  // two or four dots: the shape of a compact JWS or JWE, which never goes to an introspection endpoint
  const dots = segmentDots(token);
  return dots === 2 || dots === 4 ? undefined : issuer;
}

export function verifyOpaque(token: string, issuer: CompiledIssuer, keys: KeyLookup, opts: { nowSec: number; maxTokenBytes: number }): MaybePromise<VerifyResult> {
  if (tooLarge(token, opts.maxTokenBytes)) return invalid('token_too_large');
  return then(keys.introspect!(issuer, token), (answer): VerifyResult => {
    if (!answer.ok) return answer;
    const claims = answer.claims;
    // RFC 7662 §2.2 makes iss optional; when present it is this issuer's, exactly
    if (claims.iss !== undefined && claims.iss !== issuer.issuer) return invalid('untrusted_issuer');
    // no JOSE header: tokenTypes (a JWT's typ) does not apply
    const failure = checkClaims(claims, undefined, issuer, opts.nowSec);
    if (failure) return failure;
    const verified: Verified = { claims, issuer, token, alg: 'introspection' };
    return { ok: true, verified };
  });
}
