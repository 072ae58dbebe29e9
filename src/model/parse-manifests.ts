import type { Document } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import { API_GROUP, KINDS, POLICY_TEST_KIND, type AnyResource, type Kind } from './types.js';
import { validateResourceDetailed } from './validate-resource.js';
import { nodeAt, readYaml, syntaxErrorLine, type YamlDocument } from './yaml-documents.js';

export { nodeAt };

export interface ParsedManifests {
  resources: AnyResource[];
  problems: ConfigProblem[];
  /** claimcheck.io documents read, valid or not, and documents too broken to tell (other API groups and empty documents are not counted) */
  documents: number;
}

/**
 * Parse a multi-document YAML text into claimcheck resources. Documents of other API
 * groups (a ConfigMap next to the policies) and PolicyTest documents are ignored; an
 * unknown kind under claimcheck.io is a problem. Every problem carries the file and a 1-based line. Never throws.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const out: ParsedManifests = { resources: [], problems: [], documents: 0 };
  for (const { value: obj, doc, line: docLine, lineOf } of yamlMappings(text, file, out.problems, () => out.documents++)) {
    if (!isOurs(obj) || obj.kind === POLICY_TEST_KIND) continue;
    out.documents++;
    const issues = validateResourceDetailed(obj);
    if (issues.length > 0) {
      for (const { problem, pointer } of issues) {
        out.problems.push({ ...problem, file, line: lineOf(nodeAt(doc, pointer)?.range?.[0]) || docLine });
      }
      continue;
    }
    const resource = compact(obj) as unknown as AnyResource;
    resource.origin = { file, line: docLine };
    out.resources.push(resource);
  }
  return out;
}

/** One non-empty YAML document of a file, read as a mapping. */
export interface YamlMapping {
  value: Record<string, unknown>;
  doc: Document.Parsed;
  /** 1-based line of the document's first node */
  line: number;
  /** 1-based line of a character offset in the file */
  lineOf(offset: number | undefined): number;
}

/**
 * The mappings of a multi-document YAML text, one at a time. A document with a syntax
 * error, or that is not a mapping, is one problem in `problems` (with its line, and
 * `onBroken` called); empty documents are skipped.
 */
export function* yamlMappings(text: string, file: string, problems: ConfigProblem[], onBroken: () => void = () => undefined): Generator<YamlMapping> {
  const yaml = readYaml(text);
  const docs = yaml.documents();
  for (;;) {
    let next: IteratorResult<YamlDocument, void>;
    try {
      next = docs.next();
    } catch (err) {
      onBroken();
      problems.push({ file, line: 1, message: `cannot parse YAML: ${(err as Error).message}` });
      return;
    }
    if (next.done) return;
    const { doc, line } = next.value;
    const read = readMapping(doc, line, text, yaml.lineOf);
    if ('message' in read) {
      onBroken();
      problems.push({ file, ...read });
    } else if (read.value) {
      yield { value: read.value, doc, line, lineOf: yaml.lineOf };
    }
  }
}

/** The document as a mapping (undefined when empty), or why it cannot be read as one, with the line to show. */
function readMapping(doc: Document.Parsed, docLine: number, text: string, lineOf: (o: number) => number): { value?: Record<string, unknown> } | { line: number; message: string } {
  if (doc.errors.length > 0) {
    // the first error only: the ones after it mostly follow from it
    const e = doc.errors[0]!;
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more in this document)` : '';
    return { line: syntaxErrorLine(text, e.code, e.pos[0], lineOf), message: `YAML syntax error: ${firstLine(e.message)}${more}` };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { line: docLine, message: `cannot read YAML document: ${(err as Error).message}` };
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { line: docLine, message: 'a YAML document must be a mapping (apiVersion, kind, metadata, spec)' };
  }
  return { value: value as Record<string, unknown> };
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
