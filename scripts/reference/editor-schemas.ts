/**
 * JSON Schemas (draft-07) of whole claimcheck documents for editors: yaml-language-server
 * reads them through a `# yaml-language-server: $schema=<path>` first line and offers
 * completion, hover text and validation. Derived from src/model/schema/ like the CRDs.
 */
import { RESOURCE_SCHEMAS, type JsonSchema } from '../../src/model/schema/index.js';
import { API_VERSION, KINDS, type Kind } from '../../src/model/types.js';
import { GO_DURATION } from '../crd-schemas.js';

export const SCHEMA_FILES: Readonly<Record<Kind | 'any', string>> = {
  TrustedIssuer: 'trustedissuer.json',
  AuthPolicy: 'authpolicy.json',
  TokenRevocation: 'tokenrevocation.json',
  any: 'claimcheck.json',
};

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/**
 * Editors know neither Kubernetes annotations nor `format: duration` (in JSON Schema that
 * is ISO 8601, `PT30S`), so durations become the Go-syntax pattern the CRDs use.
 * `markdownDescription` is what VS Code renders on hover.
 */
function forEditor(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forEditor);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'format' && v === 'duration') {
      out.pattern = GO_DURATION;
      continue;
    }
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as JsonSchema).map(([name, s]) => [name, forEditor(s)]));
    // values of these keywords are data, not schemas
    else if (k === 'examples' || k === 'default' || k === 'enum' || k === 'const' || k === 'required') out[k] = v;
    else out[k] = forEditor(v);
  }
  if (typeof out.description === 'string') out.markdownDescription = out.description;
  return out;
}

function kindSchema(kind: Kind): JsonSchema {
  return forEditor(RESOURCE_SCHEMAS[kind]) as JsonSchema;
}

function title(kind: string): string {
  return `claimcheck ${kind} (${API_VERSION})`;
}

/** file name → JSON text */
export function renderEditorSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  const json = (s: JsonSchema) => `${JSON.stringify(s, null, 2)}\n`;
  for (const kind of KINDS) {
    out.set(SCHEMA_FILES[kind], json({ $schema: DRAFT_07, title: title(kind), ...kindSchema(kind) }));
  }
  // for files holding several kinds (multi-document YAML): each document by its kind
  out.set(SCHEMA_FILES.any, json({
    $schema: DRAFT_07,
    title: 'claimcheck resource (TrustedIssuer, AuthPolicy or TokenRevocation)',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: API_VERSION },
      kind: { enum: [...KINDS] },
    },
    allOf: KINDS.map((kind) => ({
      if: { type: 'object', properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/definitions/${kind}` },
    })),
    definitions: Object.fromEntries(KINDS.map((kind) => [kind, { title: title(kind), ...kindSchema(kind) }])),
  }));
  return out;
}
