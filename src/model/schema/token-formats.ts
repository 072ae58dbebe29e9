/** TrustedIssuer fields about what a token may carry, beyond its signature (docs/token-formats.md). */
import { doc, nonEmptyString, type JsonSchema } from './common.js';

export const SENSITIVE_KINDS = ['pan'] as const;

/** Past this a payload cannot be a token: the decoded payload of a 64 KiB token is 48 KiB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export const payloadSchema: JsonSchema = {
  type: 'object',
  description: doc(
    'Payload hygiene: what a verified token of this issuer may not carry. A JWT\'s payload is readable by anyone who sees the',
    'token (RFC 7519 §12), so secrets and card numbers in it leak to every hop. Checked once per token, after its signature',
    'verified; the verdict is cached with the token, so a repeated token costs nothing. Denials are `401 invalid_token`; the',
    'log, the decision log and `claimcheck check` name the claim (its path), never its value.',
  ),
  properties: {
    maxBytes: {
      type: 'integer',
      minimum: 64,
      maximum: MAX_PAYLOAD_BYTES,
      description: doc(
        'Largest accepted decoded payload, in bytes (the JSON between the two dots, base64url-decoded). A larger one is denied as',
        '`payload_too_large` before its signature is checked, so an oversized token costs no cryptography. Unset: only',
        '`--max-token-bytes` applies. 64 to 65536.',
      ),
      examples: [8192],
    },
    forbiddenClaims: {
      type: 'array',
      items: nonEmptyString,
      maxItems: 256,
      description: doc(
        'Claim names a token must not carry, at any depth: a member of that name in the payload or in any object nested in it',
        '(inside arrays too) denies the token as `forbidden_claim`. Names compare exactly (case-sensitive), whatever the value,',
        'even `null`.',
      ),
      examples: [['password', 'pwd', 'ssn']],
    },
    detect: {
      type: 'array',
      items: { type: 'string', enum: [...SENSITIVE_KINDS] },
      description: doc(
        'Kinds of sensitive data looked for in every string value at any depth. `pan`: a payment card number, i.e. 13 to 19',
        'digits (single spaces or `-` between digit groups allowed) that are not part of a longer run of digits, start with',
        '2 to 6 (the ISO/IEC 7812 banking and financial industries, so a millisecond timestamp never matches) and pass the Luhn',
        'check. Found anywhere inside a longer string too. Numbers (JSON numbers) are not scanned.',
      ),
      examples: [['pan']],
    },
    detectAction: {
      type: 'string',
      enum: ['audit', 'deny'],
      default: 'audit',
      description: doc(
        'What a `detect` finding does. `audit`: the token is accepted; `claimcheck_sensitive_claims_total{issuer,kind}` counts it',
        'and a warning is logged with the claim path, once per token (again only if the token leaves the token cache).',
        '`deny`: the token is refused as `sensitive_claim` (401), counted and logged the same way.',
      ),
      examples: ['deny'],
    },
  },
  additionalProperties: false,
};
