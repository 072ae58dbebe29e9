/**
 * Compact JWE (RFC 7516 §7.1) around a signed JWT (RFC 7519 §5.2, §11.2: sign, then
 * encrypt), for an issuer with `decryption` (docs/token-formats.md). Every header check runs
 * before any cryptography; the decryption itself is jose's. The plaintext is handed back
 * only when it is a compact JWS: the caller verifies it against the same issuer, so an
 * encrypted but unsigned payload is never accepted.
 */
import type { KeyObject } from 'node:crypto';
import { compactDecrypt, importJWK, type JWK } from 'jose';
import type { CompiledDecryption } from '../compile/snapshot.js';
import { invalid } from '../authn/invalid.js';
import { decodeJsonObject, isCanonicalBase64url } from '../authn/parse-compact.js';
import type { Decrypted, VerifyFailure } from '../authn/types.js';

export interface DecryptionKey {
  kid?: string;
  /** a private key, or a secret key for `dir` and AES key wrap */
  key: KeyObject;
}


/** Without a `kid`, keys that fit the algorithm are tried in turn: bounded, each try is a private-key operation. */
const MAX_TRIES = 4;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 7516 §4.1.2 / RFC 7519 §5.2: the plaintext is a JWT; RFC 9068 §2.1 servers write `at+jwt`. */
function isNestedJwt(cty: unknown): boolean {
  if (typeof cty !== 'string') return false;
  const t = cty.toLowerCase().replace(/^application\//, '');
  return t === 'jwt' || t === 'at+jwt';
}

/** The key type each key-management algorithm takes (RFC 7518 §4.1). */
function keyTypeFor(alg: string): 'rsa' | 'ec' | 'secret' | undefined {
  if (alg.startsWith('RSA-OAEP')) return 'rsa';
  if (alg.startsWith('ECDH-ES')) return 'ec';
  if (alg === 'dir' || /^A(128|192|256)(GCM)?KW$/.test(alg)) return 'secret';
  return undefined;
}

function fits(k: DecryptionKey, type: 'rsa' | 'ec' | 'secret'): boolean {
  if (type === 'secret') return k.key.type === 'secret';
  if (k.key.type !== 'private') return false;
  const t = k.key.asymmetricKeyType;
  return type === 'rsa' ? t === 'rsa' : t === 'ec' || t === 'x25519';
}

/**
 * Each key imported once per algorithm as the CryptoKey jose would make of it on every call:
 * measured 450 against 500 µs per RSA-OAEP-256 decryption.
 */
const imported = new WeakMap<KeyObject, Map<string, Promise<CryptoKey | Uint8Array | undefined>>>();

function importedKey(k: DecryptionKey, alg: string): Promise<CryptoKey | Uint8Array | undefined> {
  let perAlg = imported.get(k.key);
  if (!perAlg) imported.set(k.key, (perAlg = new Map()));
  let key = perAlg.get(alg);
  if (!key) {
    key = importJWK(k.key.export({ format: 'jwk' }) as JWK, alg).catch(() => undefined);
    perAlg.set(alg, key);
  }
  return key;
}

export async function decryptToken(token: string, rules: CompiledDecryption, keys: readonly DecryptionKey[]): Promise<Decrypted | VerifyFailure> {
  const parts = token.split('.');
  if (parts.length !== 5) return invalid('malformed_token');
  // the encrypted key is empty for dir and ECDH-ES (RFC 7516 §5.1 step 5); every other segment is not
  const [h, ek, iv, ct, tag] = parts as [string, string, string, string, string];
  if ((ek !== '' && !isCanonicalBase64url(ek)) || ![iv, ct, tag].every(isCanonicalBase64url)) return invalid('malformed_token');
  const header = decodeJsonObject(h);
  if (!header || typeof header.alg !== 'string' || typeof header.enc !== 'string') return invalid('malformed_token');
  const { alg, enc } = header;
  // RFC 7516 §4.1.13: extensions claimcheck would have to understand; it understands none
  if (Object.hasOwn(header, 'crit')) return invalid('unsupported_header');
  // RFC 8725 §3.6: compression before encryption leaks the plaintext's length; jose refuses it too
  if (Object.hasOwn(header, 'zip')) return invalid('unsupported_token');
  if (alg === 'RSA1_5' || !rules.keyAlgorithms.includes(alg) || !rules.contentEncryptions.includes(enc)) return invalid('encryption_not_allowed');
  if (!isNestedJwt(header.cty)) return invalid('unsigned_inner_token');
  const type = keyTypeFor(alg);
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const candidates = type === undefined ? [] : keys.filter((k) => fits(k, type) && (kid === undefined || k.kid === undefined || k.kid === kid)).slice(0, MAX_TRIES);
  if (candidates.length === 0) return invalid('no_matching_key');
  for (const k of candidates) {
    const key = await importedKey(k, alg);
    if (!key) continue;
    let plaintext: Uint8Array;
    try {
      ({ plaintext } = await compactDecrypt(token, key, { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: [enc] }));
    } catch {
      continue;
    }
    let text: string;
    try {
      text = UTF8.decode(plaintext);
    } catch {
      return invalid('unsigned_inner_token');
    }
    if (text.split('.').length !== 3) return invalid('unsigned_inner_token');
    return k.kid === undefined ? { ok: true, plaintext: text } : { ok: true, plaintext: text, kid: k.kid };
  }
  return invalid('decryption_failed');
}
