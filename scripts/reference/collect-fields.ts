/**
 * Walks a kind's JSON schema (src/model/schema/) next to its CRD schema (crd-schemas.ts)
 * and returns one entry per field: what the reference page shows. The JSON schema says
 * what claimcheck itself validates; the CRD adds the CEL rules the API server enforces
 * and shows which fields exist only in the file source.
 */
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, type JsonSchema } from '../../src/model/schema/index.js';
import type { Rule } from '../crd-schemas.js';

/** One step of a field path: a property name, and whether the property is a list whose items continue the path. */
export interface Segment {
  key: string;
  list: boolean;
}

export interface FieldDoc {
  /** e.g. spec.rules[].match.paths */
  path: string;
  segments: Segment[];
  type: string;
  required: boolean;
  default?: unknown;
  validation: string[];
  description: string;
  example?: unknown;
  /** present in the JSON schema but not in the CRD */
  fileSourceOnly: boolean;
}

const PATTERN_TEXT: Record<string, string> = {
  [DNS1123_SUBDOMAIN]: 'a DNS-1123 subdomain (lowercase letters, digits, `-` and `.`)',
  [DNS1123_LABEL]: 'a DNS-1123 label (lowercase letters, digits and `-`)',
  '^/': 'starts with `/`',
  "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$": 'an HTTP method token (RFC 9110)',
};

const code = (v: unknown): string => `\`${typeof v === 'string' && v !== '' ? v : JSON.stringify(v)}\``;

