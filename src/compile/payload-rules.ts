/** TrustedIssuer `payload` (docs/token-formats.md), compiled for authn/scan-payload.ts. */
import type { PayloadSpec } from '../model/types.js';
import type { CompiledPayloadRules } from './snapshot.js';

/** undefined when the issuer asks for nothing, so its tokens skip the scan */
export function compilePayloadRules(spec: PayloadSpec | undefined): CompiledPayloadRules | undefined {
  if (!spec) return undefined;
  const forbidden = new Set(spec.forbiddenClaims ?? []);
  const detectPan = (spec.detect ?? []).includes('pan');
  if (spec.maxBytes === undefined && forbidden.size === 0 && !detectPan) return undefined;
  return Object.freeze({
    ...(spec.maxBytes !== undefined ? { maxBytes: spec.maxBytes } : {}),
    forbidden,
    detectPan,
    action: spec.detectAction ?? 'audit',
  });
}
