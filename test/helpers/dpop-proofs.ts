/** DPoP proofs (RFC 9449 §4.2) for the tests that act as a DPoP client, signed with jose. */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';

export type ClientKey = { privateKey: KeyObject; publicKey: KeyObject };

export const publicJwk = (k: KeyObject): JWK => k.export({ format: 'jwk' }) as JWK;

/** base64url(SHA-256(token)): a proof's `ath` */
export const accessTokenHash = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** A fresh ES256 proof for `htm` `htu`, bound to `token`, with a new jti and iat now. */
export function dpopProof(key: ClientKey, token: string, o: { htu: string; htm?: string; nonce?: string }): Promise<string> {
  const claims: Record<string, unknown> = { jti: randomBytes(12).toString('base64url'), htm: o.htm ?? 'GET', htu: o.htu, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(token) };
  if (o.nonce !== undefined) claims.nonce = o.nonce;
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(key.publicKey) }).sign(key.privateKey);
}