/** `oneOf` branches that only name a required property → those names. */
function exactlyOneOf(s: JsonSchema): string[] | undefined {
  const branches = s.oneOf as JsonSchema[] | undefined;
  if (!branches) return undefined;
  const names = branches.map((b) => (Array.isArray(b.required) && Object.keys(b).length === 1 ? String(b.required[0]) : undefined));
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

export function typeOf(s: JsonSchema): string {
  if (s.oneOf && !exactlyOneOf(s)) return 'claim path (string, or list of strings)';
  if (s.type === undefined) return 'any JSON value';
  if (s.format === 'duration') return 'duration';
  if (s.format === 'date-time') return 'timestamp';
  if (s.type === 'array') {
    const item = typeOf(s.items as JsonSchema);
    return `list of ${item === 'any JSON value' ? 'JSON values' : item === 'object' ? 'objects' : `${item}s`}`;
  }
  if (s.type === 'object' && typeof s.additionalProperties === 'object') {
    return `map of string to ${typeOf(s.additionalProperties as JsonSchema)}`;
  }
  return String(s.type);
}

/** Constraints of one scalar node, worded for a reader; `each` for list items. */
function scalarRules(s: JsonSchema, each: boolean): string[] {
  const out: string[] = [];
  const pre = each ? 'each item ' : '';
  if (s.const !== undefined) out.push(`${pre}must be ${code(s.const)}`);
  if (Array.isArray(s.enum)) out.push(`${pre}one of ${s.enum.map(code).join(', ')}`);
  if (s.format === 'duration') out.push(`${pre}a duration: a number and a unit (\`ns\`, \`us\`, \`ms\`, \`s\`, \`m\`, \`h\`), combined like \`1h30m\``);
  if (s.format === 'date-time') out.push(`${pre}an RFC 3339 date-time like \`2026-11-28T12:00:00Z\``);
  if (typeof s.pattern === 'string') out.push(`${pre}${PATTERN_TEXT[s.pattern] ?? `matches \`${s.pattern}\``}`);
  if (s.minLength === 1) out.push(`${pre}not empty`);
  if (typeof s.maxLength === 'number') out.push(`${pre}at most ${s.maxLength} characters`);
  return out;
}

function validationOf(s: JsonSchema, crd: JsonSchema | undefined, inherited: Rule[]): string[] {
  const out = scalarRules(s, false);
  if (s.type === 'array') {
    if (s.minItems === 1) out.push('at least one item');
    const max = crd?.maxItems ?? s.maxItems;
    if (typeof max === 'number') out.push(`at most ${max} items`);
    const items = s.items as JsonSchema;
    if (items.type !== 'object') out.push(...scalarRules(items, true));
  }
  const one = exactlyOneOf(s);
  if (one) out.push(`exactly one of ${one.map(code).join(', ')}`);
  // CEL rules: the exactly-one-of ones restate the oneOf above
  const rules = [...((crd?.['x-kubernetes-validations'] as Rule[] | undefined) ?? []), ...inherited];
  for (const r of rules) if (!r.message.startsWith('exactly one of')) out.push(`"${r.message}"`);
  return out;
}

/** A sentence for the page: the schema's description (plus that of a list's items), capitalised and ended. */
function describe(s: JsonSchema, items: JsonSchema | undefined): string {
  const parts = [s.description, items?.description].filter((d): d is string => typeof d === 'string' && d.trim() !== '');
  return parts.map((d) => d.charAt(0).toUpperCase() + d.slice(1) + (/[.!?)]$/.test(d) ? '' : '.')).join(' ');
}

/** CEL rules written on a parent with `fieldPath: .child` belong to that child. */
function rulesFor(crdParent: JsonSchema | undefined, key: string): Rule[] {
  const rules = (crdParent?.['x-kubernetes-validations'] as Rule[] | undefined) ?? [];
  return rules.filter((r) => r.fieldPath === `.${key}`);
}

function ownRules(crd: JsonSchema | undefined): JsonSchema | undefined {
  if (!crd) return undefined;
  const rules = (crd['x-kubernetes-validations'] as Rule[] | undefined)?.filter((r) => r.fieldPath === undefined);
  return { ...crd, 'x-kubernetes-validations': rules };
}

/**
 * Every field under `schema` (an object schema), depth first in declaration order.
 * `crd` is the matching CRD node, or undefined where the CRD has no such field.
 */
export function collectFields(schema: JsonSchema, crd: JsonSchema | undefined, parents: Segment[] = [], out: FieldDoc[] = []): FieldDoc[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const crdProps = (crd?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [key, s] of Object.entries(props)) {
    const c = crd ? crdProps[key] : undefined;
    const isObjectList = s.type === 'array' && (s.items as JsonSchema).type === 'object' && (s.items as JsonSchema).properties !== undefined;
    const segments = [...parents, { key, list: isObjectList }];
    const field: FieldDoc = {
      path: segments.map((g) => g.key + (g.list ? '[]' : '')).join('.').replace(/\[\]$/, ''),
      segments,
      type: typeOf(s),
      required: required.has(key),
      validation: validationOf(s, ownRules(c), rulesFor(crd, key)),
      description: describe(s, isObjectList ? (s.items as JsonSchema) : undefined),
      fileSourceOnly: crd !== undefined && c === undefined,
    };
    if (s.default !== undefined) field.default = s.default;
    if (Array.isArray(s.examples) && s.examples.length > 0) field.example = s.examples[0];
    out.push(field);
    if (s.properties) collectFields(s, c, segments, out);
    else if (isObjectList) collectFields(s.items as JsonSchema, c?.items as JsonSchema | undefined, segments, out);
  }
  return out;
}

/** Fields a reader could not use: no description, or a leaf without an example. */
export function undocumented(fields: readonly FieldDoc[]): string[] {
  const parents = new Set(fields.map((f) => f.path.replace(/(\[\])?\.[^.]+$/, '')));
  return fields.flatMap((f) => {
    const missing: string[] = [];
    if (f.description.trim() === '') missing.push('description');
    if (!parents.has(f.path) && f.example === undefined && !f.path.startsWith('metadata.') && f.path !== 'status') missing.push('example');
    return missing.length ? [`${f.path}: no ${missing.join(' and no ')}`] : [];
  });
}
