import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ConfigProblem } from '../errors.js';
import { isDuration } from './duration.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, RESOURCE_SCHEMAS, type JsonSchema } from './schema/index.js';
import { KINDS, type Kind } from './types.js';

/** A schema problem plus the location of the offending YAML node (for line numbers). */
export interface SchemaIssue {
  problem: ConfigProblem;
  /** keys from the document root to the node to point at (may name an unknown key) */
  pointer: (string | number)[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const PATTERN_TEXT: Record<string, string> = {
  [DNS1123_SUBDOMAIN]: 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")',
  [DNS1123_LABEL]: 'must be a DNS-1123 label (lowercase letters, digits and "-")',
  '^/': 'must start with "/"',
};

const FORMAT_TEXT: Record<string, string> = {
  duration: 'must be a duration like "30s", "10m" or "1h30m"',
  'date-time': 'must be an RFC 3339 date-time like "2026-11-28T12:00:00Z"',
};

let ajv: Ajv | undefined;
let validators: Map<Kind, ValidateFunction> | undefined;

function getAjv(): Ajv {
  if (ajv) return ajv;
  // strictRequired is off: it does not see the parent `properties` from oneOf branches like `{required: [uri]}`
  ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, verbose: true });
  ajv.addVocabulary(['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string']);
  ajv.addFormat('duration', { type: 'string', validate: isDuration });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}

function getValidators(): Map<Kind, ValidateFunction> {
  validators ??= new Map(KINDS.map((k) => [k, getAjv().compile(RESOURCE_SCHEMAS[k])]));
  return validators;
}

/**
 * A checker for a document that is not a resource (PolicyTest), with the same formats and the
 * same problem messages as the resource schemas.
 */
export function compileSchemaCheck(schema: JsonSchema): (obj: Record<string, unknown>) => SchemaIssue[] {
  const validate = getAjv().compile(schema);
  return (obj) => (validate(obj) ? [] : issuesOf(validate, problemContext(obj)));
}

/** Schema-check one resource; returns readable problems with JSON-pointer paths. */
export function validateResource(obj: unknown): ConfigProblem[] {
  return validateResourceDetailed(obj).map((i) => i.problem);
}

export function validateResourceDetailed(obj: unknown): SchemaIssue[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return [{ problem: { message: 'a resource must be a mapping (apiVersion, kind, metadata, spec)' }, pointer: [] }];
  }
  const ctx = problemContext(obj as Record<string, unknown>);
  const kind = (obj as Record<string, unknown>).kind as Kind;
  const validate = getValidators().get(kind);
  if (!validate) {
    return [{ problem: { ...ctx, path: '/kind', message: `unknown kind ${JSON.stringify(kind)}; expected one of ${KINDS.join(', ')}` }, pointer: ['kind'] }];
  }
  return validate(obj) ? [] : issuesOf(validate, ctx);
}

function problemContext(o: Record<string, unknown>): Omit<ConfigProblem, 'message'> {
  const meta = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<string, unknown>;
  const ctx: Omit<ConfigProblem, 'message'> = {};
  if (typeof o.kind === 'string') ctx.kind = o.kind;
  if (typeof meta.name === 'string') ctx.name = meta.name;
  if (typeof meta.namespace === 'string') ctx.namespace = meta.namespace;
  return ctx;
}

function issuesOf(validate: ValidateFunction, ctx: Omit<ConfigProblem, 'message'>): SchemaIssue[] {
  return (validate.errors ?? [])
    .filter((e) => !/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath))
    .map((e) => toIssue(e, ctx));
}

function toIssue(e: ErrorObject, ctx: Omit<ConfigProblem, 'message'>): SchemaIssue {
  const pointer = decodePointer(e.instancePath);
  const path = e.instancePath || '/';
  const p = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  let message: string;
  switch (e.keyword) {
    case 'additionalProperties':
      message = `unknown field ${JSON.stringify(p.additionalProperty)}`;
      pointer.push(String(p.additionalProperty));
      break;
    case 'required':
      message = `missing required field ${JSON.stringify(p.missingProperty)}`;
      break;
    case 'type':
      message = `must be ${article(String(p.type))}`;
      break;
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String).join(', ');
      message = e.data === 'none'
        ? `algorithm "none" is never allowed; use one of: ${allowed}`
        : `${JSON.stringify(e.data)} is not allowed; must be one of: ${allowed}`;
      break;
    }
    case 'const':
      message = `must be ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'format':
      message = FORMAT_TEXT[String(p.format)] ?? `must be a ${p.format}`;
      break;
    case 'pattern':
      message = PATTERN_TEXT[String(p.pattern)] ?? `${JSON.stringify(e.data)} is not valid`;
      break;
    case 'minItems':
    case 'minLength':
      message = 'must not be empty';
      break;
    case 'maxLength':
      message = `must be at most ${p.limit} characters`;
      break;
    case 'oneOf':
      message = oneOfMessage(e, parent);
      break;
    case 'anyOf':
      message = anyOfMessage(parent);
      break;
    default:
      message = e.message ?? 'is not valid';
  }
  return { problem: { ...ctx, path, message }, pointer };
}

/** "exactly one of" for branches that are only `required: [x]`; else the schema's description. */
function oneOfMessage(e: ErrorObject, parent: Record<string, unknown>): string {
  const names = requiredNames((parent.oneOf ?? []) as Record<string, unknown>[]);
  if (names) {
    const data = (e.data ?? {}) as Record<string, unknown>;
    const found = names.filter((n) => n in data);
    const list = names.join(', ');
    return found.length === 0 ? `exactly one of ${list} is required` : `exactly one of ${list} is allowed, found ${found.join(' and ')}`;
  }
  return typeof parent.description === 'string' ? `must be ${parent.description}` : 'is not valid';
}

/** "at least one of" for branches that are only `required: [x]`. */
function anyOfMessage(parent: Record<string, unknown>): string {
  const names = requiredNames((parent.anyOf ?? []) as Record<string, unknown>[]);
  return names ? `at least one of ${names.join(', ')} is required` : 'is not valid';
}

function requiredNames(branches: Record<string, unknown>[]): string[] | undefined {
  const names = branches.map((b) => (Array.isArray(b.required) && Object.keys(b).length === 1 ? String(b.required[0]) : undefined));
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  if (type === 'integer') return 'an integer';
  return `a ${type}`;
}

function decodePointer(ptr: string): (string | number)[] {
  if (!ptr) return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}
