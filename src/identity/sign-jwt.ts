/**
 * Compact JWS signing (RFC 7515 §7.1) with node:crypto, synchronously: the identity token is
 * signed inside the Check that needs it, and jose's SignJWT is promise-only (a promise per
 * allowed request costs more than the ES256 signature itself).
 */
import { constants, sign, type KeyObject } from 'node:crypto';
import type { IdentityAlg, SigningKey } from './signing-key.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

interface Signer {
  /** the encoded JOSE header, the same for every token of the key */
  header: string;
  sign(data: Buffer): Buffer;
}

/** Built once per key: the header and the signing options do not change from token to token. */
const signers = new WeakMap<SigningKey, Signer>();

function signerFor(alg: IdentityAlg, key: KeyObject): Signer['sign'] {
  switch (alg) {
    case 'ES256': {
      // RFC 7518 §3.4: R||S, not DER
      const opts = { key, dsaEncoding: 'ieee-p1363' } as const;
      return (data) => sign('sha256', data, opts);
    }
    case 'EdDSA':
      return (data) => sign(null, data, key);
    case 'RS256':
      return (data) => sign('sha256', data, key);
    case 'PS256': {
      // RFC 7518 §3.5: salt as long as the hash
      const opts = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      return (data) => sign('sha256', data, opts);
    }
  }
}

export function signJwt(key: SigningKey, payload: Record<string, unknown>): string {
  let s = signers.get(key);
  if (s === undefined) {
    s = { header: b64({ alg: key.alg, kid: key.kid, typ: 'JWT' }), sign: signerFor(key.alg, key.privateKey) };
    signers.set(key, s);
  }
  const input = `${s.header}.${b64(payload)}`;
  return `${input}.${s.sign(Buffer.from(input, 'latin1')).toString('base64url')}`;
}
