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
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    fields[key] = toValue(value, depth + 1);
  }
  return { fields };
}

export function toValue(value: unknown, depth = 0): ProtoValue {
  if (depth > MAX_DEPTH) throw new ClaimcheckError('struct_too_deep', `dynamic metadata nests deeper than ${MAX_DEPTH}`);
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'bigint':
      return { numberValue: Number(value) };
    case 'number':
      // JSON has no NaN/Infinity; JSON.stringify writes null for them.
      return Number.isFinite(value) ? { numberValue: value } : { nullValue: 'NULL_VALUE' };
    case 'object':
      if (value === null) return { nullValue: 'NULL_VALUE' };
      if (Array.isArray(value)) {
        return { listValue: { values: value.map((v) => (v === undefined ? { nullValue: 'NULL_VALUE' } : toValue(v, depth + 1))) } };
      }
      return { structValue: structOf(value, depth) };
    default:
      return { nullValue: 'NULL_VALUE' };
  }
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
