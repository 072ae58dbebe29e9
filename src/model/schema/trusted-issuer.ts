import { decryptionSchema, introspectionSchema, payloadSchema } from './token-formats.js';
import { anyValue, doc, durationSchema, nonEmptyString, resourceSchema, stringList, type JsonSchema } from './common.js';

/** JOSE asymmetric algorithms plus HMAC (HS* only with a secretRef, checked at compile). `none` never. */
export const ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
  'HS256', 'HS384', 'HS512',
] as const;

export const secretRefSchema: JsonSchema = {
  type: 'object',
  description: doc(
    'Keys from a Kubernetes Secret (Kubernetes source: `name` and `key`, in the TrustedIssuer\'s namespace) or from a file',
    '(file source: `path`). The content is a JWKS document, one or more PEM public keys or X.509 certificates (a PEM key has no',
    '`kid` and matches any `kid`), or the raw bytes of an HMAC secret, the only place `HS256`/`HS384`/`HS512` keys may come from.',
    'A raw secret that is text loses one trailing newline; binary content is used byte for byte. Re-read every 2 s: a rotated',
    'Secret or file takes effect within about two seconds, without touching the TrustedIssuer. If it becomes unreadable or',
    'invalid, the last good keys keep verifying; delete a key by writing a file without it.',
  ),
  properties: {
    name: {
      ...nonEmptyString,
      description: doc(
        'Kubernetes source: the Secret\'s name, in the TrustedIssuer\'s namespace. claimcheck needs get, list and watch on it',
        '(the `claimcheck-secret-reader` ClusterRole bound in that namespace); without them the issuer reports',
        '`ResolvedRefs=False`, `SecretUnreadable`.',
      ),
      examples: ['idp-keys'],
    },
    key: {
      ...nonEmptyString,
      description: 'Kubernetes source: the data key inside the Secret. May be left out when the Secret holds exactly one key.',
      examples: ['jwks.json'],
    },
    path: {
      ...nonEmptyString,
      description: doc(
        'File source only (not part of the CRD): the key file, relative to the directory of the manifest that names it',
        '(an absolute path works too), so a configuration directory can be moved as a whole. The file is checked every 2 s and',
        're-read when it changed, including a Kubernetes Secret volume\'s atomic `..data` swap.',
      ),
      examples: ['./keys/jwks.json'],
    },
  },
  additionalProperties: false,
  oneOf: [{ required: ['name'] }, { required: ['path'] }],
};

