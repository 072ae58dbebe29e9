/** TrustedIssuer fields about what a token may carry, beyond its signature (docs/token-formats.md). */
import { doc, durationSchema, nonEmptyString, type JsonSchema } from './common.js';

/** RFC 7518 §4.1 key management, without RSA1_5 (RFC 8725 §3.2: padding-oracle attacks) */
export const KEY_ALGORITHMS = [
  'RSA-OAEP', 'RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512',
  'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW',
  'dir', 'A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW',
] as const;
/** RFC 7518 §5.1 */
export const CONTENT_ENCRYPTIONS = ['A128GCM', 'A192GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'] as const;
export const DEFAULT_KEY_ALGORITHMS = ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW'];
export const DEFAULT_CONTENT_ENCRYPTIONS = ['A256GCM', 'A128GCM'];

export const decryptionSchema = (secretRef: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['secretRef'],
  description: doc(
    'Encrypted tokens: a compact JWE (RFC 7516, five segments) whose plaintext is a JWT signed by this issuer (a nested JWT,',
    '`cty: JWT` or `at+jwt`). claimcheck decrypts it with its own private key, then verifies the inner token against this',
    'issuer exactly as an unencrypted one; an encrypted payload that is not a signed token is refused. `zip` and `crit` are',
    'refused, `--max-token-bytes` applies before decryption, and a repeated JWE is decrypted once (the token cache keys on',
    'the JWE). Tokens that are not encrypted keep verifying as before.',
  ),
  properties: {
    secretRef: {
      ...secretRef,
      description: doc(
        'The decryption keys: a Kubernetes Secret (`name`, `key`, in the TrustedIssuer\'s namespace) or a file (`path`, file',
        'source, relative to the manifest). The content is a private JWK, a JWKS of private JWKs, or PEM private keys (PKCS#8).',
        'RSA at least 2048 bits, EC P-256/P-384/P-521, OKP X25519; `oct` keys for `dir` and AES key wrap. A JWK whose `use` is',
        'not `enc` is refused. Re-read every 2 s like `jwks.secretRef`; unreadable or invalid content keeps the last good keys.',
        'Keys are never logged, exported or shown in status.',
      ),
    },
    keyAlgorithms: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', enum: [...KEY_ALGORITHMS] },
      default: DEFAULT_KEY_ALGORITHMS,
      description: doc(
        'Accepted JWE `alg` values (key management, RFC 7518 §4.1). `RSA1_5` is never accepted (RFC 8725 §3.2). `dir` and AES',
        'key wrap need an `oct` key in the secret.',
      ),
      examples: [['RSA-OAEP-256']],
    },
    contentEncryptions: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', enum: [...CONTENT_ENCRYPTIONS] },
      default: DEFAULT_CONTENT_ENCRYPTIONS,
      description: 'Accepted JWE `enc` values (content encryption, RFC 7518 §5.1).',
      examples: [['A256GCM']],
    },
  },
  additionalProperties: false,
});

export const SENSITIVE_KINDS = ['pan'] as const;

