/**
 * RFC 7638 JWK thumbprints: the SHA-256 of the key's required members, in lexicographic
 * order, as JSON without whitespace, in base64url. What `cnf.jkt` names (RFC 9449 §6.1).
 */
import { createHash } from 'node:crypto';

/** RFC 7638 §3.2 (RSA, EC) and RFC 8037 §2 (OKP): the members, already in lexicographic order. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/** undefined for a key type without a thumbprint definition, or a required member that is not a string */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const kty = jwk.kty;
  const members = typeof kty === 'string' ? REQUIRED[kty] : undefined;
  if (!members) return undefined;
  const parts: string[] = [];
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string') return undefined;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return createHash('sha256').update(`{${parts.join(',')}}`).digest('base64url');
}