export const jwksSchema: JsonSchema = {
  type: 'object',
  description: doc(
    'Where the issuer\'s verification keys come from: exactly one of `uri`, `discovery`, `inline` or `secretRef`; the other',
    'fields tune fetching for `uri` and `discovery`. Keys are only ever taken from here: the token headers `jku`, `x5u`, `jwk`',
    'and `x5c` are never used or fetched. A key is left out (and logged as skipped) when its `use` is not `sig`, its `key_ops`',
    'lack `verify`, it has private members, it is a symmetric (`oct`) key outside `secretRef`, an RSA key under 2048 bits, an EC',
    'key not on P-256/P-384/P-521, an OKP key other than Ed25519, or it fits none of `algorithms`. Required unless the issuer',
    'has `introspection`; an issuer with introspection and no `jwks` accepts opaque tokens only.',
  ),
  properties: {
    uri: {
      ...nonEmptyString,
      description: doc(
        'The issuer\'s JWKS URL (a document `{"keys": [...]}`, RFC 7517), e.g. Keycloak',
        '`https://<host>/realms/<realm>/protocol/openid-connect/certs`. Must be `https://` (`http://` only with',
        '`allowInsecureHttp`). Fetched in the background, refreshed every `refreshInterval` and once per `minRefreshInterval`',
        'when a token names an unknown `kid`. A request never waits more than 150 ms for a fetch. Redirects are never followed;',
        'a response over 512 KiB or with more than 100 keys, or one that takes more than 5 s, is a failed fetch.',
      ),
      examples: ['https://idp.example.com/realms/corp/protocol/openid-connect/certs'],
    },
    discovery: {
      type: 'boolean',
      description: doc(
        '`true`: OpenID Connect discovery. claimcheck reads `{issuer}/.well-known/openid-configuration` (a trailing `/` of',
        '`spec.issuer` removed), requires the document\'s `issuer` to equal `spec.issuer` exactly and to name a `jwks_uri`, and',
        'fetches that like `uri` (same `caBundle`, `allowInsecureHttp` and limits). The document is re-read hourly and after a',
        'failed JWKS fetch; a changed `jwks_uri` is followed. `spec.issuer` must then be an `https://` URL. `false` names no key',
        'source and is an error.',
      ),
      examples: [true],
    },
    inline: {
      type: 'object',
      required: ['keys'],
      description: doc(
        'A static JWKS written into the manifest; it changes only when the manifest does. Public keys only: a JWK with private',
        'members (`d`, `p`, ...) or a symmetric `oct` key is an error (put secrets in `secretRef`).',
      ),
      properties: {
        keys: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', ...anyValue },
          description: doc(
            'Public JWKs (RFC 7517), at least one, each with a `kty`. A `kid` lets a token pick its key (without one, up to 10',
            'fitting keys are tried); a key with an `alg` is used only for tokens of that `alg`.',
          ),
          examples: [[{ kty: 'EC', crv: 'P-256', kid: 'corp-2026-01', alg: 'ES256', use: 'sig', x: '<base64url>', y: '<base64url>' }]],
        },
      },
      additionalProperties: false,
    },
    secretRef: secretRefSchema,
    caBundle: {
      ...nonEmptyString,
      description: doc(
        'PEM CA certificates for an IdP behind a private CA. When set they are the only trust roots for this issuer\'s',
        'discovery and JWKS endpoints (the system roots are not used; other issuers are not affected); when unset, the system',
        'roots. Needs at least one `-----BEGIN CERTIFICATE-----` block, and each must parse as X.509.',
      ),
      examples: ['-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n'],
    },
    allowInsecureHttp: {
      type: 'boolean',
      default: false,
      description: doc(
        'Allow `http://` for `uri` and for discovery (the issuer URL and the `jwks_uri` it names), for an in-cluster IdP without',
        'TLS: keys fetched over plain HTTP can be tampered with on the way. Reported as a warning. Without it an `http://` URL is',
        'an error.',
      ),
      examples: [true],
    },
    refreshInterval: {
      ...durationSchema,
      default: '10m',
      description: doc(
        'Background refresh period after a successful fetch (`uri`, `discovery`). A `Cache-Control: max-age` on the JWKS response',
        '(`no-store`/`no-cache` count as 0) shortens it, never below `minRefreshInterval` or 1 s; it never lengthens it. Also the',
        'longest wait between retries after failures. At least `1s`.',
      ),
      examples: ['5m'],
    },
    minRefreshInterval: {
      ...durationSchema,
      default: '30s',
      description: doc(
        'Cooldown between fetches that traffic triggers: a token with an unknown `kid` (key rotation) causes at most one refetch',
        'per this interval per issuer, shared by every concurrent request (single flight). Also the first retry delay after a',
        'failed fetch, doubling up to `refreshInterval`, plus 0–20% jitter.',
      ),
      examples: ['1m'],
    },
    maxStaleness: {
      ...durationSchema,
      default: '24h',
      description: doc(
        'How long the last good keys keep verifying while fetches fail, counted from the last successful refresh. Past it every',
        'token of this issuer is answered 503 (fail closed) until a fetch succeeds. Applies to `uri` and `discovery` only.',
      ),
      examples: ['6h'],
    },
  },
  additionalProperties: false,
  // exactly one key source
  oneOf: [{ required: ['uri'] }, { required: ['discovery'] }, { required: ['inline'] }, { required: ['secretRef'] }],
};

