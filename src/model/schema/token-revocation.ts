import { dateTimeSchema, nonEmptyString, resourceSchema, stringList, type JsonSchema } from './common.js';

export const tokenRevocationSpecSchema: JsonSchema = {
  type: 'object',
  required: ['issuer'],
  properties: {
    issuer: nonEmptyString,
    jtis: stringList,
    subjects: {
      type: 'array',
      items: {
        type: 'object',
        required: ['subject', 'issuedBefore'],
        properties: { subject: nonEmptyString, issuedBefore: dateTimeSchema },
        additionalProperties: false,
      },
    },
    expiresAt: dateTimeSchema,
  },
  additionalProperties: false,
};

export const tokenRevocationSchema = resourceSchema('TokenRevocation', tokenRevocationSpecSchema);
