/** Rule selection: the first rule whose match fits wins (docs/reference.md, AuthPolicy spec.rules). */
import type { CompiledPolicy, CompiledRule } from '../compile/snapshot.js';
import { compilePathGlob } from './path-glob.js';

export type RuleMatcher = (method: string, path: string) => boolean;

/**
 * No paths = every path; no methods = every method. Methods are compared
 * case-insensitively (uppercased once here), paths as normalised by normalizePath.
 * Throws ClaimcheckError('invalid_path_pattern') for a bad pattern.
 */
export function compileRuleMatcher(match: { paths?: string[]; methods?: string[] } | undefined): RuleMatcher {
  const paths = match?.paths ?? [];
  const methods = match?.methods ?? [];
  const pathMatchers = paths.map(compilePathGlob);
  const methodSet = new Set(methods.map((m) => m.toUpperCase()));
  const anyPath = pathMatchers.length === 0;
  const anyMethod = methodSet.size === 0;
  return (method, path) => {
    if (!anyMethod && !methodSet.has(method.toUpperCase())) return false;
    if (anyPath) return true;
    for (const m of pathMatchers) if (m(path)) return true;
    return false;
  };
}

export function findRule(policy: CompiledPolicy, method: string, path: string): CompiledRule | undefined {
  for (const rule of policy.rules) if (rule.matches(method, path)) return rule;
  return undefined;
}
