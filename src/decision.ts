/** A decision is a value flowing from the pipeline to respond/; never an exception. */
import type { CompiledIssuer, CompiledPolicy, CompiledRule } from './compile/snapshot.js';
import type { Credential } from './authn/types.js';
import type { AllowReason, DenyReason } from './reasons.js';

export type DenyKind =
  | 'invalid_request' // 400
  | 'unauthorized' // 401, no token
  | 'invalid_token' // 401
  | 'invalid_dpop_proof' // 401, DPoP challenge (RFC 9449 §7.1)
  | 'use_dpop_nonce' // 401, DPoP challenge and a DPoP-Nonce header (RFC 9449 §8)
  | 'insufficient_scope' // 403 with challenge
  | 'access_denied' // 403
  | 'temporarily_unavailable'; // 503

export interface DpopChallenge {
  /** the proof algorithms accepted, for the challenge's `algs` */
  algorithms: readonly string[];
  /** use_dpop_nonce: the nonce to send back in `DPoP-Nonce` */
  nonce?: string;
  /** the Bearer challenge first, the DPoP one beside it (a token bound to nothing where binding is required) */
  alsoBearer?: true;
}

/** One step of the explanation `claimcheck check` prints. No claim values, no key material. */
export interface Step {
  step: string;
  ok: boolean;
  detail: string;
}

/** What the payload scan found (authn/scan-payload.ts): `path` is a JSON pointer (RFC 6901) into the payload, never a value. */
export type Finding = Readonly<{ kind: 'forbidden' | 'pan'; path: string }>;

/** for explanations, logs and the decision log */
export const findingLabel = (f: Finding): string => `${f.path} (${f.kind})`;

export interface Verified {
  claims: Record<string, unknown>;
  issuer: CompiledIssuer;
  token: string;
  kid?: string;
  alg: string;
  /** the token cache had verified this token before: it is being used again */
  reused?: true;
  /** with `reused`: the token cache's SHA-256 of the token (binary), so later caches need not hash it again */
  digest?: string;
  /** payload.detect found these and detectAction is audit: claim paths, never values */
  findings?: readonly Finding[];
}

export interface Allow {
  allow: true;
  reason: AllowReason;
  /** the request's host, normalised once (the decision log, CEL); set by decideRequest */
  host?: string;
  policy?: CompiledPolicy;
  rule?: CompiledRule;
  verified?: Verified;
  /** the credential that was used, so forwardToken: false can remove it */
  credentialSource?: { type: 'header' | 'cookie' | 'query'; name: string };
  /** audit mode: the denial that was turned into this allow */
  auditedDeny?: Deny;
  steps: Step[];
}

export interface Deny {
  allow: false;
  kind: DenyKind;
  /** stable machine code for metrics and logs, e.g. token_expired (src/reasons.ts) */
  reason: DenyReason;
  /** short, coarse human text for error_description */
  description: string;
  /** insufficient_scope: the scopes the rule names */
  scope?: readonly string[];
  /** a DPoP-bound token or proof was involved: the challenge uses the DPoP scheme (RFC 9449 §7.1) */
  dpop?: DpopChallenge;
  /** the request's host, normalised once */
  host?: string;
  /** the credential the policy's token sources found, when the denial came after extracting it */
  credential?: Credential;
  policy?: CompiledPolicy;
  rule?: CompiledRule;
  verified?: Verified;
  /** forbidden_claim, sensitive_claim: where in the payload (paths, never values) */
  findings?: readonly Finding[];
  steps: Step[];
}

export type Decision = Allow | Deny;
