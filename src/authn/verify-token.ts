/** Verify a compact JWT against the issuers a rule accepts: structure, issuer, algorithm, signature, claims. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { checkClaims } from './check-claims.js';
import { invalid, KEYS_UNAVAILABLE } from './invalid.js';
import { parseCompactJws, type ParsedJws } from './parse-compact.js';
import type { Verified } from '../decision.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';
import type { KeyLookup, KeyLookupResult, VerifyFailure, VerifyResult } from './types.js';
import { verifySignature } from './verify-signature.js';
import { decodedBytes, scanPayload } from './scan-payload.js';

export interface VerifyOptions {
  nowSec: number;
  maxTokenBytes: number;
}

export function verifyToken(
  token: string,
  candidates: readonly CompiledIssuer[],
  keys: KeyLookup,
  opts: VerifyOptions,
): MaybePromise<VerifyResult> {
  const parsed = parseCompactJws(token, opts.maxTokenBytes);
  if ('ok' in parsed) return parsed;
  return verifyParsed(token, parsed, candidates, keys, opts.nowSec);
}

/**
 * verifyToken after parseCompactJws: the token cache parses once and keeps the parsed form.
 * A value when every key was at hand, a promise only when a key lookup had to wait.
 */
export function verifyParsed(
  token: string,
  parsed: ParsedJws,
  candidates: readonly CompiledIssuer[],
  keys: KeyLookup,
  nowSec: number,
): MaybePromise<VerifyResult> {
  const iss = parsed.payload.iss;
  // RFC 8725 §3.8: the issuer is matched exactly, and decides which keys may be used.
  if (typeof iss !== 'string') return invalid('untrusted_issuer');
  let matching: CompiledIssuer[] | undefined;
  for (const c of candidates) {
    if (c.issuer === iss && !matching?.some((m) => m.key === c.key)) (matching ??= []).push(c);
  }
  if (!matching) return invalid('untrusted_issuer');
  return tryIssuers(token, parsed, matching, 0, keys, nowSec, undefined);
}

/** Two accepted TrustedIssuers may share an iss (e.g. mesh-wide and local): the first whose key verifies decides. */
function tryIssuers(
  token: string,
  parsed: ParsedJws,
  matching: readonly CompiledIssuer[],
  from: number,
  keys: KeyLookup,
  nowSec: number,
  first: VerifyFailure | undefined,
): MaybePromise<VerifyResult> {
  for (let i = from; i < matching.length; i++) {
    const result = verifyWithIssuer(token, parsed, matching[i]!, keys, nowSec);
    if (isPromise(result)) {
      return result.then((r) => (r.ok ? r : tryIssuers(token, parsed, matching, i + 1, keys, nowSec, first ?? r)));
    }
    if (result.ok) return result;
    first ??= result;
  }
  return first!;
}



function verifyWithIssuer(
  token: string,
  parsed: ParsedJws,
  issuer: CompiledIssuer,
  keys: KeyLookup,
  nowSec: number,
): MaybePromise<VerifyResult> {
  // RFC 8725 §3.1: the issuer's allow-list, never the token, decides the algorithm; with key types
  // checked by keys/, this is what stops HS256-with-the-RSA-public-key confusion.
  if (!issuer.algorithms.includes(parsed.alg)) return invalid('alg_not_allowed');
  // before the signature: an oversized payload costs no cryptography
  const maxBytes = issuer.payload?.maxBytes;
  if (maxBytes !== undefined && decodedBytes(parsed.payloadChars) > maxBytes) return invalid('payload_too_large');
  let found: MaybePromise<KeyLookupResult>;
  try {
    found = keys.resolve(issuer, parsed.kid !== undefined ? { alg: parsed.alg, kid: parsed.kid } : { alg: parsed.alg });
  } catch {
    // "Cannot verify right now" is a 503, never a 401 and never an exception out of the pipeline.
    return KEYS_UNAVAILABLE;
  }
  if (isPromise(found)) {
    return found.then(
      (f) => verifyWithKeys(token, parsed, issuer, f, nowSec),
      () => KEYS_UNAVAILABLE,
    );
  }
  return verifyWithKeys(token, parsed, issuer, found, nowSec);
}

function verifyWithKeys(token: string, parsed: ParsedJws, issuer: CompiledIssuer, found: KeyLookupResult, nowSec: number): VerifyResult {
  if (!found.ok) return found;
  const { alg, kid } = parsed;
  let usedKid: string | undefined;
  let verified = verifySignature(token, found.key, alg);
  if (verified) usedKid = found.kid ?? kid;
  else if (found.more) {
    for (const t of found.more) {
      if (verifySignature(token, t.key, alg)) {
        verified = true;
        usedKid = t.kid ?? kid;
        break;
      }
    }
  }
  if (!verified) return invalid('bad_signature');
  // what the issuer signed, whatever the time: once per token, since the cache keeps the verdict
  const scan = issuer.payload && scanPayload(parsed.payload, issuer.payload);
  if (scan && !scan.ok) return { ...invalid(scan.reason), findings: scan.findings, issuerKey: issuer.key };
  const failure = checkClaims(parsed.payload, parsed.header, issuer, nowSec);
  if (failure) return failure;
  const result: Verified = { claims: parsed.payload, issuer, token, alg };
  if (usedKid !== undefined) result.kid = usedKid;
  if (scan?.findings) result.findings = scan.findings;
  return { ok: true, verified: result };
}
