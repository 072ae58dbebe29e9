/** OAuth scopes from `scope` (RFC 8693 §4.2 / RFC 9068 §2.2.3) or Azure/Okta-style `scp`. */
import type { CompiledScopes } from '../compile/snapshot.js';

function words(s: string): string[] {
  return s.split(' ').filter((w) => w !== '');
}

/** Own properties only: a claim named like an Object.prototype member is not inherited. */
function own(claims: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(claims, k) ? claims[k] : undefined;
}

/** Union of `scope` (space-separated string) and `scp` (array of strings, or a space-separated string), in order, without repeats. */
export function grantedScopes(claims: Record<string, unknown>): string[] {
  const out: string[] = [];
  const scope = own(claims, 'scope');
  if (typeof scope === 'string') for (const w of words(scope)) out.push(w);
  const scp = own(claims, 'scp');
  if (typeof scp === 'string') for (const w of words(scp)) out.push(w);
  else if (Array.isArray(scp)) for (const w of scp) if (typeof w === 'string' && w !== '') out.push(w);
  return withoutRepeats(out);
}

/** Per allowed request: the usual handful of scopes is checked pairwise, a token with many through a Set. */
function withoutRepeats(list: string[]): string[] {
  if (list.length > 16) return [...new Set(list)];
  for (let i = 1; i < list.length; i++) {
    if (list.lastIndexOf(list[i]!, i - 1) !== -1) return [...new Set(list)];
  }
  return list;
}

/** Whether `word` (non-empty, no space) is one of the space-separated words of `s`. */
function hasWord(s: string, word: string): boolean {
  if (word === '' || word.includes(' ')) return false;
  for (let i = s.indexOf(word); i !== -1; i = s.indexOf(word, i + 1)) {
    const end = i + word.length;
    if ((i === 0 || s.charCodeAt(i - 1) === 32) && (end === s.length || s.charCodeAt(end) === 32)) return true;
  }
  return false;
}

export type ScopeCheck = { ok: true } | { ok: false; needed: string[] };

/**
 * Every allOf scope and (when anyOf is non-empty) at least one anyOf scope.
 * `needed` is what the insufficient_scope challenge's `scope=` lists (RFC 6750 §3):
 * the scopes the rule names — all of allOf plus the anyOf alternatives.
 */
export function checkScopes(claims: Record<string, unknown>, scopes: CompiledScopes): ScopeCheck {
  const scope = own(claims, 'scope');
  const scp = own(claims, 'scp');
  // Per request, so no Set and no split: a word search in `scope`/`scp` as grantedScopes would find it.
  const granted = (s: string) => s !== '' && ((typeof scope === 'string' && hasWord(scope, s)) || (typeof scp === 'string' ? hasWord(scp, s) : Array.isArray(scp) && scp.includes(s)));
  const allOk = scopes.allOf.every(granted);
  const anyOk = scopes.anyOf.length === 0 || scopes.anyOf.some(granted);
  if (allOk && anyOk) return { ok: true };
  return { ok: false, needed: [...new Set([...scopes.allOf, ...scopes.anyOf])] };
}
