/**
 * A compact JWE for the issuers of a rule (docs/token-formats.md): each issuer with
 * `decryption` tries to open it (keys/decrypt-token.ts); the one that does verifies the
 * plaintext, which must be a JWS signed by that same issuer. A JWE that no issuer of the
 * rule can open, or that opens to anything else, is invalid.
 */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { invalid } from './invalid.js';
import { parseCompactJws, segmentDots, tooLarge, type ParsedJws } from './parse-compact.js';
import type { KeyLookup, VerifyFailure, VerifyResult } from './types.js';
import { verifyParsed, type VerifyOptions } from './verify-token.js';

/** Whether a rule's issuers would open `token`: any of them decrypts, and the token is a JWE. */
export function wantsDecryption(token: string, candidates: readonly CompiledIssuer[], keys: KeyLookup): boolean {
  return keys.decrypt !== undefined && candidates.some((c) => c.decryption !== undefined) && segmentDots(token) === 4;
}

/** The verification of the JWE's inner token, with the JWE as the verified token; `inner` for the cache. */
export async function verifyEncrypted(jwe: string, candidates: readonly CompiledIssuer[], keys: KeyLookup, opts: VerifyOptions): Promise<{ result: VerifyResult; inner?: ParsedJws }> {
  // RFC 7516 §11.5 and the contract: the size cap before any decryption
  if (tooLarge(jwe, opts.maxTokenBytes)) return { result: invalid('token_too_large') };
  let first: VerifyFailure | undefined;
  const tried = new Set<string>();
  for (const issuer of candidates) {
    if (!issuer.decryption || tried.has(issuer.key)) continue;
    tried.add(issuer.key);
    const opened = await keys.decrypt!(issuer, jwe);
    if (!opened.ok) {
      // another issuer of the rule may hold the key: the first failure is the answer if none does
      first ??= opened;
      continue;
    }
    const inner = parseCompactJws(opened.plaintext, opts.maxTokenBytes);
    if ('ok' in inner) return { result: inner.reason === 'malformed_token' ? invalid('unsigned_inner_token') : inner };
    // only the issuer that decrypted it: a token encrypted for one issuer and signed by another is refused
    const result = await verifyParsed(opened.plaintext, inner, [issuer], keys, opts.nowSec);
    if (!result.ok) return { result };
    return { result: { ok: true, verified: { ...result.verified, token: jwe } }, inner };
  }
  return { result: first ?? invalid('unsupported_token') };
}
