/** The `when` step of the pipeline: a condition's result as a pass/deny with an explanation. */
import type { CompiledCondition, ConditionInput, ConditionResult } from './types.js';

export type ConditionCheck =
  | { ok: true; result: ConditionResult; detail: string }
  | { ok: false; reason: 'condition_false' | 'condition_error'; result: ConditionResult; detail: string };

const MAX_SHOWN = 200;

/** The expression on one line, for explanations (it is configuration, never request data). */
export function showExpression(expression: string): string {
  const one = expression.replace(/\s+/g, ' ').trim();
  return one.length > MAX_SHOWN ? `${one.slice(0, MAX_SHOWN - 1)}…` : one;
}

/** Only a boolean `true` passes; `false` is condition_false, anything else condition_error. */
export function checkCondition(condition: CompiledCondition, input: ConditionInput): ConditionCheck {
  const result = condition.evaluate(input);
  const expr = showExpression(condition.expression);
  if (result.ok) {
    const detail = `${expr} = ${result.value} (cost ${result.cost})`;
    return result.value === true ? { ok: true, result, detail } : { ok: false, reason: 'condition_false', result, detail };
  }
  const where = result.at ? ` at line ${result.at.line}, column ${result.at.column}${result.at.snippet ? ` (${result.at.snippet})` : ''}` : '';
  return { ok: false, reason: 'condition_error', result, detail: `${expr} = error ${result.code}: ${result.description}${where}` };
}
