/**
 * A DPoP proof (RFC 9449 §4.2) checked as §4.3 says, for one request and its access token.
 * Pure: the nonce and the replay store are the caller's (dpop-nonce.ts, replay-store.ts),
 * and so is the one-DPoP-header rule (§4.3 step 1).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { parseCompactJws } from './parse-compact.js';
import { verifySignature } from './verify-signature.js';
import { jwkThumbprint } from './jwk-thumbprint.js';
import { normaliseTyp } from './check-claims.js';
import type { DpopProofReason } from '../reasons.js';

/** A proof is a few hundred bytes; an RSA-4096 jwk makes it ~1.5 KiB. */
export const MAX_PROOF_BYTES = 8 * 1024;
/** the contract's bound on `jti` (RFC 9449 §11.1 leaves it to the server) */
export const MAX_JTI_BYTES = 256;
/** how far ahead of the clock a proof's `iat` may be */
export const PROOF_FUTURE_SEC = 5;

export interface ProofExpectations {
  method: string;
  /** the request's URI as the client addressed it: scheme://host[:port]/path (a query is ignored) */
  htu: string;
  /** the `ath` the proof must carry: accessTokenHash() of the access token as sent */
  ath: string;
  /** the token's `cnf.jkt` */
  jkt: string;
  /** allowed proof algorithms: asymmetric only, the policy's senderConstraint.dpop.algorithms */
  algorithms: readonly string[];
  maxAgeSec: number;
  nowSec: number;
}

export type ProofResult =
  | { ok: true; jti: string; iat: number; nonce?: string }
  | { ok: false; reason: DpopProofReason };

// RFC 7518 §6.2.2, §6.3.2, §6.4 and RFC 8037 §2: the members of a private or secret key.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const SYMMETRIC = /^HS/i;

/** Client keys, by thumbprint: a client sends the same key with every proof. Bounded: the keys are the clients'. */
const importedKeys = new Map<string, KeyObject>();
const MAX_IMPORTED_KEYS = 1024;

const fail = (reason: DpopProofReason): ProofResult => ({ ok: false, reason });

export function checkDpopProof(proof: string, want: ProofExpectations): ProofResult {
  const parsed = parseCompactJws(proof, MAX_PROOF_BYTES);
  if ('ok' in parsed) return fail('dpop_proof_malformed');
  const { header, payload, alg } = parsed;
  if (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== 'dpop+jwt') return fail('dpop_proof_type');
  if (SYMMETRIC.test(alg) || !want.algorithms.includes(alg)) return fail('dpop_proof_alg');
  const client = clientKeyOf(header);
  if (client === undefined) return fail('dpop_proof_key');
  const { thumbprint, key } = client;
  if (!key || !verifySignature(proof, key, alg)) return fail('dpop_proof_signature');

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti === '' || Buffer.byteLength(jti, 'utf8') > MAX_JTI_BYTES) return fail('dpop_proof_jti');
  if (typeof htm !== 'string' || htm !== want.method.toUpperCase()) return fail('dpop_proof_htm');
  if (typeof htu !== 'string' || !sameUri(htu, want.htu)) return fail('dpop_proof_htu');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return fail('dpop_proof_iat');
  if (iat > want.nowSec + PROOF_FUTURE_SEC || iat < want.nowSec - want.maxAgeSec) return fail('dpop_proof_iat');
  if (typeof ath !== 'string' || ath !== want.ath) return fail('dpop_proof_ath');
  // RFC 9449 §6.1: the key that signed the proof is the one the token is bound to.
  if (thumbprint !== want.jkt) return fail('dpop_proof_key_mismatch');
  if (nonce !== undefined && typeof nonce !== 'string') return fail('dpop_proof_malformed');
  return nonce === undefined ? { ok: true, jti, iat } : { ok: true, jti, iat, nonce };
}

/** RFC 9449 §4.2: `ath` is the base64url SHA-256 of the access token's ASCII bytes. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

interface ClientKey {
  thumbprint: string;
  /** undefined: the jwk is well-formed but no key node can import */
  key: KeyObject | undefined;
}

/**
 * parseCompactJws hands out one frozen header object per encoded header it has seen, and a
 * client's proofs share their header (typ, alg, jwk): the key is read from it once.
 */
const keysByHeader = new WeakMap<object, ClientKey>();

function clientKeyOf(header: Readonly<Record<string, unknown>>): ClientKey | undefined {
  const known = keysByHeader.get(header);
  if (known) return known;
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(members, m))) return undefined;
  const thumbprint = jwkThumbprint(members);
  if (thumbprint === undefined) return undefined;
  const client = { thumbprint, key: publicKeyOf(thumbprint, members) };
  if (Object.isFrozen(header)) keysByHeader.set(header, client);
  return client;
}

function publicKeyOf(thumbprint: string, jwk: Record<string, unknown>): KeyObject | undefined {
  let key = importedKeys.get(thumbprint);
  if (key) return key;
  try {
    key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  if (importedKeys.size >= MAX_IMPORTED_KEYS) importedKeys.clear();
  importedKeys.set(thumbprint, key);
  return key;
}

/**
 * RFC 9449 §4.3 step 9: the htu matches ignoring query and fragment, after RFC 3986 §6.2.2
 * and §6.2.3 normalisation: scheme and host in any case, a default port or none, dot segments.
 */
export function sameUri(claimed: string, expected: string): boolean {
  // the usual proof names the URI exactly as claimcheck rebuilt it: no URL parsing then
  if (claimed === expected && PLAIN_URI.test(claimed)) return true;
  const a = normalisedUri(claimed);
  return a !== undefined && a === normalisedUri(expected);
}

/** scheme://host[:port]/path without user info, query, fragment or dot segments */
const PLAIN_URI = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/(?!\.\.?(\/|$))[^/?#\s]*)*$/;

function normalisedUri(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}