/** Past this a payload cannot be a token: the decoded payload of a 64 KiB token is 48 KiB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export const payloadSchema: JsonSchema = {
  type: 'object',
  description: doc(
    'Payload hygiene: what a verified token of this issuer may not carry. A JWT\'s payload is readable by anyone who sees the',
    'token (RFC 7519 §12), so secrets and card numbers in it leak to every hop. Checked once per token, after its signature',
    'verified; the verdict is cached with the token, so a repeated token costs nothing. Denials are `401 invalid_token`; the',
    'log, the decision log and `claimcheck check` name the claim (its path), never its value.',
  ),
  properties: {
    maxBytes: {
      type: 'integer',
      minimum: 64,
      maximum: MAX_PAYLOAD_BYTES,
      description: doc(
        'Largest accepted decoded payload, in bytes (the JSON between the two dots, base64url-decoded). A larger one is denied as',
        '`payload_too_large` before its signature is checked, so an oversized token costs no cryptography. Unset: only',
        '`--max-token-bytes` applies. 64 to 65536.',
      ),
      examples: [8192],
    },
    forbiddenClaims: {
      type: 'array',
      items: nonEmptyString,
      maxItems: 256,
      description: doc(
        'Claim names a token must not carry, at any depth: a member of that name in the payload or in any object nested in it',
        '(inside arrays too) denies the token as `forbidden_claim`. Names compare exactly (case-sensitive), whatever the value,',
        'even `null`.',
      ),
      examples: [['password', 'pwd', 'ssn']],
    },
    detect: {
      type: 'array',
      items: { type: 'string', enum: [...SENSITIVE_KINDS] },
      description: doc(
        'Kinds of sensitive data looked for in every string value at any depth. `pan`: a payment card number, i.e. 13 to 19',
        'digits (single spaces or `-` between digit groups allowed) that are not part of a longer run of digits, start with',
        '2 to 6 (the ISO/IEC 7812 banking and financial industries, so a millisecond timestamp never matches) and pass the Luhn',
        'check. Found anywhere inside a longer string too. Numbers (JSON numbers) are not scanned.',
      ),
      examples: [['pan']],
    },
    detectAction: {
      type: 'string',
      enum: ['audit', 'deny'],
      default: 'audit',
      description: doc(
        'What a `detect` finding does. `audit`: the token is accepted; `claimcheck_sensitive_claims_total{issuer,kind}` counts it',
        'and a warning is logged with the claim path, once per token (again only if the token leaves the token cache).',
        '`deny`: the token is refused as `sensitive_claim` (401), counted and logged the same way.',
      ),
      examples: ['deny'],
    },
  },
  additionalProperties: false,
};

export const introspectionSchema = (secretRef: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['endpoint', 'clientId'],
  // how claimcheck authenticates to the endpoint: the credential named decides
  oneOf: [{ required: ['clientSecretRef'] }, { required: ['clientKeyRef'] }],
  description: doc(
    'Opaque access tokens, checked at the issuer\'s OAuth 2.0 token introspection endpoint (RFC 7662). A token that is not a',
    'JWT or JWE (not three or five base64url segments) is sent only to the introspection issuer of the rule, and a rule may',
    'name at most one. JWTs of this issuer keep verifying with its `jwks` (which may be left out). The answer must say `active: true` (the boolean);',
    '`iss`, `aud`, `exp`, `nbf` and `iat` in it are checked like a JWT\'s claims, and `scope` and the other members are the',
    'claims rules and identity headers see. Answers are cached (docs/token-formats.md).',
  ),
  properties: {
    endpoint: {
      ...nonEmptyString,
      description: doc(
        'The introspection endpoint (`introspection_endpoint` in the IdP\'s discovery document). Must be `https://` (`http://` only',
        'with `allowInsecureHttp`). Redirects are never followed; an answer over 64 KiB, or one that takes more than 5 s, is a',
        'failure. A request waits at most 150 ms for it (the introspection goes on and fills the cache), then gets a 503.',
      ),
      examples: ['https://idp.example.com/oauth2/introspect'],
    },
    clientId: {
      ...nonEmptyString,
      description: 'claimcheck\'s client id at the IdP: the user name of `client_secret_basic`, or `iss` and `sub` of the `private_key_jwt` assertion.',
      examples: ['claimcheck'],
    },
    clientSecretRef: {
      ...secretRef,
      description: doc(
        'Authenticate with `client_secret_basic` (RFC 6749 §2.3.1) and this client secret: a Kubernetes Secret (`name`, `key`) or a',
        'file (`path`, file source). The content is the raw secret; one trailing newline is not part of it. Read again once the',
        'copy in memory is 2 s old, so a rotated secret applies within 2 s. Exactly one of `clientSecretRef` and `clientKeyRef`.',
      ),
    },
    clientKeyRef: {
      ...secretRef,
      description: doc(
        'Authenticate with `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9) and this private key: a Kubernetes Secret',
        '(`name`, `key`) or a file (`path`, file source) holding a private JWK or a PEM private key (PKCS#8, SEC 1 or PKCS#1): ES256',
        '(P-256), EdDSA (Ed25519), RS256 or PS256 (a JWK with `"alg": "PS256"`; RSA of at least 2048 bits). The `kid` is the JWK\'s,',
        'or the key name without `.pem`. Every introspection request carries a new assertion (a fresh `jti`, 60 s lifetime), as',
        'IdPs that detect replays require. Register the public key with the IdP. Re-read like `clientSecretRef`.',
      ),
    },
    clientAssertionAudience: {
      ...nonEmptyString,
      description: doc(
        'The `aud` of the `private_key_jwt` assertion. Default: the `endpoint` URL, which oidc-provider, Keycloak and Okta accept;',
        'set the issuer identifier or the token endpoint URL for an IdP that wants one of those.',
      ),
      examples: ['https://idp.example.com'],
    },
    cacheTTL: {
      ...durationSchema,
      default: '60s',
      description: doc(
        'How long an active answer is reused, never past the token\'s `exp`. An inactive answer is reused for 10 s. `0s`: every',
        'request is introspected. At most `1h`.',
      ),
      examples: ['5m'],
    },
    caBundle: {
      ...nonEmptyString,
      description: 'PEM CA certificates, the only trust roots for the endpoint when set (as `jwks.caBundle`).',
      examples: ['-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n'],
    },
    allowInsecureHttp: { type: 'boolean', default: false, description: 'Allow an `http://` endpoint (the token and the client secret then travel in clear).', examples: [true] },
  },
  additionalProperties: false,
});
