/**
 * Compact JWS signing (RFC 7515 §7.1) with node:crypto, synchronously: the identity token is
 * signed inside the Check that needs it, and jose's SignJWT is promise-only (a promise per
 * allowed request costs more than the ES256 signature itself).
 */
import { constants, sign } from 'node:crypto';
import type { SigningKey } from './signing-key.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** The encoded header is the same for every token of a key. */
const headers = new WeakMap<SigningKey, string>();

export function signJwt(key: SigningKey, payload: Record<string, unknown>): string {
  let header = headers.get(key);
  if (header === undefined) {
    header = b64({ alg: key.alg, kid: key.kid, typ: 'JWT' });
    headers.set(key, header);
  }
  const input = `${header}.${b64(payload)}`;
  const data = Buffer.from(input, 'latin1');
  let sig: Buffer;
  switch (key.alg) {
    case 'ES256':
      // RFC 7518 §3.4: R||S, not DER
      sig = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
      break;
    case 'EdDSA':
      sig = sign(null, data, key.privateKey);
      break;
    case 'RS256':
      sig = sign('sha256', data, key.privateKey);
      break;
    case 'PS256':
      // RFC 7518 §3.5: salt as long as the hash
      sig = sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      break;
  }
  return `${input}.${sig.toString('base64url')}`;
}
