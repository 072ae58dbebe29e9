import { Composer, isMap, isNode, isPair, isScalar, LineCounter, Parser, type Document, type Node } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import { API_GROUP, KINDS, POLICY_TEST_KIND, type AnyResource, type Kind } from './types.js';
import { validateResourceDetailed } from './validate-resource.js';

export interface ParsedManifests {
  resources: AnyResource[];
  problems: ConfigProblem[];
}

/**
 * Parse a multi-document YAML text into claimcheck resources. Documents of other API
 * groups (a ConfigMap next to the policies) and PolicyTest documents are ignored; an
 * unknown kind under claimcheck.io is a problem. Every problem carries the file and a 1-based line. Never throws.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const resources: AnyResource[] = [];
  const problems: ConfigProblem[] = [];
  for (const { value: obj, doc, line: docLine, lineOf } of yamlMappings(text, file, problems)) {
    if (!isOurs(obj) || obj.kind === POLICY_TEST_KIND) continue;

    const issues = validateResourceDetailed(obj);
    if (issues.length > 0) {
      for (const { problem, pointer } of issues) {
        problems.push({ ...problem, file, line: lineOf(nodeAt(doc, pointer)?.range?.[0]) || docLine });
      }
      continue;
    }
    const resource = compact(obj) as unknown as AnyResource;
    resource.origin = { file, line: docLine };
    resources.push(resource);
  }
  return { resources, problems };
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
 * The mappings of a multi-document YAML text, one at a time; syntax errors and documents that are
 * not mappings go to `problems` with their line, and empty documents are skipped.
 */
export function* yamlMappings(text: string, file: string, problems: ConfigProblem[]): Generator<YamlMapping> {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  // One document at a time: a 10,000-resource file never holds more than one document's
  // syntax tree (parseAllDocuments would keep every tree until the last one is read).
  const docs = new Composer({ prettyErrors: false }).compose(new Parser(lineCounter.addNewLine).parse(text), false, text.length);
  for (;;) {
    let doc: Document.Parsed;
    try {
      const next = docs.next();
      if (next.done) break;
      doc = next.value as Document.Parsed;
    } catch (err) {
      problems.push({ file, line: 1, message: `cannot parse YAML: ${(err as Error).message}` });
      return;
    }
    const docLine = lineOf(doc.contents?.range?.[0] ?? doc.range?.[0]);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        problems.push({ file, line: e.linePos?.[0]?.line ?? lineOf(e.pos[0]), message: `YAML syntax error: ${firstLine(e.message)}` });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({ file, line: docLine, message: `cannot read YAML document: ${(err as Error).message}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ file, line: docLine, message: 'a YAML document must be a mapping (apiVersion, kind, metadata, spec)' });
      continue;
    }
    yield { value: value as Record<string, unknown>, doc, line: docLine, lineOf };
  }
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

/** The YAML node (or the key of a pair, for unknown fields) at `pointer`; the closest ancestor found. */
export function nodeAt(doc: Document.Parsed, pointer: (string | number)[]): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = isNode(node) ? node : undefined;
  for (const seg of pointer) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      // an unknown field points at its key; an existing one at its value
      found = isNode(pair.key) ? pair.key : found;
      node = pair.value;
      if (isNode(node) && node.range) found = node;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as { items: unknown[] }).items[Number(seg)];
      if (!isNode(item)) break;
      node = item;
      found = item;
    } else {
      break;
    }
  }
  return found;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
