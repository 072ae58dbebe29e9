/**
 * The content of a `decryption.secretRef` as decryption keys (docs/token-formats.md): a private
 * JWK, a JWKS of them, or PEM private keys. Every key is checked here, once, so decrypting
 * never meets a key of the wrong kind; a file with any unusable key is refused as a whole,
 * and the caller keeps its last good keys. Errors never carry key material.
 */
import { createPrivateKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ClaimcheckError } from '../errors.js';
import type { DecryptionKey } from './decrypt-token.js';

export const MAX_DECRYPTION_KEYS = 20;
const EC_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const AES_KEY_BYTES = new Set([16, 24, 32, 48, 64]);
const PEM_PRIVATE = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |EC )?PRIVATE KEY-----/g;

/** Error code: decryption_keys_invalid. */
export function parseDecryptionKeys(content: Buffer): DecryptionKey[] {
  const text = content.toString('utf8').trim();
  let keys: DecryptionKey[];
  if (text.startsWith('{')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw invalid('not valid JSON');
    }
    const list = typeof body === 'object' && body !== null && Array.isArray((body as { keys?: unknown }).keys) ? (body as { keys: unknown[] }).keys : [body];
    if (list.length > MAX_DECRYPTION_KEYS) throw invalid(`more than ${MAX_DECRYPTION_KEYS} keys`);
    keys = list.map((k, i) => fromJwk(k, i));
  } else {
    const blocks = text.match(PEM_PRIVATE) ?? [];
    if (blocks.length === 0) throw invalid('neither a JWK, a JWKS nor PEM private keys');
    if (blocks.length > MAX_DECRYPTION_KEYS) throw invalid(`more than ${MAX_DECRYPTION_KEYS} keys`);
    keys = blocks.map((pem, i) => {
      let key: KeyObject;
      try {
        key = createPrivateKey(pem);
      } catch {
        throw invalid(`PEM block ${i + 1} is not a private key`);
      }
      return { key: checked(key, `PEM block ${i + 1}`) };
    });
  }
  if (keys.length === 0) throw invalid('no keys');
  return keys;
}

function fromJwk(value: unknown, i: number): DecryptionKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`key ${i} is not a JWK`);
  const jwk = value as Record<string, unknown>;
  const where = typeof jwk.kid === 'string' ? `key ${JSON.stringify(jwk.kid)}` : `key ${i}`;
  // RFC 7517 §4.2: a key meant for signatures is not used to decrypt
  if (jwk.use !== undefined && jwk.use !== 'enc') throw invalid(`${where} has use ${JSON.stringify(jwk.use)}, not "enc"`);
  let key: KeyObject;
  try {
    if (jwk.kty === 'oct') {
      if (typeof jwk.k !== 'string') throw new Error('no k');
      key = createSecretKey(Buffer.from(jwk.k, 'base64url'));
    } else {
      if (typeof jwk.d !== 'string') throw invalid(`${where} is a public key; decryption needs the private key`);
      key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    }
  } catch (err) {
    if (err instanceof ClaimcheckError) throw err;
    throw invalid(`${where} cannot be imported`);
  }
  return { ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}), key: checked(key, where) };
}

function checked(key: KeyObject, where: string): KeyObject {
  if (key.type === 'secret') {
    if (!AES_KEY_BYTES.has(key.symmetricKeySize ?? 0)) throw invalid(`${where}: a secret key must be 16, 24, 32, 48 or 64 bytes`);
    return key;
  }
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails;
  if (t === 'rsa' && (d?.modulusLength ?? 0) >= 2048) return key;
  if (t === 'ec' && EC_CURVES.has(d?.namedCurve ?? '')) return key;
  if (t === 'x25519') return key;
  throw invalid(`${where}: only RSA of at least 2048 bits, EC P-256/P-384/P-521 and X25519 keys decrypt`);
}

const invalid = (message: string) => new ClaimcheckError('decryption_keys_invalid', message);