export const trustedIssuerSpecSchema: JsonSchema = {
  type: 'object',
  required: ['issuer'],
  anyOf: [{ required: ['jwks'] }, { required: ['introspection'] }],
  description: doc(
    'An identity provider whose tokens claimcheck accepts: the `iss` it writes, where its keys come from, and what each token',
    'must satisfy beyond its signature. AuthPolicies and TokenRevocations name it by `metadata.name`.',
  ),
  properties: {
    issuer: {
      ...nonEmptyString,
      description: doc(
        'The issuer identifier, compared with the token\'s `iss` claim exactly (case-sensitive, no normalisation: a trailing `/`',
        'counts). Copy it from your IdP\'s discovery document (`issuer`) or from a token, e.g. Keycloak',
        '`https://<host>/realms/<realm>`, Auth0 `https://<tenant>.auth0.com/` (with the slash), Microsoft Entra ID',
        '`https://login.microsoftonline.com/<tenant-id>/v2.0`, Google `https://accounts.google.com`. With `jwks.discovery` it is',
        'also the base URL of the discovery document.',
      ),
      examples: ['https://idp.example.com/realms/corp'],
    },
    jwks: jwksSchema,
    audiences: {
      ...stringList,
      default: [],
      description: doc(
        'Accepted audiences: the token\'s `aud` (a string or a list of strings) must contain at least one of them. Use what your IdP',
        'writes for this API, e.g. the Auth0 API identifier, the Entra ID application ID URI or client id, the Okta authorization',
        'server audience, or a Keycloak client id added by an audience mapper. Empty: `aud` is not checked, so tokens minted for any',
        'service of the IdP are accepted (reported as a warning).',
      ),
      examples: [['payments-api']],
    },
    algorithms: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', enum: [...ALGORITHMS] },
      default: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      description: doc(
        'Signature algorithms accepted for this issuer (RFC 8725 §3.1): the token\'s `alg` must be listed, whatever the key or',
        'the token says. The key must fit: `RS*`/`PS*` an RSA key of at least 2048 bits, `ES256`/`ES384`/`ES512` a P-256/P-384/P-521',
        'key, `EdDSA`/`Ed25519` an Ed25519 key. `none` is never accepted. `HS256`/`HS384`/`HS512` need `jwks.secretRef` with a',
        'secret of at least 32/48/64 bytes; HMAC secrets are never fetched or inlined. Most OIDC providers sign access tokens',
        'with `RS256`: list only what your IdP uses (the `alg` in a token\'s header, or `id_token_signing_alg_values_supported` in',
        'its discovery document).',
      ),
      examples: [['RS256']],
    },
    clockSkew: {
      ...durationSchema,
      default: '30s',
      description: doc(
        'Leeway for the time claims: a token is expired when `exp <= now - clockSkew`, not yet valid when `nbf > now + clockSkew`,',
        'and issued in the future when `iat > now + clockSkew`. At most `5m`.',
      ),
      examples: ['10s'],
    },
    maxTokenLifetime: {
      ...durationSchema,
      description: doc(
        'Longest accepted lifetime `exp - iat`. When set, a token without `iat` is rejected. Greater than zero. Unset: no limit.',
      ),
      examples: ['1h'],
    },
    requiredClaims: {
      ...stringList,
      default: [],
      description: doc(
        'Top-level claims every token must carry (present and not `null`). `exp` is always required in addition. `exp`, `nbf`',
        'and `iat` must be finite numbers when present (fractions allowed).',
      ),
      examples: [['sub', 'jti']],
    },
    tokenTypes: {
      ...stringList,
      default: [],
      description: doc(
        'Accepted values of the token\'s `typ` header, e.g. `[at+jwt]` for RFC 9068 access tokens, which keeps ID tokens of the',
        'same IdP out. Compared case-insensitively with `application/` optional (RFC 7515 §4.1.9): `at+jwt`, `AT+JWT` and',
        '`application/at+jwt` are one type. When set, a token without `typ` is rejected. Empty: any `typ`, or none.',
      ),
      examples: [['at+jwt']],
    },
    payload: payloadSchema,
    decryption: decryptionSchema(secretRefSchema),
    introspection: introspectionSchema(secretRefSchema),
  },
  additionalProperties: false,
};

export const trustedIssuerSchema = resourceSchema('TrustedIssuer', trustedIssuerSpecSchema);
