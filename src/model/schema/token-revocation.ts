import { dateTimeSchema, doc, nonEmptyString, resourceSchema, stringList, type JsonSchema } from './common.js';

export const tokenRevocationSpecSchema: JsonSchema = {
  type: 'object',
  required: ['issuer'],
  description: doc(
    'Revokes tokens of one issuer before they expire, by token id or by subject. A revoked token gets 401 `invalid_token`',
    '("token revoked"). Checked on every request; a change reaches every replica within a second or two.',
  ),
  properties: {
    issuer: {
      ...nonEmptyString,
      description: doc(
        'The TrustedIssuer\'s `metadata.name` (not its `iss` URL), resolved like a policy\'s issuers: in the revocation\'s',
        'namespace first, then in claimcheck\'s namespace.',
      ),
      examples: ['corp-idp'],
    },
    jtis: {
      ...stringList,
      description: 'Token ids (`jti` claims) to revoke.',
      examples: [['b1f3c2a0-5d1e-4c47-9a61-3f0e2d7c9b10']],
    },
    subjects: {
      type: 'array',
      description: 'Subjects whose tokens issued before an instant are revoked (e.g. after a password reset or a leaked session).',
      items: {
        type: 'object',
        required: ['subject', 'issuedBefore'],
        properties: {
          subject: { ...nonEmptyString, description: 'The `sub` claim.', examples: ['merchant_8421'] },
          issuedBefore: {
            ...dateTimeSchema,
            description: doc(
              'Tokens of the subject whose `iat` is before this RFC 3339 instant are revoked; a token of the subject without `iat`',
              'is revoked too (it cannot prove it is newer). A subject listed twice: the later instant counts.',
            ),
            examples: ['2026-11-28T12:00:00Z'],
          },
        },
        additionalProperties: false,
      },
    },
    expiresAt: {
      ...dateTimeSchema,
      description: doc(
        'After this RFC 3339 instant the revocation is ignored and its status reports `Expired`. Set it past the `exp` of the',
        'last revoked token so the list does not grow forever. Unset: never expires. Already past when loaded: a warning.',
      ),
      examples: ['2026-11-29T12:00:00Z'],
    },
  },
  additionalProperties: false,
};

export const tokenRevocationSchema = resourceSchema('TokenRevocation', tokenRevocationSpecSchema);
