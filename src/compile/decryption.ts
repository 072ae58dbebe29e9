/** TrustedIssuer `decryption` (docs/token-formats.md), compiled for keys/decryption-key-ring.ts. */
import { dirname, resolve } from 'node:path';
import { DEFAULT_CONTENT_ENCRYPTIONS, DEFAULT_KEY_ALGORITHMS } from '../model/schema/token-formats.js';
import type { TrustedIssuer } from '../model/types.js';
import { fingerprintOf } from './fingerprint.js';
import type { CompiledDecryption } from './snapshot.js';

export function compileDecryption(r: TrustedIssuer): CompiledDecryption | undefined {
  const d = r.spec.decryption;
  if (!d) return undefined;
  const out = {
    keyAlgorithms: Object.freeze([...new Set(d.keyAlgorithms ?? DEFAULT_KEY_ALGORITHMS)]),
    contentEncryptions: Object.freeze([...new Set(d.contentEncryptions ?? DEFAULT_CONTENT_ENCRYPTIONS)]),
    ...(d.secretRef.name !== undefined ? { secretRef: { name: d.secretRef.name, ...(d.secretRef.key !== undefined ? { key: d.secretRef.key } : {}) } } : {}),
    // file source: relative to the manifest that names it, like jwks.secretRef
    ...(d.secretRef.path !== undefined ? { secretPath: resolve(r.origin ? dirname(r.origin.file) : '.', d.secretRef.path) } : {}),
  };
  return Object.freeze({ ...out, fingerprint: fingerprintOf(out) });
}
