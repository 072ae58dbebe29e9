import { claimPathSchema, doc, durationSchema, nonEmptyString, resourceSchema, stringList, type JsonSchema } from './common.js';
import { ruleSchema } from './policy-rule.js';
import { senderConstraintSchema } from './sender-constraint.js';

export { CLAIM_OPERATORS, claimRequirementSchema, ruleSchema } from './policy-rule.js';

export const tokenSourceSchema: JsonSchema = {
  type: 'object',
  description: 'One place a token may be found: exactly one of `header`, `cookie` or `query`.',
  properties: {
    header: {
      ...nonEmptyString,
      description: 'A request header (name case-insensitive) holding `prefix` followed by the token.',
      examples: ['authorization'],
    },
    prefix: {
      type: 'string',
      default: '',
      description: doc(
        'Header sources only: the text before the token, compared case-insensitively, e.g. `"Bearer "` (RFC 6750 §2.1). A value',
        'without it counts as no token. An empty prefix on `authorization` takes the whole value as the token (a warning).',
        'On a cookie or query source it is an error.',
      ),
      examples: ['Bearer '],
    },
    cookie: { ...nonEmptyString, description: 'A cookie whose value is the token.', examples: ['session'] },
    query: {
      ...nonEmptyString,
      description: 'A query parameter holding the token (RFC 6750 §2.3). Tokens in URLs end up in access logs: prefer a header.',
      examples: ['access_token'],
    },
  },
  additionalProperties: false,
  oneOf: [{ required: ['header'] }, { required: ['cookie'] }, { required: ['query'] }],
};

export const identityTokenSchema: JsonSchema = {
  type: 'object',
  description: doc(
    'A short-lived JWT claimcheck signs for the upstream (docs/identity-tokens.md), so a service verifies its caller with a',
    'signature instead of trusting headers. Needs the server flags `--identity-issuer` and `--identity-key-dir`; a policy with',
    '`token` on a server without `--identity-issuer` is refused. Set on allowed requests with a verified token (never on',
    '`allowAnonymous` rules); the header is removed from every other allowed request. Claims: `iss` (the flag), `aud`, `iat`,',
    '`exp` (never past the verified token\'s), `jti`, the mapped `claims`, and `act: {sub: <source principal>}` when Envoy',
    'reports one (RFC 8693 §4.1).',
  ),
  properties: {
    header: {
      ...nonEmptyString,
      default: 'x-claimcheck-identity',
      description: doc(
        'The upstream request header that carries the token. The default is under the reserved prefix, so a copy the client',
        'sent is always removed. Same name rules as `headers`, and not one of them.',
      ),
      examples: ['x-claimcheck-identity'],
    },
    prefix: { type: 'string', default: '', description: 'Text before the token in the header, e.g. `"Bearer "`.', examples: ['Bearer '] },
    audiences: {
      ...stringList,
      minItems: 1,
      description: 'The token\'s `aud` (a string when there is one). Default: the request\'s normalised host.',
      examples: [['orders']],
    },
    ttl: {
      ...durationSchema,
      default: '5m',
      description: 'How long the token is valid, at most 1h; never past the verified token\'s `exp`.',
      examples: ['2m'],
    },
    claims: {
      type: 'object',
      additionalProperties: claimPathSchema,
      description: doc(
        'Claim name → claim path of the verified token (as in `headers`); the value is copied as it is (strings, numbers,',
        'lists, objects). A missing claim is left out. `iss`, `aud`, `iat`, `exp`, `nbf`, `jti` and `act` are claimcheck\'s own',
        'and cannot be mapped.',
      ),
      examples: [{ sub: 'sub', tenant: 'tenant', scope: 'scope' }],
    },
  },
  additionalProperties: false,
};

export const identitySchema: JsonSchema = {
  type: 'object',
  description: doc(
    'What the upstream learns about the caller of an allowed request with a verified token. Every header name that any loaded',
    'policy can emit, and every incoming header under the reserved prefix (`x-claimcheck-`, flag `--reserved-header-prefix`), is',
    'removed from every allowed request, also on `allowAnonymous` rules and in audit mode, except the headers this answer sets:',
    'a client can never smuggle its own identity header through.',
  ),
  properties: {
    headers: {
      type: 'object',
      additionalProperties: claimPathSchema,
      description: doc(
        'Upstream request header name → claim path (`a.b.c`, or a list of keys for names containing dots). Strings are sent as',
        'they are, numbers and booleans as text, lists joined with `,`, objects as compact JSON. A claim that is missing, empty,',
        'longer than 8 KiB or holds control characters or non-ASCII is not set (the header is still removed). Set headers',
        'overwrite incoming ones. Names are case-insensitive and may not be pseudo-headers, hop-by-hop or framing headers, `host`,',
        '`authorization`, `proxy-authorization`, `cookie`, `set-cookie`, `x-request-id`, `x-forwarded-for`, `x-forwarded-proto`,',
        '`x-forwarded-host`, `x-envoy-*`, or a header any loaded policy reads its token from.',
      ),
      examples: [{ 'x-user-id': 'sub', 'x-tenant': 'tenant', 'x-roles': 'realm_access.roles' }],
    },
    payloadHeader: {
      ...nonEmptyString,
      description: doc(
        'A header carrying all verified claims as JSON, unpadded base64url (left out when longer than 16 KiB). Same name rules',
        'as `headers`, and not one of them.',
      ),
      examples: ['x-jwt-payload'],
    },
    forwardToken: {
      type: 'boolean',
      default: true,
      description: doc(
        '`false` removes the credential before the upstream sees it: the token header, the token cookie (other cookies are kept),',
        'or the query parameter.',
      ),
      examples: [false],
    },
    token: identityTokenSchema,
  },
  additionalProperties: false,
};

