/** Resource model (claimcheck.io/v1alpha1; every field in docs/reference.md). Field names are the public API. */
export const API_GROUP = 'claimcheck.io';
export const API_VERSION = 'claimcheck.io/v1alpha1';

export type Kind = 'TrustedIssuer' | 'AuthPolicy' | 'TokenRevocation';
export const KINDS: readonly Kind[] = ['TrustedIssuer', 'AuthPolicy', 'TokenRevocation'];
/** `claimcheck test` documents (docs/policy-tests.md): they may sit next to the config, which never loads them. */
export const POLICY_TEST_KIND = 'PolicyTest';

export interface ResourceMeta {
  name: string;
  namespace?: string;
  creationTimestamp?: string;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
}

/** Where a resource was read from (file source); line is 1-based, the document's first line. */
export interface Origin {
  file: string;
  line: number;
}

export type Jwk = Record<string, unknown>;

export interface SecretRef {
  name?: string;
  key?: string;
  /** file source only: path to a JWKS or PEM file, relative to the manifest's directory */
  path?: string;
}

export interface JwksSpec {
  uri?: string;
  discovery?: boolean;
  inline?: { keys: Jwk[] };
  secretRef?: SecretRef;
  caBundle?: string;
  allowInsecureHttp?: boolean;
  refreshInterval?: string;
  minRefreshInterval?: string;
  maxStaleness?: string;
}

export interface TrustedIssuerSpec {
  issuer: string;
  /** absent only for an issuer whose tokens are all opaque (introspection) */
  jwks?: JwksSpec;
  audiences?: string[];
  algorithms?: string[];
  clockSkew?: string;
  maxTokenLifetime?: string;
  requiredClaims?: string[];
  tokenTypes?: string[];
  payload?: PayloadSpec;
  decryption?: DecryptionSpec;
  introspection?: IntrospectionSpec;
}

export interface IntrospectionSpec {
  endpoint: string;
  clientId: string;
  /** exactly one of clientSecretRef (client_secret_basic) and clientKeyRef (private_key_jwt) */
  clientSecretRef?: SecretRef;
  clientKeyRef?: SecretRef;
  clientAssertionAudience?: string;
  cacheTTL?: string;
  caBundle?: string;
  allowInsecureHttp?: boolean;
}

export interface DecryptionSpec {
  secretRef: SecretRef;
  keyAlgorithms?: string[];
  contentEncryptions?: string[];
}

export interface PayloadSpec {
  maxBytes?: number;
  forbiddenClaims?: string[];
  detect?: 'pan'[];
  detectAction?: 'audit' | 'deny';
}

export type TokenSourceSpec = { header: string; prefix?: string } | { cookie: string } | { query: string };

export type ClaimPath = string | string[];

export interface ClaimRequirementSpec {
  claim: ClaimPath;
  equals?: unknown;
  in?: unknown[];
  contains?: unknown;
  matches?: string;
  exists?: boolean;
}

export interface ScopeRequirementSpec {
  allOf?: string[];
  anyOf?: string[];
}

export interface SenderConstraintSpec {
  required?: boolean;
  dpop?: { algorithms?: string[]; proofMaxAge?: string; nonce?: boolean; origin?: string };
  mtls?: { certificate?: 'envoy' | 'xfcc' };
}

export interface RequireSpec {
  issuers?: string[];
  scopes?: ScopeRequirementSpec;
  claims?: ClaimRequirementSpec[];
  when?: string;
  senderConstraint?: SenderConstraintSpec;
}

export interface RuleSpec {
  name: string;
  match?: { paths?: string[]; methods?: string[] };
  action?: 'require' | 'allowAnonymous' | 'deny';
  require?: RequireSpec;
}

export interface IdentityTokenSpec {
  header?: string;
  prefix?: string;
  audiences?: string[];
  ttl?: string;
  claims?: Record<string, ClaimPath>;
}

export interface IdentitySpec {
  headers?: Record<string, ClaimPath>;
  payloadHeader?: string;
  forwardToken?: boolean;
  token?: IdentityTokenSpec;
}

export interface AuthPolicySpec {
  hosts?: string[];
  issuers?: string[];
  mode?: 'enforce' | 'audit';
  tokenSources?: TokenSourceSpec[];
  rules: RuleSpec[];
  identity?: IdentitySpec;
  senderConstraint?: SenderConstraintSpec;
  profile?: '' | 'fapi2';
}

export interface TokenRevocationSpec {
  issuer: string;
  jtis?: string[];
  subjects?: { subject: string; issuedBefore: string }[];
  expiresAt?: string;
}

interface ResourceBase<K extends Kind, S> {
  apiVersion: string;
  kind: K;
  metadata: ResourceMeta;
  spec: S;
  origin?: Origin;
}

export type TrustedIssuer = ResourceBase<'TrustedIssuer', TrustedIssuerSpec>;
export type AuthPolicy = ResourceBase<'AuthPolicy', AuthPolicySpec>;
export type TokenRevocation = ResourceBase<'TokenRevocation', TokenRevocationSpec>;
export type AnyResource = TrustedIssuer | AuthPolicy | TokenRevocation;
