/**
 * How dynamic metadata (plain JS values) becomes a google.protobuf.Struct: the way
 * JSON.stringify would see it, for encode-check-response.ts.
 */
import { ClaimcheckError } from '../../errors.js';

const MAX_DEPTH = 32;

/**
 * One value as JSON.stringify sees it: toJSON applied, bigint as a number, null for
 * non-finite numbers and for kinds JSON has no place for. Arrays and objects come back
 * as they are, for the caller to walk; deeper than 32 levels (or a cycle) throws.
 */
export function jsonValue(value: unknown, depth: number): string | number | boolean | object | null {
  if (depth > MAX_DEPTH) throw new ClaimcheckError('struct_too_deep', `dynamic metadata nests deeper than ${MAX_DEPTH}`);
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'number':
      // JSON has no NaN/Infinity; JSON.stringify writes null for them.
      return Number.isFinite(value) ? value : null;
    case 'object':
      return value;
    default:
      return null;
  }
}

/** Object members that JSON.stringify leaves out (in an array they become null instead). */
export function isDroppedMember(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}
