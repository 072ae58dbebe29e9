/**
 * Building blocks shared by the resource schemas. Plain JSON-Schema objects (no ajv
 * specifics) so a Kubernetes CRD generator can reuse them: `format: duration` and
 * `format: date-time` are formats the API server knows; `x-kubernetes-*` keys are
 * annotations there and registered as no-op keywords for ajv.
 */
export type JsonSchema = Record<string, unknown>;

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
  properties: {
    name: { type: 'string', maxLength: 253, pattern: DNS1123_SUBDOMAIN },
    namespace: { type: 'string', maxLength: 63, pattern: DNS1123_LABEL },
    creationTimestamp: { type: 'string' },
    generation: { type: 'integer' },
    uid: { type: 'string' },
    resourceVersion: { type: 'string' },
  },
  additionalProperties: true,
};

/** Wrap a spec schema into a whole-resource schema. */
export function resourceSchema(kind: string, spec: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: { type: 'string', const: 'claimcheck.io/v1alpha1' },
      kind: { type: 'string', const: kind },
      metadata: metadataSchema,
      spec,
      // written by the controller; ignored on input
      status: { type: 'object', additionalProperties: true },
    },
    additionalProperties: false,
  };
}
