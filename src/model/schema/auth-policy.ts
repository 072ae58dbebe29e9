import { anyValue, claimPathSchema, nonEmptyString, resourceSchema, stringList, type JsonSchema } from './common.js';

export const CLAIM_OPERATORS = ['equals', 'in', 'contains', 'matches', 'exists'] as const;

export const tokenSourceSchema: JsonSchema = {
  type: 'object',
  properties: {
    header: nonEmptyString,
    prefix: { type: 'string' },
    cookie: nonEmptyString,
    query: nonEmptyString,
  },
  additionalProperties: false,
  oneOf: [{ required: ['header'] }, { required: ['cookie'] }, { required: ['query'] }],
};

export const claimRequirementSchema: JsonSchema = {
  type: 'object',
  required: ['claim'],
  properties: {
    claim: claimPathSchema,
    equals: anyValue,
    in: { type: 'array', minItems: 1, items: anyValue },
    contains: anyValue,
    matches: nonEmptyString,
    exists: { type: 'boolean' },
  },
  additionalProperties: false,
  // exactly one operator
  oneOf: CLAIM_OPERATORS.map((op) => ({ required: [op] })),
};

export const ruleSchema: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: nonEmptyString,
    match: {
      type: 'object',
      properties: {
        paths: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^/' } },
        methods: { type: 'array', minItems: 1, items: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" } },
      },
      additionalProperties: false,
    },
    action: { type: 'string', enum: ['require', 'allowAnonymous', 'deny'] },
    require: {
      type: 'object',
      properties: {
        issuers: stringList,
        scopes: {
          type: 'object',
          properties: { allOf: stringList, anyOf: stringList },
          additionalProperties: false,
        },
        claims: { type: 'array', items: claimRequirementSchema },
        when: nonEmptyString,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

export const authPolicySpecSchema: JsonSchema = {
  type: 'object',
  required: ['rules'],
  properties: {
    hosts: stringList,
    issuers: stringList,
    mode: { type: 'string', enum: ['enforce', 'audit'] },
    tokenSources: { type: 'array', minItems: 1, items: tokenSourceSchema },
    rules: { type: 'array', items: ruleSchema },
    identity: {
      type: 'object',
      properties: {
        headers: { type: 'object', additionalProperties: claimPathSchema },
        payloadHeader: nonEmptyString,
        forwardToken: { type: 'boolean' },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

export const authPolicySchema = resourceSchema('AuthPolicy', authPolicySpecSchema);
