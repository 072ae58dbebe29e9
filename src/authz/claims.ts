/**
 * Claim paths and claim operators (docs/configuration.md "Claims").
 *
 * Decisions:
 * - A claim that is absent or JSON `null` counts as missing: it fails every
 *   operator but `exists: false` (so `equals: null` is rejected at load).
 * - Paths walk own properties of plain objects only; `__proto__`,
 *   `constructor` and `prototype` are never followed (JSON.parse makes
 *   `__proto__` an own property, so hasOwn alone is not enough).
 * - `matches` runs on RE2 (re2js): linear time, so no pattern can backtrack
 *   catastrophically; RE2 lacks backreferences and lookaround, and a pattern
 *   using them is a load error carrying the engine's message.
 */
import { RE2JS } from 're2js';

/**
 * One compiled program per distinct pattern: an RE2JS program is ~8 KB, and 10,000 policies
 * that share a pattern would otherwise hold 10,000 copies. Compiled patterns are immutable
 * (each match makes its own matcher). Patterns come from configuration only; the cap keeps
 * years of reloads bounded.
 */
const compiledPatterns = new Map<string, RE2JS>();
function compileShared(pattern: string): RE2JS {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiledPatterns.size >= 10_000) compiledPatterns.clear();
    compiledPatterns.set(pattern, re);
  }
  return re;
}
import { ClaimcheckError } from '../errors.js';
import type { ClaimPath, ClaimRequirementSpec } from '../model/types.js';
import type { CompiledClaimCheck } from '../compile/snapshot.js';

const OPERATORS = ['equals', 'in', 'contains', 'matches', 'exists'] as const;
type Operator = (typeof OPERATORS)[number];
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DESCRIPTION_VALUES = 60;

/** `a.b.c` → ['a','b','c']; a list is taken as is (for keys containing dots). */
export function claimPath(p: ClaimPath): string[] {
  return Array.isArray(p) ? [...p] : String(p).split('.');
}

export function getClaim(claims: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = claims;
  for (const key of path) {
    if (FORBIDDEN_KEYS.has(key)) return undefined;
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function isMissing(v: unknown): boolean {
  return v === undefined || v === null;
}

/** Type-strict deep equality over JSON values: `"true"` ≠ `true`, `1` ≠ `"1"`. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function invalid(msg: string): ClaimcheckError {
  return new ClaimcheckError('invalid_claim_requirement', msg);
}

function displayPath(spec: ClaimPath, path: readonly string[]): string {
  return Array.isArray(spec) && path.some((s) => s.includes('.')) ? JSON.stringify(path) : path.join('.');
}

function shortValue(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function compileClaimCheck(spec: ClaimRequirementSpec): CompiledClaimCheck {
  if (spec === null || typeof spec !== 'object') throw invalid('claim requirement must be an object');
  const raw = spec.claim as unknown;
  if (typeof raw !== 'string' && !(Array.isArray(raw) && raw.every((s) => typeof s === 'string'))) {
    throw invalid('claim must be a string or a list of strings');
  }
  const path = claimPath(raw as ClaimPath);
  if (path.length === 0 || path.some((s) => s === '')) throw invalid(`claim path ${JSON.stringify(raw)} has an empty segment`);
  const bad = path.find((s) => FORBIDDEN_KEYS.has(s));
  if (bad) throw invalid(`claim path must not use ${JSON.stringify(bad)}`);

  const present = OPERATORS.filter(
    (op) => Object.prototype.hasOwnProperty.call(spec, op) && (spec as unknown as Record<string, unknown>)[op] !== undefined,
  );
  const name = displayPath(raw as ClaimPath, path);
  if (present.length !== 1) {
    throw invalid(
      `claim ${name}: exactly one of ${OPERATORS.join(', ')} is required${present.length ? ` (got ${present.join(', ')})` : ''}`,
    );
  }
  const op: Operator = present[0];
  const build = (description: string, test: (v: unknown) => boolean): CompiledClaimCheck =>
    Object.freeze({
      path: Object.freeze(path),
      op,
      description,
      test: (claims: Record<string, unknown>) => test(getClaim(claims, path)),
    });

  switch (op) {
    case 'equals': {
      const want = spec.equals;
      if (want === null) throw invalid(`claim ${name}: equals: null never matches; use exists: false`);
      return build(`claim ${name} equals ${shortValue(want)}`, (v) => !isMissing(v) && jsonEqual(v, want));
    }
    case 'in': {
      const values = spec.in;
      if (!Array.isArray(values) || values.length === 0) throw invalid(`claim ${name}: in must be a non-empty list`);
      const list = values.map(shortValue).join(', ');
      const shown = list.length <= MAX_DESCRIPTION_VALUES ? `[${list}]` : `[${values.length} values]`;
      const isIn = (x: unknown) => values.some((w) => jsonEqual(x, w));
      return build(`claim ${name} in ${shown}`, (v) => {
        if (isMissing(v)) return false;
        if (Array.isArray(v)) return v.some(isIn);
        if (typeof v === 'object') return false;
        return isIn(v);
      });
    }
    case 'contains': {
      const want = spec.contains;
      if (want === null || typeof want === 'object') throw invalid(`claim ${name}: contains must be a string, number or boolean`);
      if (want === '') throw invalid(`claim ${name}: contains must not be empty`);
      return build(`claim ${name} contains ${shortValue(want)}`, (v) => {
        if (Array.isArray(v)) return v.some((x) => x === want);
        // Like `scope` (RFC 6749 §3.3): a space-separated list of words.
        if (typeof v === 'string' && typeof want === 'string') return v.split(' ').includes(want);
        return false;
      });
    }
    case 'matches': {
      const pattern = spec.matches;
      if (typeof pattern !== 'string') throw invalid(`claim ${name}: matches must be a string`);
      let re: RE2JS;
      try {
        re = compileShared(pattern);
      } catch (err) {
        throw new ClaimcheckError(
          'invalid_claim_requirement',
          `claim ${name}: pattern not supported by the linear-time engine: ${(err as Error).message}`,
          { cause: err },
        );
      }
      // RE2JS.matches() anchors at both ends: the whole string must match.
      return build(`claim ${name} matches ${shortValue(pattern)}`, (v) => typeof v === 'string' && re.matches(v));
    }
    case 'exists': {
      const want = spec.exists;
      if (typeof want !== 'boolean') throw invalid(`claim ${name}: exists must be true or false`);
      return build(want ? `claim ${name} exists` : `claim ${name} is absent`, (v) => isMissing(v) !== want);
    }
  }
}
