/** The immutable, compiled configuration a request is evaluated against. */
import type { Jwk, SecretRef } from '../model/types.js';
import type { CompiledCondition } from '../authz/cel/types.js';

export type TokenSource =
  | { type: 'header'; header: string; /** lowercase; '' = the whole value */ prefix: string }
  | { type: 'cookie'; cookie: string }
  | { type: 'query'; query: string };

export interface CompiledJwks {
  /** no jwks in the spec: an introspection-only issuer (keys/no-key-set.ts) */
  none?: true;
  uri?: string;
  discovery: boolean;
  inline?: { keys: Jwk[] };
  secretRef?: SecretRef;
  /** file source: secretRef.path resolved against the manifest's directory */
  secretPath?: string;
  caBundle?: string;
  allowInsecureHttp: boolean;
  refreshIntervalMs: number;
  minRefreshIntervalMs: number;
  maxStalenessMs: number;
}

export interface CompiledIssuer {
  /** namespace/name */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** the exact iss string */
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSec: number;
  readonly maxTokenLifetimeSec?: number;
  /** always includes exp */
  readonly requiredClaims: readonly string[];
  /** normalised: lowercase, without an `application/` prefix; empty = any */
  readonly tokenTypes: readonly string[];
  readonly jwks: CompiledJwks;
  /** changes whenever anything affecting key material changes; key sets are reused while equal */
  readonly keysFingerprint: string;
  /** changes whenever anything affecting verification changes */
  readonly fingerprint: string;
  /** `payload`: undefined when it sets nothing */
  readonly payload?: CompiledPayloadRules;
  /** `decryption`: JWE tokens are accepted */
  readonly decryption?: CompiledDecryption;
  /** `introspection`: opaque tokens are sent to its endpoint */
  readonly introspection?: CompiledIntrospection;
}

/** TrustedIssuer `decryption`: JWE tokens (authn/decrypt-token.ts) */
export interface CompiledDecryption {
  readonly keyAlgorithms: readonly string[];
  readonly contentEncryptions: readonly string[];
  /** Kubernetes source: the Secret, in the issuer's namespace */
  readonly secretRef?: { readonly name?: string; readonly key?: string };
  /** file source: the key file, resolved against the manifest's directory */
  readonly secretPath?: string;
  /** of the fields above: a key ring is kept while it is unchanged */
  readonly fingerprint: string;
}

/** TrustedIssuer `introspection`: opaque tokens (keys/introspection-client.ts) */
export interface CompiledIntrospection {
  readonly endpoint: string;
  readonly clientId: string;
  /** client_secret_basic: the credential is the secret; private_key_jwt: a private key signing the assertion */
  readonly clientAuth: 'client_secret_basic' | 'private_key_jwt';
  /** the credential (clientSecretRef or clientKeyRef): a Secret, or a file resolved against the manifest */
  readonly secretRef?: { readonly name?: string; readonly key?: string };
  readonly secretPath?: string;
  /** private_key_jwt: the assertion's aud */
  readonly assertionAudience: string;
  readonly cacheTtlSec: number;
  readonly caBundle?: string;
  readonly allowInsecureHttp: boolean;
  readonly fingerprint: string;
}

export interface CompiledPayloadRules {
  readonly maxBytes?: number;
  readonly forbidden: ReadonlySet<string>;
  readonly detectPan: boolean;
  readonly action: 'audit' | 'deny';
}

export interface CompiledClaimCheck {
  readonly path: readonly string[];
  readonly op: 'equals' | 'in' | 'contains' | 'matches' | 'exists';
  /** e.g. `tenant in [acme, globex]`, safe for explanations (no claim values) */
  readonly description: string;
  test(claims: Record<string, unknown>): boolean;
}

export interface CompiledScopes {
  readonly allOf: readonly string[];
  readonly anyOf: readonly string[];
}

export interface CompiledRule {
  readonly name: string;
  readonly index: number;
  readonly action: 'require' | 'allowAnonymous' | 'deny';
  /** method and normalised path (no query) */
  matches(method: string, path: string): boolean;
  /** the issuers this rule accepts (rule's require.issuers or the policy's issuers), resolved */
  readonly issuers: readonly CompiledIssuer[];
  readonly scopes?: CompiledScopes;
  readonly claims: readonly CompiledClaimCheck[];
  readonly when?: string;
  /** `require.when`, compiled; evaluated after scopes and claims */
  readonly condition?: CompiledCondition;
  /** the policy's senderConstraint with this rule's fields over it */
  readonly senderConstraint: CompiledSenderConstraint;
}

export interface CompiledSenderConstraint {
  /** a token without cnf is refused */
  readonly required: boolean;
  readonly dpop: {
    readonly algorithms: readonly string[];
    readonly proofMaxAgeSec: number;
    readonly nonce: boolean;
    /** scheme://host[:port] for htu; '' = the request's */
    readonly origin: string;
  };
  /** where the client certificate comes from: Envoy's peer certificate, or x-forwarded-client-cert */
  readonly mtlsCertificate: 'envoy' | 'xfcc';
}

export interface IdentityHeader {
  /** lowercase header name */
  readonly name: string;
  readonly claimPath: readonly string[];
}

export interface CompiledIdentityToken {
  /** lowercase */
  readonly header: string;
  readonly prefix: string;
  /** undefined: the request's normalised host */
  readonly audiences?: readonly string[];
  readonly ttlSec: number;
  readonly claims: readonly IdentityHeader[];
}

export interface CompiledIdentity {
  readonly headers: readonly IdentityHeader[];
  /** lowercase header name */
  readonly payloadHeader?: string;
  readonly forwardToken: boolean;
  /** identity.token: a JWT claimcheck signs for the upstream */
  readonly token?: CompiledIdentityToken;
}

export interface CompiledPolicy {
  /** namespace/name */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly mode: 'enforce' | 'audit';
  readonly hosts: readonly string[];
  readonly tokenSources: readonly TokenSource[];
  /** spec.issuers, resolved: audit mode verifies a token against them when no rule did */
  readonly issuers?: readonly CompiledIssuer[];
  readonly rules: readonly CompiledRule[];
  readonly identity: CompiledIdentity;
}

export interface RevocationIndex {
  /** true when the verified token of this issuer is revoked at `nowSec` */
  isRevoked(issuerKey: string, claims: Record<string, unknown>, nowSec: number): boolean;
}

export interface Snapshot {
  readonly generation: number;
  readonly policies: ReadonlyMap<string, CompiledPolicy>;
  readonly issuers: ReadonlyMap<string, CompiledIssuer>;
  /** policy for a normalised host (lowercase, no port, no trailing dot) */
  policyForHost(host: string): CompiledPolicy | undefined;
  /** every header name (lowercase) that any loaded policy can emit */
  readonly emittedHeaders: ReadonlySet<string>;
  /** every header name (lowercase) any loaded policy reads a token from; `cookie` when one reads a cookie */
  readonly credentialHeaders: ReadonlySet<string>;
  /** whether any loaded policy reads a token from a query parameter */
  readonly queryTokens: boolean;
  readonly revocations: RevocationIndex;
}
