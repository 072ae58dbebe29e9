/** Turn a JWKS document or a local key file into the list of JWKs that may verify tokens. */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { ClaimcheckError } from '../errors.js';
import type { Jwk } from '../model/types.js';
import { keyRejection } from './key-filter.js';

export const MAX_KEYS = 100;

export interface ParsedKeys {
  keys: Jwk[];
  /** keys left out, with why; never key material */
  skipped: { kid?: string; reason: string }[];
}

/** Error codes: jwks_invalid, jwks_too_many_keys. */
export function parseJwks(body: unknown, opts: { symmetricAllowed: boolean; maxKeys?: number }): ParsedKeys {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new ClaimcheckError('jwks_invalid', 'not a JWKS: no keys array');
  }
  const all = (body as { keys: unknown[] }).keys;
  const maxKeys = opts.maxKeys ?? MAX_KEYS;
  if (all.length > maxKeys) throw new ClaimcheckError('jwks_too_many_keys', `more than ${maxKeys} keys`);
  const result: ParsedKeys = { keys: [], skipped: [] };
  for (const k of all) {
    const jwk = k as Jwk;
    const reason = keyRejection(jwk, opts);
    const kid = typeof jwk?.kid === 'string' ? jwk.kid : undefined;
    if (reason) result.skipped.push({ ...(kid !== undefined ? { kid } : {}), reason });
    else result.keys.push(jwk);
  }
  return result;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * A local key file (`jwks.secretRef`, docs/keys.md): a JWKS JSON document, PEM public keys or
 * certificates, or else the raw bytes of an HMAC secret. Only here are symmetric keys accepted.
 */
export function parseKeyFile(content: Buffer): ParsedKeys {
  const text = asText(content);
  // Binary content is a raw secret as it is: a random secret may well begin with '{' or end in 0x0a.
  if (text === undefined) return rawSecret(content);
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let body: unknown;
    try {
      body = JSON.parse(trimmed);
    } catch {
      throw new ClaimcheckError('jwks_invalid', 'key file is not valid JSON');
    }
    return parseJwks(body, { symmetricAllowed: true });
  }
  if (trimmed.includes('-----BEGIN ')) return parsePem(trimmed);
  // A text secret: a trailing newline from `echo` or an editor is not part of it.
  return rawSecret(content.subarray(0, content.length - (/\r?\n$/.exec(text)?.[0].length ?? 0)));
}

function rawSecret(secret: Buffer): ParsedKeys {
  return parseJwks({ keys: [{ kty: 'oct', k: secret.toString('base64url') }] }, { symmetricAllowed: true });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The content as text, or undefined when it is not UTF-8 or holds control characters other than tab, CR and LF. */
function asText(content: Buffer): string | undefined {
  let text: string;
  try {
    text = UTF8.decode(content);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

function parsePem(text: string): ParsedKeys {
  const jwks: Jwk[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    if (label.includes('PRIVATE')) {
      throw new ClaimcheckError('jwks_invalid', 'key file holds a private key; give the public key only');
    }
    try {
      const key = label === 'CERTIFICATE' ? new X509Certificate(m[0]).publicKey : createPublicKey(m[0]);
      jwks.push(key.export({ format: 'jwk' }) as Jwk);
    } catch (err) {
      throw new ClaimcheckError('jwks_invalid', `unreadable PEM block ${label}`, { cause: err });
    }
  }
  if (jwks.length === 0) throw new ClaimcheckError('jwks_invalid', 'no PEM block found');
  return parseJwks({ keys: jwks }, { symmetricAllowed: false });
}
