/**
 * One private key of --identity-key-dir, read and checked: a private JWK (`*.json`, with a
 * `kid`) or a PEM private key (`*.pem`, PKCS#8 or SEC1/PKCS#1; its kid is the file name
 * without `.pem`). ES256 (P-256), EdDSA (Ed25519), RS256 or PS256 (RSA of at least 2048 bits).
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { basename } from 'node:path';

export type IdentityAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

export interface SigningKey {
  readonly kid: string;
  readonly alg: IdentityAlg;
  readonly privateKey: KeyObject;
  /** the JWKS entry: public members only, with kid, alg and use */
  readonly publicJwk: Readonly<Record<string, unknown>>;
}

export type KeyFileResult = { ok: true; key: SigningKey } | { ok: false; problem: string };

const KID = /^[A-Za-z0-9._~-]{1,128}$/;

export function isKeyFileName(name: string): boolean {
  return !name.startsWith('.') && (name.endsWith('.json') || name.endsWith('.pem'));
}

/** `text` is the file's content; nothing of it reaches a problem message. */
export function readSigningKey(file: string, text: string): KeyFileResult {
  let privateKey: KeyObject;
  let kid: unknown;
  let wanted: unknown;
  try {
    if (file.endsWith('.json')) {
      const jwk = JSON.parse(text) as Record<string, unknown>;
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return fail('is not a JWK object');
      kid = jwk.kid;
      wanted = jwk.alg;
      if (typeof jwk.d !== 'string') return fail('is not a private key (a JWK without "d")');
      privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } else {
      kid = basename(file, '.pem');
      privateKey = createPrivateKey(text);
    }
  } catch {
    return fail('cannot be read as a private key');
  }
  if (typeof kid !== 'string' || !KID.test(kid)) return fail('has no kid (a JWK needs a "kid" of letters, digits and ._~-; a PEM file takes its name)');
  if (wanted !== undefined && typeof wanted !== 'string') return fail('has an "alg" that is not a string');
  const alg = algorithmOf(privateKey, wanted as string | undefined);
  if (typeof alg !== 'string') return fail(alg.problem);
  const publicJwk = Object.freeze({ ...publicMembers(createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' });
  return { ok: true, key: Object.freeze({ kid, alg, privateKey, publicJwk }) };
}

function algorithmOf(key: KeyObject, wanted: string | undefined): IdentityAlg | { problem: string } {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  let alg: IdentityAlg;
  if (type === 'ec') {
    if (details?.namedCurve !== 'prime256v1') return { problem: `is an EC key on ${details?.namedCurve ?? 'an unknown curve'}; only P-256 (ES256) is supported` };
    alg = 'ES256';
  } else if (type === 'ed25519') {
    alg = 'EdDSA';
  } else if (type === 'rsa') {
    if ((details?.modulusLength ?? 0) < 2048) return { problem: `is an RSA key of ${details?.modulusLength ?? 0} bits; at least 2048 are needed` };
    alg = wanted === 'PS256' ? 'PS256' : 'RS256';
  } else {
    return { problem: `is a ${type ?? 'non-asymmetric'} key; ES256 (P-256), EdDSA (Ed25519), RS256 or PS256 keys are supported` };
  }
  if (wanted !== undefined && wanted !== alg) return { problem: `says "alg": ${JSON.stringify(wanted)}, which does not fit its ${type} key` };
  return alg;
}

/** RFC 7517 §4, RFC 7518 §6, RFC 8037 §2: the members a public key has; everything else is dropped. */
function publicMembers(jwk: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e']) if (typeof jwk[m] === 'string') out[m] = jwk[m];
  return out;
}

function fail(problem: string): KeyFileResult {
  return { ok: false, problem };
}
