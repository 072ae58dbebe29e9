/** Verify a compact JWT against the issuers a rule accepts: structure, issuer, algorithm, signature, claims. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { checkClaims } from './check-claims.js';
import { invalid } from './invalid.js';
import { parseCompactJws, type ParsedJws } from './parse-compact.js';
import type { KeyLookup, VerifyFailure, VerifyResult } from './types.js';
import { verifySignature } from './verify-signature.js';

export interface VerifyOptions {
  nowSec: number;
  maxTokenBytes: number;
}

export async function verifyToken(
  token: string,
  candidates: readonly CompiledIssuer[],
  keys: KeyLookup,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const parsed = parseCompactJws(token, opts.maxTokenBytes);
  if ('ok' in parsed) return parsed;
  return verifyParsed(token, parsed, candidates, keys, opts.nowSec);
}

/** verifyToken after parseCompactJws: the token cache parses once and keeps the parsed form. */
export async function verifyParsed(
  token: string,
  parsed: ParsedJws,
  candidates: readonly CompiledIssuer[],
  keys: KeyLookup,
  nowSec: number,
): Promise<VerifyResult> {
  const iss = parsed.payload.iss;
  // RFC 8725 §3.8: the issuer is matched exactly, and decides which keys may be used.
  if (typeof iss !== 'string') return invalid('untrusted_issuer');
  let matching: CompiledIssuer[] | undefined;
  for (const c of candidates) {
    if (c.issuer === iss && !matching?.some((m) => m.key === c.key)) (matching ??= []).push(c);
  }
  if (!matching) return invalid('untrusted_issuer');
  // Two accepted TrustedIssuers may share an iss (e.g. mesh-wide and local): the one whose key verifies decides.
  let first: VerifyFailure | undefined;
  for (const issuer of matching) {
    const result = await verifyWithIssuer(token, parsed, issuer, keys, nowSec);
    if (result.ok) return result;
    first ??= result;
  }
  return first!;
}

async function verifyWithIssuer(
  token: string,
  parsed: ParsedJws,
  issuer: CompiledIssuer,
  keys: KeyLookup,
  nowSec: number,
): Promise<VerifyResult> {
  const { alg, kid } = parsed;
  // RFC 8725 §3.1: the issuer's allow-list, never the token, decides the algorithm; with key types
  // checked by keys/, this is what stops HS256-with-the-RSA-public-key confusion.
  if (!issuer.algorithms.includes(alg)) return invalid('alg_not_allowed');
  let found: Awaited<ReturnType<KeyLookup['resolve']>>;
  try {
    found = await keys.resolve(issuer, kid !== undefined ? { alg, kid } : { alg });
  } catch {
    // "Cannot verify right now" is a 503, never a 401 and never an exception out of the pipeline.
    return { ok: false, status: 'unavailable', reason: 'keys_unavailable', description: 'keys unavailable' };
  }
  if (!found.ok) return found;
  const tries = [{ key: found.key, kid: found.kid }, ...(found.more ?? [])];
  let usedKid: string | undefined;
  let verified = false;
  for (const t of tries) {
    if (verifySignature(token, t.key, alg)) {
      verified = true;
      usedKid = t.kid ?? kid;
      break;
    }
  }
  if (!verified) return invalid('bad_signature');
  const failure = checkClaims(parsed.payload, parsed.header, issuer, nowSec);
  if (failure) return failure;
  return {
    ok: true,
    verified: { claims: parsed.payload, issuer, token, alg, ...(usedKid !== undefined ? { kid: usedKid } : {}) },
  };
}