export const authPolicySpecSchema: JsonSchema = {
  type: 'object',
  required: ['rules'],
  description: doc(
    'How requests for some hosts are authorized: which issuers\' tokens count, where the token is found, an ordered list of',
    'rules, and the identity headers the upstream gets.',
  ),
  properties: {
    hosts: {
      ...stringList,
      description: doc(
        'Hosts (the request\'s `:authority`) this policy answers for. Compared lowercase with the port and a trailing dot dropped',
        '(`API.Example.com:443` → `api.example.com`, `[::1]:8080` → `::1`). `*.example.com` matches one or more labels under',
        '`example.com`, not `example.com` itself; an exact host beats a wildcard and the longest wildcard wins. A lone `*` or a `*`',
        'inside a name is an error. Two policies claiming one host: the older keeps it, the other reports `Conflicted`. Empty:',
        'the policy is reached only through the Envoy route\'s context extension `claimcheck.io/policy: <namespace>/<name>`, which',
        'always wins over the host. A request whose host has no policy is a 403 (unless the server runs with',
        '`--unmatched-host allow`).',
      ),
      examples: [['payments.example.com', '*.payments.svc.cluster.local']],
    },
    issuers: {
      ...stringList,
      default: [],
      description: doc(
        'TrustedIssuer names (`metadata.name`) whose tokens the rules accept, unless a rule\'s `require.issuers` replaces them. A',
        'name resolves in the policy\'s own namespace first, then in claimcheck\'s namespace (mesh-wide issuers); other namespaces',
        'are invisible. An unknown name is an error. The token\'s `iss` selects the issuer among them.',
      ),
      examples: [['corp-idp']],
    },
    mode: {
      type: 'string',
      enum: ['enforce', 'audit'],
      default: 'enforce',
      description: doc(
        '`enforce` applies decisions. `audit` never denies, not even a malformed request: a would-be denial is allowed, written',
        'to the decision log and counted as `claimcheck_checks_total{decision="audit_deny"}` with its reason. Identity headers',
        'are still set for a valid token and spoofed ones still stripped, so switching to audit changes nothing for the upstream.',
      ),
      examples: ['audit'],
    },
    tokenSources: {
      type: 'array',
      minItems: 1,
      items: tokenSourceSchema,
      default: [{ header: 'authorization', prefix: 'Bearer ' }],
      description: doc(
        'Where the token is looked for, in order; the first source holding a credential is used. Different credentials in several',
        'sources, or two in one header (`Bearer a,Bearer b`), or a cookie or query parameter given twice, are a 400 (RFC 6750 §2:',
        'one method only). A value with another scheme (`Basic ...`) counts as no token.',
      ),
      examples: [[{ header: 'authorization', prefix: 'Bearer ' }, { cookie: 'session' }]],
    },
    rules: {
      type: 'array',
      items: ruleSchema,
      description: doc(
        'Ordered rules; the first whose `match` fits the request decides. No rule fits: 403 (fail closed). No rules at all:',
        'every request is denied (a warning).',
      ),
    },
    identity: identitySchema,
    senderConstraint: senderConstraintSchema,
    profile: {
      type: 'string',
      enum: ['', 'fapi2'],
      default: '',
      description: doc(
        '`fapi2`: the FAPI 2.0 Security Profile\'s resource-server rules (docs/fapi2.md), checked when the policy loads.',
        '`senderConstraint.required` is on and cannot be turned off, tokens come only from the `Authorization` header (other',
        'token sources are an error), every issuer the policy or a rule names must allow only `PS256`, `ES256` and `EdDSA`',
        '(`Ed25519`) with a `clockSkew` of at most 10s and fetch its keys over TLS, and DPoP proofs may use only those algorithms',
        'too.',
      ),
      examples: ['fapi2'],
    },
  },
  additionalProperties: false,
};

export const authPolicySchema = resourceSchema('AuthPolicy', authPolicySpecSchema);
