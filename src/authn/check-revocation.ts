/** After verification: a revoked token (by jti, or by subject before an instant) is a 401. */
import type { RevocationIndex } from '../compile/snapshot.js';
import type { DenyKind, Step, Verified } from '../decision.js';
import type { VerifyResult } from './types.js';

export type VerifyOutcome = { ok: true; verified: Verified } | { ok: false; kind: DenyKind; reason: string; description: string };

export function checkRevocation(r: VerifyResult, revocations: RevocationIndex, nowSec: number, steps: Step[] | undefined): VerifyOutcome {
  if (!r.ok) {
    steps?.push({ step: 'verify', ok: false, detail: `${r.reason}: ${r.description}` });
    return { ok: false, kind: r.status === 'unavailable' ? 'temporarily_unavailable' : 'invalid_token', reason: r.reason, description: r.description };
  }
  const v = r.verified;
  steps?.push({ step: 'verify', ok: true, detail: `issuer ${v.issuer.key}, alg ${v.alg}${v.kid ? `, kid ${v.kid}` : ''}` });
  if (revocations.isRevoked(v.issuer.key, v.claims, nowSec)) {
    steps?.push({ step: 'revocation', ok: false, detail: 'token revoked' });
    return { ok: false, kind: 'invalid_token', reason: 'token_revoked', description: 'token revoked' };
  }
  return { ok: true, verified: v };
}
