import type { Kind } from '../types.js';
import { authPolicySchema } from './auth-policy.js';
import type { JsonSchema } from './common.js';
import { tokenRevocationSchema } from './token-revocation.js';
import { trustedIssuerSchema } from './trusted-issuer.js';

export * from './common.js';
export * from './trusted-issuer.js';
export * from './auth-policy.js';
export * from './token-revocation.js';

/** Whole-resource schema per kind (the `spec` schemas are exported for the CRD generator). */
export const RESOURCE_SCHEMAS: Readonly<Record<Kind, JsonSchema>> = {
  TrustedIssuer: trustedIssuerSchema,
  AuthPolicy: authPolicySchema,
  TokenRevocation: tokenRevocationSchema,
};
