/** Which JWKs may ever verify a token, and for which algorithms. Pure. */
import type { Jwk } from '../model/types.js';

/** Members that only private or symmetric keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;

/** RFC 7518 §3.3: RSA keys of 2048 bits or larger MUST be used. */
const MIN_RSA_BITS = 2048;

/** RFC 7518 §3.2: an HMAC key at least as long as the hash output. */
const MIN_HMAC_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

export const SUPPORTED_ALGS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512',
] as const;

function base64urlByteLength(s: string): number {
  return Buffer.from(s, 'base64url').length;
}

export function rsaModulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i) * 8 - Math.clz32(bytes[i]!) + 24;
}

/**
 * Why a key from a set must never be used, or undefined when it may be.
 * `symmetricAllowed` is true only for secrets from a local secret source: a symmetric key
 * from a remote or inline set would let anyone who can read the set forge tokens.
 */
export function keyRejection(jwk: Jwk, opts: { symmetricAllowed: boolean }): string | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'not an object';
  const kty = jwk.kty;
  if (typeof kty !== 'string') return 'kty missing';
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return 'kid not a string';
  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') return 'alg not a string';
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'use is not sig';
  if (jwk.key_ops !== undefined && (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify'))) {
    return 'key_ops without verify';
  }
  if (kty === 'oct') {
    if (!opts.symmetricAllowed) return 'symmetric key not allowed from this source';
    if (typeof jwk.k !== 'string' || base64urlByteLength(jwk.k) < 32) return 'symmetric key too short';
    return undefined;
  }
  for (const m of PRIVATE_MEMBERS) if (m in jwk) return 'private key material';
  if ('k' in jwk) return 'private key material';
  switch (kty) {
    case 'RSA':
      if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return 'RSA key incomplete';
      if (rsaModulusBits(jwk.n) < MIN_RSA_BITS) return 'RSA key under 2048 bits';
      return undefined;
    case 'EC':
      if (!['P-256', 'P-384', 'P-521'].includes(jwk.crv as string)) return 'unsupported curve';
      if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return 'EC key incomplete';
      return undefined;
    case 'OKP':
      if (jwk.crv !== 'Ed25519') return 'unsupported curve';
      if (typeof jwk.x !== 'string') return 'OKP key incomplete';
      return undefined;
    default:
      return 'unsupported kty';
  }
}

/** Whether a (non-rejected) key's type and curve fit a JWS alg, and its own `alg` agrees. */
export function keyFitsAlg(jwk: Jwk, alg: string): boolean {
  if (typeof jwk.alg === 'string' && jwk.alg !== alg) {
    // RFC 8037 / RFC 9864: an Ed25519 key may be labelled with either name.
    const ed = (a: string) => a === 'EdDSA' || a === 'Ed25519';
    if (!(ed(jwk.alg) && ed(alg))) return false;
  }
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512':
    case 'PS256': case 'PS384': case 'PS512':
      return jwk.kty === 'RSA';
    case 'ES256': return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'ES384': return jwk.kty === 'EC' && jwk.crv === 'P-384';
    case 'ES512': return jwk.kty === 'EC' && jwk.crv === 'P-521';
    case 'EdDSA': case 'Ed25519':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    case 'HS256': case 'HS384': case 'HS512':
      return jwk.kty === 'oct' && typeof jwk.k === 'string' && base64urlByteLength(jwk.k) >= MIN_HMAC_BYTES[alg]!;
    default:
      return false;
  }
}
