import type { CompiledIssuer } from '../compile/snapshot.js';
import type { Verified } from '../decision.js';
import type { MaybePromise } from '../maybe-async.js';
import type { TokenFailureReason } from '../reasons.js';
import type { Finding } from '../decision.js';

export type CredentialSourceRef = { type: 'header' | 'cookie' | 'query'; name: string };

export type Credential =
  | { kind: 'none' }
  /** dpop: sent with the DPoP scheme (RFC 9449 §7.1), so it must come with a proof */
  | { kind: 'token'; token: string; source: CredentialSourceRef; dpop?: true }
  /** several credentials (RFC 6750 §2: one method only) -> 400 */
  | { kind: 'conflict'; description: string };

export type VerifyFailure = {
  ok: false;
  /** invalid -> 401 invalid_token; unavailable -> 503 */
  status: 'invalid' | 'unavailable';
  /** stable code, e.g. token_expired, bad_signature, untrusted_issuer (src/reasons.ts) */
  reason: TokenFailureReason;
  /** coarse text for error_description */
  description: string;
  /** forbidden_claim, sensitive_claim: what the payload scan found, and in whose token */
  findings?: readonly Finding[];
  issuerKey?: string;
};

export type VerifyResult = { ok: true; verified: Verified } | VerifyFailure;

export type VerificationKey = CryptoKey | Uint8Array | import('node:crypto').KeyObject;

export type KeyLookupResult =
  | {
      ok: true;
      key: VerificationKey;
      kid?: string;
      /** further candidates to try in order when `key` does not verify (duplicate kid, or no kid in the token) */
      more?: readonly { key: VerificationKey; kid?: string }[];
    }
  | VerifyFailure;

/** Per-issuer key sets; implemented by keys/. Never fetches anything named by the token. */
export interface KeyLookup {
  /** A value when the keys are at hand (the usual case), a promise when a fetch must be waited for. */
  resolve(issuer: CompiledIssuer, header: { alg: string; kid?: string }): MaybePromise<KeyLookupResult>;
  /**
   * A value that changes whenever the issuer's usable keys change; undefined while it has none.
   * Optional: without it, verified tokens are never cached.
   */
  keysVersion?(issuer: CompiledIssuer): number | undefined;
  /**
   * A compact JWE for an issuer with `decryption`: the plaintext (a compact JWS still to be
   * verified), or why not. Optional: without it, JWEs are refused as unsupported.
   */
  decrypt?(issuer: CompiledIssuer, jwe: string): MaybePromise<Decrypted | VerifyFailure>;
  /** An opaque token for an issuer with `introspection`: a cached answer as a value, else a promise. */
  introspect?(issuer: CompiledIssuer, token: string): MaybePromise<Introspected | VerifyFailure>;
}

/** an active introspection answer (RFC 7662 §2.2) as claims: every member but `active` */
export type Introspected = { ok: true; claims: Record<string, unknown> };

/** a JWE's plaintext, and the kid of the decryption key that opened it */
export type Decrypted = { ok: true; plaintext: string; kid?: string };
