/** What a compiled `when` condition is evaluated against, and what it answers. */
import type { Peer } from '../../request.js';

export interface ConditionInput {
  /** the verified JWT payload */
  claims: Record<string, unknown>;
  /** upper case */
  method: string;
  /** normalised (lowercase, no port, no trailing dot) */
  host: string;
  /** normalised, without the query string */
  path: string;
  /** the raw request target as Envoy sent it; only its query string is read */
  rawPath: string;
  /** lowercase name -> one value per occurrence */
  headers: ReadonlyMap<string, readonly string[]>;
  source: Peer;
  destination: Peer;
  nowSec: number;
}

/**
 * `code` is stable: a library error code (`no_such_key`, `no_such_overload`, ...) or
 * one of ours (`cost_limit_exceeded`, `not_bool`). `at` locates the failing
 * sub-expression in the expression text; it never carries an input value (the
 * library's messages can, e.g. `No such key: <header value>`, so they are dropped).
 */
export type ConditionResult =
  | { ok: true; value: boolean; cost: number }
  | { ok: false; code: string; description: string; at?: { line: number; column: number; snippet: string }; cost?: number };

export interface CompiledCondition {
  readonly expression: string;
  /** worst-case cost units of one evaluation for empty inputs (the rest grows with input sizes) */
  readonly baseCost: number;
  evaluate(input: ConditionInput): ConditionResult;
}
