import { ClaimcheckError } from '../errors.js';

/**
 * google.protobuf.Struct as protobufjs's bundled definition expects it (camelCase
 * field names: the bundled struct.proto wins over keepCase, see load-protos.ts).
 */
export type ProtoValue =
  | { nullValue: 'NULL_VALUE' }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: ProtoStruct }
  | { listValue: { values: ProtoValue[] } };

export interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

const MAX_DEPTH = 32;

/** Converts a JSON-like value the way JSON.stringify would see it (toJSON, undefined dropped). */
export function toStruct(obj: Record<string, unknown>): ProtoStruct {
  return structOf(obj, 0);
}

function structOf(obj: object, depth: number): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (isDroppedMember(value)) continue;
    fields[key] = toValue(value, depth + 1);
  }
  return { fields };
}

export function toValue(value: unknown, depth = 0): ProtoValue {
  const v = jsonValue(value, depth);
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      return { numberValue: v };
    default:
      if (v === null) return { nullValue: 'NULL_VALUE' };
      if (Array.isArray(v)) {
        return { listValue: { values: v.map((e) => (e === undefined ? { nullValue: 'NULL_VALUE' } : toValue(e, depth + 1))) } };
      }
      return { structValue: structOf(v, depth) };
  }
}

/**
 * One value as JSON.stringify sees it, shared with wire/encode-check-response.ts:
 * toJSON applied, bigint as a number, null for non-finite numbers and for kinds JSON
 * has no place for. Arrays and objects come back as they are, for the caller to walk.
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

/** The inverse of toStruct for decoded messages (tests, debugging). */
export function fromStruct(struct: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = (struct as { fields?: Record<string, unknown> } | undefined)?.fields ?? {};
  for (const [key, value] of Object.entries(fields)) out[key] = fromValue(value);
  return out;
}

export function fromValue(value: unknown): unknown {
  const v = (value ?? {}) as Record<string, unknown>;
  if ('stringValue' in v) return v.stringValue;
  if ('numberValue' in v) return v.numberValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return fromStruct(v.structValue);
  if ('listValue' in v) return (((v.listValue as { values?: unknown[] }) ?? {}).values ?? []).map(fromValue);
  return null;
}
