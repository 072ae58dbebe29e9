/** Strict structural checks of a compact JWS before any cryptography (RFC 8725 §3). */
import type { VerifyFailure } from './types.js';
import { invalid } from './invalid.js';
import { hasDuplicateMembers } from './duplicate-members.js';

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  alg: string;
  kid?: string;
  /** characters of the encoded payload (its decoded size: scan-payload.ts decodedBytes) */
  payloadChars: number;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// decode() without { stream: true } keeps no state between calls, so one decoder serves all.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * RFC 7515 §2 / RFC 4648 §5: base64url without padding, and canonical: the bits after
 * the last whole byte are zero (RFC 4648 §3.5). Otherwise one token has several
 * spellings, each a different string to caches and to other verifiers.
 */
export function isCanonicalBase64url(part: string): boolean {
  if (!B64URL.test(part)) return false;
  const rest = part.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = ALPHABET.indexOf(part[part.length - 1]!);
  // 2 characters carry 1 byte and 4 spare bits; 3 carry 2 bytes and 2 spare bits
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** One base64url segment holding a JSON object: canonical, valid UTF-8, no duplicate members. */
export function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  if (!isCanonicalBase64url(part)) return undefined;
  let text: string;
  let value: unknown;
  try {
    text = UTF8.decode(Buffer.from(part, 'base64url'));
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (hasDuplicateMembers(text)) return undefined;
  return value as Record<string, unknown>;
}

/** --max-token-bytes, checked first so an oversized token costs nothing: in characters, then in UTF-8 bytes. */
export function tooLarge(token: string, maxTokenBytes: number): boolean {
  return token.length > maxTokenBytes || Buffer.byteLength(token, 'utf8') > maxTokenBytes;
}

/** The dots in `token`, counting no further than 5: a JWS has 2, a JWE 4. Allocates nothing. */
export function segmentDots(token: string): number {
  let dots = 0;
  for (let i = token.indexOf('.'); i !== -1 && dots < 5; i = token.indexOf('.', i + 1)) dots++;
  return dots;
}

export function isJwtContentType(cty: unknown): boolean {
  if (typeof cty !== 'string') return false;
  const t = cty.toLowerCase();
  return t === 'jwt' || t === 'application/jwt';
}

export function parseCompactJws(token: string, maxTokenBytes: number): ParsedJws | VerifyFailure {
  // Size first, so an oversized token costs nothing to reject.
  if (tooLarge(token, maxTokenBytes)) return invalid('token_too_large');
  const parts = token.split('.');
  // Five parts is a JWE (RFC 7516 §7.1): claimcheck verifies signatures, it decrypts nothing.
  if (parts.length === 5) return invalid('unsupported_token');
  if (parts.length !== 3) return invalid('malformed_token');
  const [h, p, s] = parts as [string, string, string];
  const head = parseHeader(h);
  if ('ok' in head) return head;
  const payload = decodeJsonObject(p);
  if (!payload) return invalid('malformed_token');
  if (!isCanonicalBase64url(s)) return invalid('malformed_token');
  // jku, x5u, jwk and x5c are deliberately never read: keys come only from the issuer's configuration.
  return { header: head.header, payload, alg: head.alg, payloadChars: p.length, ...(head.kid !== undefined ? { kid: head.kid } : {}) };
}

type ParsedHeader = { header: Readonly<Record<string, unknown>>; alg: string; kid?: string };

/**
 * Accepted headers by their encoded form. An issuer's tokens share a handful of headers (one per
 * signing key), so a new token usually skips decoding its header. Bounded: the header is the token's.
 */
const acceptedHeaders = new Map<string, ParsedHeader>();
const MAX_REMEMBERED_HEADERS = 64;
const MAX_REMEMBERED_HEADER_CHARS = 512;

function parseHeader(h: string): ParsedHeader | VerifyFailure {
  const known = acceptedHeaders.get(h);
  if (known) return known;
  const header = decodeJsonObject(h);
  if (!header) return invalid('malformed_token');
  const alg = header.alg;
  if (typeof alg !== 'string') return invalid('malformed_token');
  // RFC 8725 §3.1: "none" is never acceptable, whatever its case.
  if (alg.toLowerCase() === 'none') return invalid('alg_not_allowed');
  // RFC 7515 §4.1.11: crit names extensions we would have to understand; we understand none.
  // RFC 7797 `b64` changes what is signed; refuse it even without crit.
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) return invalid('unsupported_header');
  // RFC 7519 §5.2: cty JWT means a nested token; verifying only the outer layer would be wrong.
  if (isJwtContentType(header.cty)) return invalid('unsupported_token');
  if (header.kid !== undefined && typeof header.kid !== 'string') return invalid('malformed_token');
  // frozen: one object is shared by every token with this header
  const parsed: ParsedHeader = { header: Object.freeze(header), alg, ...(typeof header.kid === 'string' ? { kid: header.kid } : {}) };
  if (h.length <= MAX_REMEMBERED_HEADER_CHARS) {
    if (acceptedHeaders.size >= MAX_REMEMBERED_HEADERS) acceptedHeaders.clear();
    // a copy: `h` is a slice that would keep the whole token (a bearer credential) in memory
    acceptedHeaders.set(Buffer.from(h, 'latin1').toString('latin1'), parsed);
  }
  return parsed;
}
