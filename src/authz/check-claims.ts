import type { CompiledClaimCheck } from '../compile/snapshot.js';

export type ClaimsCheck = { ok: true } | { ok: false; failed: CompiledClaimCheck };

/** All checks must pass; the first failing one is reported (its description is safe to show). */
export function checkClaims(claims: Record<string, unknown>, checks: readonly CompiledClaimCheck[]): ClaimsCheck {
  for (const check of checks) if (!check.test(claims)) return { ok: false, failed: check };
  return { ok: true };
}
