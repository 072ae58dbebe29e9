import { senderConstraintSchema } from './sender-constraint.js';
import { anyValue, claimPathSchema, doc, nonEmptyString, stringList, type JsonSchema } from './common.js';

export const CLAIM_OPERATORS = ['equals', 'in', 'contains', 'matches', 'exists'] as const;

export const claimRequirementSchema: JsonSchema = {
  type: 'object',
  required: ['claim'],
  description: doc(
    'One claim check: `claim` and exactly one operator. A claim that is absent or JSON `null` fails every operator except',
    '`exists: false`.',
  ),
  properties: {
    claim: {
      ...claimPathSchema,
      examples: ['tenant', 'realm_access.roles', ['https://example.com/claims', 'org']],
    },
    equals: {
      ...anyValue,
      description: doc(
        'Type-strict deep equality with this JSON value: `"true"` ≠ `true`, `1` ≠ `"1"`, lists and objects compared element by',
        'element. `null` is an error (use `exists: false`).',
      ),
      examples: [true],
    },
    in: {
      type: 'array',
      minItems: 1,
      items: anyValue,
      description: doc(
        'A scalar claim equals (type-strictly) one of these values; a list claim has at least one element among them. An',
        'object claim never matches.',
      ),
      examples: [['acme', 'globex']],
    },
    contains: {
      ...anyValue,
      description: doc(
        'A list claim has this element, or a string claim has it as one of its space-separated words (like `scope`). A',
        'non-empty string, a number or a boolean.',
      ),
      examples: ['admin'],
    },
    matches: {
      ...nonEmptyString,
      description: doc(
        'A regular expression the whole string claim must match (anchored at both ends; a non-string claim never matches).',
        'Runs on a linear-time engine (RE2 syntax, the common subset of ECMAScript and Go patterns), so no pattern can',
        'backtrack catastrophically; backreferences and lookaround are rejected when the policy is loaded.',
      ),
      examples: ['^merchant_[0-9]+$'],
    },
    exists: {
      type: 'boolean',
      description: '`true`: the claim is present (and not `null`); `false`: it is absent or `null`.',
      examples: [true],
    },
  },
  additionalProperties: false,
  // exactly one operator
  oneOf: CLAIM_OPERATORS.map((op) => ({ required: [op] })),
};

const METHOD_TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const ruleSchema: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      ...nonEmptyString,
      description: 'Unique within the policy; named by `claimcheck check`, the decision log and the metrics.',
      examples: ['write'],
    },
    match: {
      type: 'object',
      description: 'Which requests the rule applies to; both lists must fit. Unset: every request.',
      properties: {
        paths: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', pattern: '^/' },
          description: doc(
            'Path patterns, each starting with `/`, matched against the normalised request path (never the query string). `*`',
            'is exactly one non-empty segment, `**` zero or more segments (`/v1/**` matches `/v1`, `/v1/` and everything below);',
            'both must be whole segments (`/v1/foo*` is an error). Anything else is literal and case-sensitive, and a trailing',
            'slash counts (`/a` does not match `/a/`). Before matching, percent-encoded unreserved characters are decoded (`%61` →',
            '`a`), repeated slashes merged and `.` segments dropped; a request with a `..` segment (raw or encoded), `%2F`, `%5C`,',
            'a backslash, NUL or another control character is a 400, never a match. Unset: every path.',
          ),
          examples: [['/v1/payments/**', '/v1/refunds/*']],
        },
        methods: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', pattern: METHOD_TOKEN },
          description: 'HTTP methods, compared case-insensitively. Unset: every method.',
          examples: [['POST', 'PUT']],
        },
      },
      additionalProperties: false,
    },
    action: {
      type: 'string',
      enum: ['require', 'allowAnonymous', 'deny'],
      default: 'require',
      description: doc(
        '`require`: a valid token that meets `require` is needed (401 without a valid token, 403 when a requirement fails).',
        '`allowAnonymous`: no token needed; a valid token still yields identity headers, an invalid one is ignored and the',
        'request goes on as anonymous (identity headers removed), like Envoy\'s `allow_missing_or_failed`. `deny`: always 403.',
      ),
      examples: ['allowAnonymous'],
    },
    require: {
      type: 'object',
      description: doc(
        'What the token must meet, checked in this order: issuer, scopes, claims, `when`. A `deny` rule takes no `require`; an',
        '`allowAnonymous` rule may set only `issuers` (the issuers its optional token is verified against).',
      ),
      properties: {
        issuers: {
          ...stringList,
          description: 'TrustedIssuer names that replace the policy\'s `issuers` for this rule (resolved the same way).',
          examples: [['partner-idp']],
        },
        scopes: {
          type: 'object',
          description: doc(
            'Scopes the token must grant: the union of the `scope` claim (space-separated) and `scp` (a list, or a',
            'space-separated string). Missing: 403 `insufficient_scope`, with `scope="..."` listing the rule\'s scopes.',
          ),
          properties: {
            allOf: { ...stringList, description: 'Every one of these scopes.', examples: [['payments:write']] },
            anyOf: {
              ...stringList,
              description: 'At least one of these scopes, in addition to all of `allOf`.',
              examples: [['payments:read', 'payments:write']],
            },
          },
          additionalProperties: false,
        },
        claims: {
          type: 'array',
          items: claimRequirementSchema,
          description: doc(
            'Claim checks that must all hold (403 otherwise). `claim` is a path: `a.b.c` walks nested objects, a list of keys',
            'names keys that contain dots (`["https://example.com/claims", "org"]`); only the token\'s own properties are',
            'followed, never `__proto__`, `constructor` or `prototype`.',
          ),
          examples: [[{ claim: 'tenant', in: ['acme', 'globex'] }, { claim: 'email_verified', equals: true }]],
        },
        when: {
          ...nonEmptyString,
          description: doc(
            'A CEL expression, evaluated after scopes and claims, over `claims`, `request` (`method`, `host`, `path`, `query`,',
            '`headers`, `time`), `source` and `destination` (docs/cel.md). `true` allows; `false` is a 403; an error, a',
            'non-boolean result or exceeding the cost limit is a 403, never an allow. Syntax and type errors are load errors with',
            'the position inside the expression.',
          ),
          examples: ["claims.tenant == request.headers['x-tenant']"],
        },
        senderConstraint: {
          ...senderConstraintSchema,
          description: 'The policy\'s `senderConstraint` for this rule: each field given here replaces the policy\'s.',
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};
