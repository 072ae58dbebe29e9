/** OAuth scopes from `scope` (RFC 8693 §4.2 / RFC 9068 §2.2.3) or Azure/Okta-style `scp`. */
import type { CompiledScopes } from '../compile/snapshot.js';

function words(s: string): string[] {
  return s.split(' ').filter((w) => w !== '');
}

/** Union of `scope` (space-separated string) and `scp` (array of strings, or a space-separated string). */
export function grantedScopes(claims: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const own = (k: string) => (Object.prototype.hasOwnProperty.call(claims, k) ? claims[k] : undefined);
  const scope = own('scope');
  if (typeof scope === 'string') for (const w of words(scope)) out.add(w);
  const scp = own('scp');
  if (typeof scp === 'string') for (const w of words(scp)) out.add(w);
  else if (Array.isArray(scp)) for (const w of scp) if (typeof w === 'string' && w !== '') out.add(w);
  return out;
}

export type ScopeCheck = { ok: true } | { ok: false; needed: string[] };

/**
 * Every allOf scope and (when anyOf is non-empty) at least one anyOf scope.
 * `needed` is what the insufficient_scope challenge's `scope=` lists (RFC 6750 §3):
 * the scopes the rule names — all of allOf plus the anyOf alternatives.
 */
export function checkScopes(claims: Record<string, unknown>, scopes: CompiledScopes): ScopeCheck {
  const granted = grantedScopes(claims);
  const allOk = scopes.allOf.every((s) => granted.has(s));
  const anyOk = scopes.anyOf.length === 0 || scopes.anyOf.some((s) => granted.has(s));
  if (allOk && anyOk) return { ok: true };
  return { ok: false, needed: [...new Set([...scopes.allOf, ...scopes.anyOf])] };
}
