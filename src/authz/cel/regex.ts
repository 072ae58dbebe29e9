/**
 * `string.matches(pattern)` on RE2, as the CEL spec defines it.
 *
 * @marcbachmann/cel-js implements `matches` with JavaScript's backtracking RegExp:
 * a pattern like `(a+)+$` can take exponential time, and its syntax is not RE2's.
 * The library does not let a built-in overload be replaced, so every `matches` call
 * is renamed in the parsed AST (before type checking) to MATCHES_RE2, which runs on
 * re2js (linear time, like `claims[].matches`).
 *
 * The pattern must be a string literal: it is compiled once at load, where a bad
 * pattern is a load error with its position, and an input can never supply a
 * pattern (no compile per request, no attacker-chosen regex).
 */
import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import { RE2JS } from 're2js';
import { locate } from './location.js';

export const MATCHES_RE2 = 'matches_re2';

const compiled = new Map<string, RE2JS>();
// Patterns come from configuration only; the cap keeps years of reloads bounded.
const MAX_CACHED = 10_000;

function re2(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** CEL `matches` is a partial match (RE2 PartialMatch): anchor with ^ and $ for a whole-string match. */
export function registerRe2Matches(env: Environment): Environment {
  return env.registerFunction(`string.${MATCHES_RE2}(string): bool`, (s: string, pattern: string) => re2(pattern).matcher(s).find());
}

interface Node {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
  pos?: number;
}

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && typeof (x as Node).op === 'string';
}

function children(n: Node): Node[] {
  if (n.op === 'value' || n.op === 'id') return [];
  const out: Node[] = [];
  const collect = (x: unknown): void => {
    if (isNode(x)) out.push(x);
    else if (Array.isArray(x)) x.forEach(collect);
  };
  collect(n.args);
  return out;
}

/**
 * Renames every `.matches(...)` to the RE2 function and compiles its literal pattern.
 * Returns a load-error message, or undefined when every pattern is fine.
 */
export function prepareMatches(root: ASTNode, expression: string): string | undefined {
  const stack: Node[] = [root as unknown as Node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if ((n.op === 'rcall' || n.op === 'call') && Array.isArray(n.args) && n.args[0] === MATCHES_RE2) {
      const at = locate(expression, n.start ?? n.pos);
      return `CEL type error at line ${at.line}, column ${at.column}: unknown function ${MATCHES_RE2}`;
    }
    if (n.op === 'rcall' && Array.isArray(n.args) && n.args[0] === 'matches') {
      const args = n.args[2] as Node[];
      const pattern = args[0];
      const at = locate(expression, pattern?.start ?? n.start ?? n.pos);
      if (args.length !== 1 || pattern?.op !== 'value' || typeof pattern.args !== 'string') {
        return `CEL type error at line ${at.line}, column ${at.column}: the pattern of matches() must be a string literal`;
      }
      try {
        re2(pattern.args);
      } catch (err) {
        return `CEL invalid regular expression at line ${at.line}, column ${at.column}: ${(err as Error).message.split('\n')[0]}`;
      }
      n.args[0] = MATCHES_RE2;
    }
    stack.push(...children(n));
  }
  return undefined;
}

/** Type errors name the function as the user wrote it. */
export function unrenamed(message: string): string {
  return message.split(MATCHES_RE2).join('matches');
}
