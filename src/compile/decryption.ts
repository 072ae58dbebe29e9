/** TrustedIssuer `decryption` (docs/token-formats.md), compiled for keys/decryption-key-ring.ts. */
import { DEFAULT_CONTENT_ENCRYPTIONS, DEFAULT_KEY_ALGORITHMS } from '../model/schema/token-formats.js';
import type { TrustedIssuer } from '../model/types.js';
import { manifestRelative } from './context.js';
import { fingerprintOf } from './fingerprint.js';
import type { CompiledDecryption } from './snapshot.js';

export function compileDecryption(r: TrustedIssuer): CompiledDecryption | undefined {
  const d = r.spec.decryption;
  if (!d) return undefined;
  const out = {
    keyAlgorithms: Object.freeze([...new Set(d.keyAlgorithms ?? DEFAULT_KEY_ALGORITHMS)]),
    contentEncryptions: Object.freeze([...new Set(d.contentEncryptions ?? DEFAULT_CONTENT_ENCRYPTIONS)]),
    ...(d.secretRef.name !== undefined ? { secretRef: { name: d.secretRef.name, ...(d.secretRef.key !== undefined ? { key: d.secretRef.key } : {}) } } : {}),
    ...(d.secretRef.path !== undefined ? { secretPath: manifestRelative(r, d.secretRef.path) } : {}),
  };
  return Object.freeze({ ...out, fingerprint: fingerprintOf(out) });
}
