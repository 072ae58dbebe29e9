import type { ConfigProblem } from '../errors.js';
import { API_GROUP, KINDS, type AnyResource, type Kind } from './types.js';
import { validateResourceDetailed } from './validate-resource.js';
import { nodeAt, readYaml, syntaxErrorLine, type YamlDocument } from './yaml-documents.js';

export interface ParsedManifests {
  resources: AnyResource[];
  problems: ConfigProblem[];
  /** claimcheck.io documents read, valid or not (other API groups and empty documents are not counted) */
  documents: number;
}

/** PolicyTest files (claimcheck test) may sit beside the configuration; they are never configuration. */
const NOT_CONFIGURATION = new Set(['PolicyTest']);

/**
 * Parse a multi-document YAML text into claimcheck resources. Documents of other API
 * groups (a ConfigMap next to the policies) are ignored; an unknown kind under
 * claimcheck.io is a problem. Every problem carries the file and a 1-based line. Never throws.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const out: ParsedManifests = { resources: [], problems: [], documents: 0 };
  const yaml = readYaml(text);
  const docs = yaml.documents();
  for (;;) {
    let next: IteratorResult<YamlDocument, void>;
    try {
      next = docs.next();
    } catch (err) {
      out.problems.push({ file, line: 1, message: `cannot parse YAML: ${(err as Error).message}` });
      return out;
    }
    if (next.done) break;
    readDocument(next.value, text, file, yaml.lineOf, out);
  }
  return out;
}

function readDocument({ doc, line: docLine }: YamlDocument, text: string, file: string, lineOf: (o: number | undefined) => number, out: ParsedManifests): void {
  if (doc.errors.length > 0) {
    out.documents++;
    // the first error only: the ones after it mostly follow from it
    const e = doc.errors[0]!;
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more in this document)` : '';
    out.problems.push({ file, line: syntaxErrorLine(text, e.code, e.pos[0], lineOf), message: `YAML syntax error: ${firstLine(e.message)}${more}` });
    return;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    out.documents++;
    out.problems.push({ file, line: docLine, message: `cannot read YAML document: ${(err as Error).message}` });
    return;
  }
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.documents++;
    out.problems.push({ file, line: docLine, message: 'a YAML document must be a mapping (apiVersion, kind, metadata, spec)' });
    return;
  }
  const obj = value as Record<string, unknown>;
  if (!isOurs(obj) || NOT_CONFIGURATION.has(obj.kind as string)) return;
  out.documents++;

  const issues = validateResourceDetailed(obj);
  if (issues.length > 0) {
    for (const { problem, pointer } of issues) {
      out.problems.push({ ...problem, file, line: lineOf(nodeAt(doc, pointer)?.range?.[0]) || docLine });
    }
    return;
  }
  const resource = compact(obj) as unknown as AnyResource;
  resource.origin = { file, line: docLine };
  out.resources.push(resource);
}

/**
 * yaml's toJS builds objects and arrays with spare capacity: ~4.4 KB per benchmark policy
 * against ~1.8 KB for the same value from JSON.parse, and a large load holds every resource
 * until it is compiled. A JSON round trip gives the compact form; values JSON cannot carry
 * (non-finite numbers, very deep nesting) are kept as they are.
 */
function compact(value: Record<string, unknown>): Record<string, unknown> {
  return jsonSafe(value, 0) ? (JSON.parse(JSON.stringify(value)) as Record<string, unknown>) : value;
}

function jsonSafe(v: unknown, depth: number): boolean {
  if (depth > 64) return false;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      if (v === null) return true;
      if (Array.isArray(v)) return v.every((x) => jsonSafe(x, depth + 1));
      if (Object.getPrototypeOf(v) !== Object.prototype) return false;
      for (const x of Object.values(v)) if (!jsonSafe(x, depth + 1)) return false;
      return true;
    default:
      return false;
  }
}

/** claimcheck.io/* documents, and documents naming one of our kinds without an apiVersion. */
function isOurs(obj: Record<string, unknown>): boolean {
  const av = obj.apiVersion;
  if (typeof av === 'string') return av === API_GROUP || av.startsWith(`${API_GROUP}/`);
  return av === undefined && KINDS.includes(obj.kind as Kind);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
