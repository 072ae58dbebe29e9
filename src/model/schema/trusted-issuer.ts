import { anyValue, durationSchema, nonEmptyString, resourceSchema, stringList, type JsonSchema } from './common.js';

/** JOSE asymmetric algorithms plus HMAC (HS* only with a secretRef, checked at compile). `none` never. */
export const ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
  'HS256', 'HS384', 'HS512',
] as const;

export const jwksSchema: JsonSchema = {
  type: 'object',
  properties: {
    uri: nonEmptyString,
    discovery: { type: 'boolean' },
    inline: {
      type: 'object',
      required: ['keys'],
      properties: {
        keys: { type: 'array', minItems: 1, items: { type: 'object', ...anyValue } },
      },
      additionalProperties: false,
    },
    secretRef: {
      type: 'object',
      properties: {
        name: nonEmptyString,
        key: nonEmptyString,
        path: nonEmptyString,
      },
      additionalProperties: false,
      oneOf: [{ required: ['name'] }, { required: ['path'] }],
    },
    caBundle: nonEmptyString,
    allowInsecureHttp: { type: 'boolean' },
    refreshInterval: durationSchema,
    minRefreshInterval: durationSchema,
    maxStaleness: durationSchema,
  },
  additionalProperties: false,
  // exactly one key source
  oneOf: [{ required: ['uri'] }, { required: ['discovery'] }, { required: ['inline'] }, { required: ['secretRef'] }],
};

export const trustedIssuerSpecSchema: JsonSchema = {
  type: 'object',
  required: ['issuer', 'jwks'],
  properties: {
    issuer: nonEmptyString,
    jwks: jwksSchema,
    audiences: stringList,
    algorithms: { type: 'array', minItems: 1, items: { type: 'string', enum: [...ALGORITHMS] } },
    clockSkew: durationSchema,
    maxTokenLifetime: durationSchema,
    requiredClaims: stringList,
    tokenTypes: stringList,
  },
  additionalProperties: false,
};

export const trustedIssuerSchema = resourceSchema('TrustedIssuer', trustedIssuerSpecSchema);
