/** JSON Schema of a PolicyTest document; unknown fields are errors, as in the resource schemas. */
import { API_VERSION, POLICY_TEST_KIND } from '../model/types.js';
import { anyValue, durationSchema, metadataSchema, nonEmptyString, type JsonSchema } from '../model/schema/index.js';

const headerValues: JsonSchema = {
  type: 'object',
  additionalProperties: {
    description: 'a string or a list of strings',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  },
};

const requestSchema: JsonSchema = {
  type: 'object',
  required: ['host', 'path'],
  properties: {
    host: nonEmptyString,
    path: { type: 'string', pattern: '^/' },
    method: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
    headers: headerValues,
  },
  additionalProperties: false,
};

const tokenSchema: JsonSchema = {
  type: 'object',
  required: ['issuer'],
  properties: {
    issuer: nonEmptyString,
    claims: { type: 'object', ...anyValue },
    lifetime: durationSchema,
    header: { type: 'object', ...anyValue },
  },
  additionalProperties: false,
};

const expectSchema: JsonSchema = {
  type: 'object',
  required: ['decision'],
  properties: {
    decision: { type: 'string', enum: ['allow', 'deny'] },
    status: { type: 'integer', minimum: 100, maximum: 599 },
    reason: nonEmptyString,
    headers: {
      type: 'object',
      additionalProperties: { description: 'a string, or null for "not set"', oneOf: [{ type: 'string' }, { type: 'null' }] },
    },
  },
  additionalProperties: false,
};

const caseSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'request', 'expect'],
  properties: {
    name: nonEmptyString,
    request: requestSchema,
    token: tokenSchema,
    raw: nonEmptyString,
    expect: expectSchema,
  },
  additionalProperties: false,
};

export const policyTestSchema: JsonSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'spec'],
  properties: {
    apiVersion: { type: 'string', const: API_VERSION },
    kind: { type: 'string', const: POLICY_TEST_KIND },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      required: ['cases'],
      properties: {
        config: nonEmptyString,
        cases: { type: 'array', minItems: 1, items: caseSchema },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};
