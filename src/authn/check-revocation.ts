/** After verification: a revoked token (by jti, or by subject before an instant) is a 401. */
import type { RevocationIndex } from '../compile/snapshot.js';
import type { Step, Verified } from '../decision.js';
import type { DenyReason } from '../reasons.js';
import type { VerifyResult } from './types.js';

export type VerifyOutcome = { ok: true; verified: Verified } | { ok: false; reason: DenyReason };

export function checkRevocation(r: VerifyResult, revocations: RevocationIndex, nowSec: number, steps: Step[] | undefined): VerifyOutcome {
  if (!r.ok) {
    steps?.push({ step: 'verify', ok: false, detail: `${r.reason}: ${r.description}` });
    return { ok: false, reason: r.reason };
  }
  const v = r.verified;
  steps?.push({ step: 'verify', ok: true, detail: `issuer ${v.issuer.key}, alg ${v.alg}${v.kid ? `, kid ${v.kid}` : ''}` });
  if (revocations.isRevoked(v.issuer.key, v.claims, nowSec)) {
    steps?.push({ step: 'revocation', ok: false, detail: 'token revoked' });
    return { ok: false, reason: 'token_revoked' };
  }
  return { ok: true, verified: v };
}
