/**
 * Building blocks shared by the resource schemas. Plain JSON-Schema objects (no ajv
 * specifics) so a Kubernetes CRD generator can reuse them: `format: duration` and
 * `format: date-time` are formats the API server knows; `x-kubernetes-*` keys are
 * annotations there and registered as no-op keywords for ajv.
 *
 * `description`, `default` and `examples` are annotations only (validation never applies
 * a default): they are the field reference (docs/reference.md), the editor schemas
 * (schemas/) and the CRD descriptions (`kubectl explain`), all generated from here.
 */
export type JsonSchema = Record<string, unknown>;

/** One description from several source lines. */
export const doc = (...lines: string[]): string => lines.join(' ');

export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const durationSchema: JsonSchema = { type: 'string', format: 'duration' };
export const dateTimeSchema: JsonSchema = { type: 'string', format: 'date-time' };
export const nonEmptyString: JsonSchema = { type: 'string', minLength: 1 };
export const stringList: JsonSchema = { type: 'array', items: nonEmptyString };

/** Any JSON value (claim values, JWK members). */
export const anyValue: JsonSchema = { 'x-kubernetes-preserve-unknown-fields': true };

/** `a.b.c` or a list of keys for claim names that contain dots. */
export const claimPathSchema: JsonSchema = {
  description: 'a claim path: a dotted string or a list of keys',
  oneOf: [nonEmptyString, { type: 'array', minItems: 1, items: nonEmptyString }],
};

/**
 * Kubernetes object metadata: only name/namespace are ours; the API server adds many
 * more fields (labels, managedFields, ...), so unknown fields are allowed here.
 */
export const metadataSchema: JsonSchema = {
  type: 'object',
  required: ['name'],
  description: 'Standard Kubernetes object metadata. claimcheck reads `name`, `namespace` and `creationTimestamp`; other fields (labels, annotations, ...) are allowed and ignored.',
  properties: {
    name: {
      type: 'string',
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN,
      description: doc(
        'The resource name, unique per kind within its namespace. Policies and revocations name issuers by it.',
        'A DNS-1123 subdomain: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit.',
      ),
      examples: ['corp-idp'],
    },
    namespace: {
      type: 'string',
      maxLength: 63,
      pattern: DNS1123_LABEL,
      description: doc(
        'The namespace (a DNS-1123 label). It decides visibility: TrustedIssuers in claimcheck\'s own namespace are visible to every namespace,',
        'others only to policies and revocations of their own namespace. File source: a resource without a namespace belongs to claimcheck\'s',
        'namespace (`--namespace`, default `$POD_NAMESPACE`, else `default`).',
      ),
      examples: ['payments'],
    },
    creationTimestamp: {
      type: 'string',
      description: doc(
        'Set by the API server. When two AuthPolicies claim the same host, the older keeps it (a resource without a timestamp counts as',
        'the newest; ties go to namespace/name).',
      ),
    },
    generation: { type: 'integer', description: 'Set by the API server; reported back as `status.observedGeneration`.' },
    uid: { type: 'string', description: 'Set by the API server.' },
    resourceVersion: { type: 'string', description: 'Set by the API server.' },
  },
  additionalProperties: true,
};

/** Wrap a spec schema into a whole-resource schema. */
export function resourceSchema(kind: string, spec: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: { type: 'string', const: 'claimcheck.io/v1alpha1', description: 'Always `claimcheck.io/v1alpha1`.' },
      kind: { type: 'string', const: kind, description: `Always \`${kind}\`.` },
      metadata: metadataSchema,
      spec,
      // written by the controller; ignored on input
      status: { type: 'object', additionalProperties: true, description: 'Written by claimcheck in a cluster (the conditions of each kind are listed in docs/reference.md); ignored on input.' },
    },
    additionalProperties: false,
  };
}
