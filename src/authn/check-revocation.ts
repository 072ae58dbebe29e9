/** After verification: a revoked token (by jti, or by subject before an instant) is a 401. */
import type { RevocationIndex } from '../compile/snapshot.js';
import { findingLabel, type Finding, type Step, type Verified } from '../decision.js';
import type { DenyReason } from '../reasons.js';
import type { VerifyResult } from './types.js';


export type VerifyOutcome = { ok: true; verified: Verified } | { ok: false; reason: DenyReason; findings?: readonly Finding[] };

/** claim paths and kinds, never values: for explanations and the decision log */
const describeFindings = (findings: readonly Finding[]): string => findings.map(findingLabel).join(', ');

export function checkRevocation(r: VerifyResult, revocations: RevocationIndex, nowSec: number, steps: Step[] | undefined): VerifyOutcome {
  if (!r.ok) {
    steps?.push({ step: 'verify', ok: false, detail: `${r.reason}: ${r.description}${r.findings ? ` at ${describeFindings(r.findings)}` : ''}` });
    return r.findings ? { ok: false, reason: r.reason, findings: r.findings } : { ok: false, reason: r.reason };
  }
  const v = r.verified;
  steps?.push({ step: 'verify', ok: true, detail: `issuer ${v.issuer.key}, alg ${v.alg}${v.kid ? `, kid ${v.kid}` : ''}` });
  if (v.findings) steps?.push({ step: 'payload', ok: true, detail: `sensitive data at ${describeFindings(v.findings)}; allowed by payload.detectAction: audit` });
  if (revocations.isRevoked(v.issuer.key, v.claims, nowSec)) {
    steps?.push({ step: 'revocation', ok: false, detail: 'token revoked' });
    return { ok: false, reason: 'token_revoked' };
  }
  return { ok: true, verified: v };
}
