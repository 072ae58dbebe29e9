/**
 * `rules[].require.when`: compile once at config load, evaluate per request.
 *
 * Load: parse (syntax, structural limits) → `matches` patterns compiled on RE2
 * (regex.ts) → type-check against the declared variables → the result type must be
 * bool (or dyn, checked at run time) → the cost bound for empty inputs must be
 * under the limit. Every failure is a message
 * with the line and column inside the expression.
 *
 * Run: the cost bound for the actual inputs is checked first; then the expression
 * runs, and anything but a boolean — an error, a non-bool value — is an error
 * result, which the pipeline turns into a deny. There is no path from a malformed
 * expression to `true`.
 */
import type { ParseResult } from '@marcbachmann/cel-js';
import { celEnvironment, MAX_EXPRESSION_LENGTH } from './environment.js';
import { analyseCost, CEL_COST_LIMIT, estimateCost } from './cost-model.js';
import { buildActivation, measureInputs } from './activation.js';
import { locate, type Location } from './location.js';
import { prepareMatches, unrenamed } from './regex.js';
import type { CompiledCondition, ConditionInput, ConditionResult } from './types.js';

export type CompileConditionResult = { ok: true; condition: CompiledCondition } | { ok: false; message: string };

interface CelLibraryError {
  name?: string;
  code?: string;
  message?: string;
  range?: { start: number; end: number };
  node?: { pos?: number; start?: number; end?: number };
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0]!.trim();
}

function loadError(kind: string, err: unknown, expression: string): string {
  const e = (err ?? {}) as CelLibraryError;
  const what = e.code === 'limit_exceeded' ? 'is too complex' : e.name === 'ParseError' ? 'syntax error' : kind;
  const loc = locate(expression, e.range?.start ?? e.node?.start ?? e.node?.pos);
  return `CEL ${what} at line ${loc.line}, column ${loc.column}: ${firstLine(e.message) || 'invalid expression'}`;
}

/** `costLimit`: --cel-cost-limit, checked at load for empty inputs and at every evaluation for the real ones. */
export function compileCondition(expression: string, costLimit = CEL_COST_LIMIT): CompileConditionResult {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, message: `CEL expression is ${expression.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed` };
  }
  let program: ParseResult;
  try {
    program = celEnvironment().parse(expression);
  } catch (err) {
    return { ok: false, message: loadError('syntax error', err, expression) };
  }
  const badPattern = prepareMatches(program.ast, expression);
  if (badPattern) return { ok: false, message: badPattern };
  const checked = program.check();
  if (!checked.valid) return { ok: false, message: unrenamed(loadError('type error', checked.error, expression)) };
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `CEL type error at line 1, column 1: the condition must evaluate to bool, not ${checked.type}` };
  }
  const model = analyseCost(program.ast);
  const baseCost = estimateCost(model, { collection: 0, string: 0 });
  if (!(baseCost <= costLimit)) {
    return { ok: false, message: `CEL expression is too expensive: its cost bound is ${baseCost} units even for empty inputs (limit ${costLimit})` };
  }

  const evaluate = (input: ConditionInput): ConditionResult => {
    let cost: number | undefined;
    try {
      const activation = buildActivation(input, model.reads);
      cost = estimateCost(model, measureInputs(activation, model.reads));
      if (!(cost <= costLimit)) {
        return { ok: false, code: 'cost_limit_exceeded', description: `cost bound ${cost} exceeds the limit of ${costLimit}`, cost };
      }
      const value: unknown = program(activation);
      if (typeof value !== 'boolean') {
        return { ok: false, code: 'not_bool', description: `the condition evaluated to ${describeType(value)}, not bool`, cost };
      }
      return { ok: true, value, cost };
    } catch (err) {
      return runtimeError(err, expression, cost);
    }
  };
  return { ok: true, condition: Object.freeze({ expression, baseCost, evaluate }) };
}

const DESCRIPTIONS: Record<string, string> = {
  no_such_key: 'no such key',
  no_such_overload: 'no operator for these value types',
  no_matching_overload: 'no function for these argument types',
  index_out_of_bounds: 'index out of range',
  index_out_of_range: 'index out of range',
  division_by_zero: 'division by zero',
};

/** The code and where it failed; never the library's message, which can quote input values. */
function runtimeError(err: unknown, expression: string, cost: number | undefined): ConditionResult {
  const e = (err ?? {}) as CelLibraryError;
  const code = typeof e.code === 'string' && /^[a-z_]{1,64}$/.test(e.code) ? e.code : err instanceof RangeError ? 'stack_exhausted' : 'evaluation_error';
  const start = e.range?.start ?? e.node?.start ?? e.node?.pos;
  const end = e.range?.end ?? e.node?.end;
  const at: Location | undefined = start === undefined ? undefined : locate(expression, start, end);
  return {
    ok: false,
    code,
    description: DESCRIPTIONS[code] ?? code.replace(/_/g, ' '),
    ...(at ? { at } : {}),
    ...(cost !== undefined ? { cost } : {}),
  };
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Promise) return 'a promise';
  return typeof v === 'object' ? 'a map' : typeof v;
}
