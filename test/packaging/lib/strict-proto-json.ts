/**
 * Strict proto3-JSON check of a YAML/JSON document against Envoy's (or Istio's) own
 * .proto files, the way Envoy loads its bootstrap: protobuf's JSON parser with
 * unknown fields rejected (Envoy's MessageUtil::loadFromJson), `@type` Anys resolved
 * to their message, then a subset of the protoc-gen-validate rules Envoy enforces
 * (required messages and durations, required oneofs, string min_len, repeated min_items).
 * Deprecated fields are errors too: a shipped example should not use them.
 *
 * protobufjs only parses the .proto files; it does not validate JSON, so the
 * proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) is walked here.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';

export interface ProtoIssue {
  path: string;
  message: string;
}

const WRAPPERS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

const INT32 = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class StrictProtoJson {
  private readonly root = new protobuf.Root();

  constructor(private readonly includeDirs: string[], files: string[]) {
    this.root.resolvePath = (_origin, target) => {
      if (target in protobuf.common) return target;
      for (const dir of this.includeDirs) {
        const p = join(dir, target);
        if (existsSync(p)) return p;
      }
      return target;
    };
    this.root.loadSync(files, { keepCase: true });
    this.root.resolveAll();
  }

  /** Validates `value` as the message `typeName`; returns every problem found. */
  validate(value: unknown, typeName: string): ProtoIssue[] {
    const issues: ProtoIssue[] = [];
    const type = this.lookup(typeName);
    if (!type) return [{ path: '', message: `unknown message type ${typeName}` }];
    this.message(value, type, '', issues);
    return issues;
  }

  /**
   * Finds a message type, loading the .proto files of its package directory on
   * demand (Envoy's extension packages map 1:1 to directories), so every `@type`
   * in a config resolves without listing files up front. Unknown stays unknown.
   */
  private lookup(fqn: string): protobuf.Type | undefined {
    const name = fqn.replace(/^\./, '');
    const found = this.tryLookup(name);
    if (found) return found;
    const parts = name.split('.');
    for (let n = parts.length - 1; n > 0; n--) {
      const rel = parts.slice(0, n).join('/');
      for (const dir of this.includeDirs) {
        const pkgDir = join(dir, rel);
        if (!existsSync(pkgDir)) continue;
        const protos = readdirSync(pkgDir).filter((f) => f.endsWith('.proto')).map((f) => `${rel}/${f}`);
        if (protos.length === 0) continue;
        this.root.loadSync(protos, { keepCase: true });
        this.root.resolveAll();
        return this.tryLookup(name);
      }
    }
    return undefined;
  }

  private tryLookup(name: string): protobuf.Type | undefined {
    try {
      return this.root.lookupType(name);
    } catch {
      return undefined;
    }
  }

  private message(v: unknown, type: protobuf.Type, path: string, out: ProtoIssue[]): void {
    const full = type.fullName.slice(1);
    if (full in WRAPPERS) return this.scalar(v, WRAPPERS[full]!, path, out);
    switch (full) {
      case 'google.protobuf.Any':
        return this.any(v, path, out);
      case 'google.protobuf.Duration':
        if (typeof v !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(v)) out.push({ path, message: `Duration must be a string like "0.5s" (got ${JSON.stringify(v)})` });
        return;
      case 'google.protobuf.Timestamp':
        if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) out.push({ path, message: 'Timestamp must be an RFC 3339 string' });
        return;
      case 'google.protobuf.Struct':
        if (!isObject(v)) out.push({ path, message: 'Struct must be an object' });
        return;
      case 'google.protobuf.Value':
        return;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(v)) out.push({ path, message: 'ListValue must be an array' });
        return;
      case 'google.protobuf.FieldMask':
        if (typeof v !== 'string') out.push({ path, message: 'FieldMask must be a string' });
        return;
      case 'google.protobuf.Empty':
        if (!isObject(v) || Object.keys(v).length) out.push({ path, message: 'Empty must be {}' });
        return;
    }
    if (!isObject(v)) {
      out.push({ path, message: `${full} must be an object (got ${JSON.stringify(v)})` });
      return;
    }
    this.fields(v, type, path, out, new Set());
  }

  private fields(v: Record<string, unknown>, type: protobuf.Type, path: string, out: ProtoIssue[], skip: Set<string>): void {
    const byName = new Map<string, protobuf.Field>();
    for (const f of type.fieldsArray) {
      byName.set(f.name, f);
      byName.set(camel(f.name), f);
    }
    const seen = new Set<protobuf.Field>();
    for (const [key, value] of Object.entries(v)) {
      if (skip.has(key)) continue;
      const field = byName.get(key);
      const at = `${path}.${key}`;
      if (!field) {
        out.push({ path: at, message: `unknown field "${key}" in ${type.fullName.slice(1)}` });
        continue;
      }
      if (seen.has(field)) out.push({ path: at, message: `field ${field.name} given twice (proto and JSON name)` });
      seen.add(field);
      if (field.options?.deprecated) out.push({ path: at, message: `deprecated field ${field.name} in ${type.fullName.slice(1)}` });
      if (value === null) continue;
      this.fieldValue(value, field, at, out);
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => seen.has(f) && v[f.name] !== null && v[camel(f.name)] !== null);
      if (set.length > 1) out.push({ path, message: `oneof ${oneof.name}: only one of ${set.map((f) => f.name).join(', ')} may be set` });
      if (set.length === 0 && oneof.options?.['(validate.required)'] === true && !oneof.name.startsWith('_')) {
        out.push({ path, message: `oneof ${oneof.name} is required: set one of ${oneof.fieldsArray.map((f) => f.name).join(', ')}` });
      }
    }
    for (const f of type.fieldsArray) {
      // PGV rules on a oneof member apply only when that member is the one set.
      if (f.partOf && !f.partOf.name.startsWith('_')) continue;
      const rules = f.options ?? {};
      const present = seen.has(f);
      if ((rules['(validate.rules).message.required'] === true || rules['(validate.rules).duration.required'] === true) && !present) out.push({ path: `${path}.${f.name}`, message: `required field ${f.name} of ${type.fullName.slice(1)} is missing` });
      const minLen = rules['(validate.rules).string.min_len'];
      if (typeof minLen === 'number' && minLen > 0 && !present) out.push({ path: `${path}.${f.name}`, message: `${f.name} must be a non-empty string` });
      const minItems = rules['(validate.rules).repeated.min_items'];
      if (typeof minItems === 'number' && minItems > 0 && !present) out.push({ path: `${path}.${f.name}`, message: `${f.name} needs at least ${minItems} item(s)` });
    }
  }

  private fieldValue(value: unknown, field: protobuf.Field, path: string, out: ProtoIssue[]): void {
    if (field.map) {
      if (!isObject(value)) {
        out.push({ path, message: `map field ${field.name} must be an object` });
        return;
      }
      for (const [k, item] of Object.entries(value)) this.single(item, field, `${path}.${k}`, out);
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        out.push({ path, message: `repeated field ${field.name} must be an array` });
        return;
      }
      const minItems = field.options?.['(validate.rules).repeated.min_items'];
      if (typeof minItems === 'number' && value.length < minItems) out.push({ path, message: `${field.name} needs at least ${minItems} item(s)` });
      value.forEach((item, i) => this.single(item, field, `${path}[${i}]`, out));
      return;
    }
    this.single(value, field, path, out);
  }

  private single(value: unknown, field: protobuf.Field, path: string, out: ProtoIssue[]): void {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) return this.message(value, rt, path, out);
    if (rt instanceof protobuf.Enum) {
      if (typeof value === 'string' ? !(value in rt.values) : !(Number.isInteger(value) && Object.values(rt.values).includes(value as number))) {
        out.push({ path, message: `${JSON.stringify(value)} is not a value of enum ${rt.fullName.slice(1)} (${Object.keys(rt.values).join(', ')})` });
      }
      return;
    }
    this.scalar(value, field.type, path, out);
    const minLen = field.options?.['(validate.rules).string.min_len'];
    if (typeof minLen === 'number' && typeof value === 'string' && value.length < minLen) out.push({ path, message: `${field.name} must be at least ${minLen} character(s)` });
  }

  private scalar(v: unknown, type: string, path: string, out: ProtoIssue[]): void {
    const bad = (what: string) => out.push({ path, message: `expected ${what} (got ${JSON.stringify(v)})` });
    if (type === 'string') {
      if (typeof v !== 'string') bad('a string');
    } else if (type === 'bool') {
      if (typeof v !== 'boolean') bad('true or false');
    } else if (INT32.has(type) || INT64.has(type)) {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) bad(`an integer (${type})`);
      else if (type.startsWith('u') || type.startsWith('fixed')) {
        if (n < 0) bad(`a non-negative integer (${type})`);
      }
      if (typeof n === 'number' && INT32.has(type) && Math.abs(n) > 2 ** 32) bad(`a 32-bit integer (${type})`);
    } else if (type === 'double' || type === 'float') {
      if (typeof v !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(v as string)) bad('a number');
    } else if (type === 'bytes') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) bad('base64 bytes');
    } else {
      bad(`a value of type ${type}`);
    }
  }

  private any(v: unknown, path: string, out: ProtoIssue[]): void {
    if (!isObject(v) || typeof v['@type'] !== 'string') {
      out.push({ path, message: 'Any needs an "@type"' });
      return;
    }
    const url = v['@type'];
    const name = url.slice(url.lastIndexOf('/') + 1);
    const type = this.lookup(name);
    if (!type) {
      out.push({ path, message: `@type ${url}: no such message in the loaded protos` });
      return;
    }
    const full = type.fullName.slice(1);
    // Well-known types with a special JSON form sit under "value" inside an Any.
    if (full.startsWith('google.protobuf.') && full !== 'google.protobuf.Any' && !['google.protobuf.Empty'].includes(full)) {
      for (const k of Object.keys(v)) if (k !== '@type' && k !== 'value') out.push({ path: `${path}.${k}`, message: `unknown field "${k}" in Any(${full})` });
      this.message(v.value, type, `${path}.value`, out);
      return;
    }
    this.fields(v, type, path, out, new Set(['@type']));
  }
}

/** Formats issues for an assertion message. */
export function formatIssues(issues: ProtoIssue[]): string {
  return issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
}
