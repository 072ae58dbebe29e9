/**
 * The CRD schemas of the three kinds: src/model/schema/ turned into structural OpenAPI v3
 * (every node typed, no `additionalProperties: false`, `oneOf` only as a pure value
 * validation), plus what JSON Schema cannot say, or says with poor messages, as
 * `x-kubernetes-validations` CEL rules
 * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules).
 * Used by gen-crds.ts (the CRD files) and gen-reference.ts (the field reference).
 */
import { ALGORITHMS, authPolicySpecSchema, tokenRevocationSpecSchema, trustedIssuerSpecSchema, type JsonSchema } from '../src/model/schema/index.js';

export interface Rule {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** Go time.ParseDuration syntax: what CEL's duration() and claimcheck's parser accept (format: duration alone also takes "3d"). */
export const GO_DURATION = '^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$';

/** CEL reserved words must be escaped as `__word__` in property access (Kubernetes CEL escaping rules). */
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

function celField(name: string): string {
  return CEL_RESERVED.has(name) ? `__${name}__` : name;
}

/**
 * `oneOf: [{required: [a]}, {required: [b]}]` → "exactly one of" as CEL, with a readable
 * message. A sum of conditionals, not a list: its estimated cost stays constant, which
 * matters on items of unbounded lists.
 */
function exactlyOne(names: string[]): Rule {
  return { rule: `${names.map((n) => `(has(self.${celField(n)}) ? 1 : 0)`).join(' + ')} == 1`, message: `exactly one of ${names.join(', ')} must be set` };
}

/** `anyOf: [{required: [a]}, {required: [b]}]` → "at least one of" as CEL. */
function atLeastOne(names: string[]): Rule {
  return { rule: names.map((n) => `has(self.${celField(n)})`).join(' || '), message: `at least one of ${names.join(', ')} must be set` };
}

function requiredOnly(branches: JsonSchema[]): string[] | undefined {
  const names = branches.map((b) => (Array.isArray(b.required) && b.required.length === 1 && Object.keys(b).length === 1 ? String(b.required[0]) : undefined));
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/** One JSON-Schema node → a structural OpenAPI v3 node. */
export function toStructural(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  const rules: Rule[] = [];
  // The API server would apply a `default` (and store it); claimcheck applies its own, so it is only told.
  if (s.description !== undefined) out.description = s.default === undefined ? s.description : `${String(s.description)} Default: ${JSON.stringify(s.default)}.`;
  if (s.oneOf !== undefined) {
    const names = requiredOnly(s.oneOf as JsonSchema[]);
    const props = (s.properties ?? {}) as Record<string, JsonSchema>;
    if (names && names.every((n) => props[n]?.type !== undefined)) {
      rules.push(exactlyOne(names));
    } else if (names) {
      // CEL cannot see untyped fields (claim operators take any JSON value): keep the
      // oneOf, which a structural schema allows as a pure value validation.
      out.oneOf = names.map((n) => ({ required: [n] }));
    } else {
      // Claim paths: a string or a list of strings. A structural schema has one type per
      // node and CEL cannot see an untyped node, so this leaf alone keeps any value and
      // claimcheck checks its shape (a bad one makes the resource Accepted=False).
      return { description: String(s.description ?? ''), 'x-kubernetes-preserve-unknown-fields': true };
    }
  }
  if (s.anyOf !== undefined) {
    const names = requiredOnly(s.anyOf as JsonSchema[]);
    if (!names) throw new Error('gen-crds: anyOf is supported only as required-only branches');
    rules.push(atLeastOne(names));
  }
  for (const key of ['type', 'enum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'format', 'required', 'x-kubernetes-preserve-unknown-fields']) {
    if (s[key] !== undefined) out[key] = s[key];
  }
  if (s.format === 'duration') out.pattern = GO_DURATION;
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v)]));
  }
  if (s.items) out.items = toStructural(s.items as JsonSchema);
  if (typeof s.additionalProperties === 'object') out.additionalProperties = toStructural(s.additionalProperties as JsonSchema);
  if (rules.length > 0) out['x-kubernetes-validations'] = rules;
  return out;
}

/** Walk `path` (property names) and add CEL rules there. */
function addRules(schema: JsonSchema, path: string[], rules: Rule[]): void {
  let node = schema;
  for (const p of path) {
    const props = node.properties as Record<string, JsonSchema> | undefined;
    if (p === '[]') node = node.items as JsonSchema;
    else if (props?.[p]) node = props[p];
    else throw new Error(`gen-crds: no schema at ${path.join('.')}`);
  }
  node['x-kubernetes-validations'] = [...((node['x-kubernetes-validations'] as Rule[] | undefined) ?? []), ...rules];
}

function set(schema: JsonSchema, path: string[], values: JsonSchema): void {
  let node = schema;
  for (const p of path) node = p === '[]' ? (node.items as JsonSchema) : (node.properties as Record<string, JsonSchema>)[p]!;
  Object.assign(node, values);
}

function trustedIssuerSpec(): JsonSchema {
  const spec = toStructural(trustedIssuerSpecSchema);
  // `path` is the file source's way to name a key or secret file; in a cluster it is a Secret.
  const props = spec.properties as Record<string, JsonSchema & { properties: Record<string, JsonSchema> }>;
  for (const secretRef of [props.jwks!.properties.secretRef!, props.decryption!.properties.secretRef!, props.introspection!.properties.clientSecretRef!, props.introspection!.properties.clientKeyRef!]) {
    delete (secretRef.properties as Record<string, unknown>).path;
    delete secretRef['x-kubernetes-validations'];
    secretRef.required = ['name'];
  }
  // bounded lists keep the CEL cost estimate within the API server's budget
  set(spec, ['algorithms'], { maxItems: ALGORITHMS.length });
  addRules(spec, [], [{
    rule: "!has(self.algorithms) || !self.algorithms.exists(a, a.startsWith('HS')) || (has(self.jwks) && has(self.jwks.secretRef))",
    message: 'HS256/HS384/HS512 need a shared secret: use jwks.secretRef (HMAC secrets are never fetched or inlined)',
    fieldPath: '.algorithms',
  }]);
  // `none` needs no rule: the enum of algorithms does not contain it
  addRules(spec, ['clockSkew'], [{ rule: "duration(self) <= duration('5m')", message: 'clockSkew must be at most 5m' }]);
  addRules(spec, ['maxTokenLifetime'], [{ rule: "duration(self) > duration('0s')", message: 'maxTokenLifetime must be greater than zero' }]);
  addRules(spec, ['jwks', 'refreshInterval'], [{ rule: "duration(self) >= duration('1s')", message: 'refreshInterval must be at least 1s' }]);
  addRules(spec, ['jwks'], [{
    rule: "!has(self.discovery) || self.discovery",
    message: 'discovery: false names no key source; remove it or set a key source',
    fieldPath: '.discovery',
  }]);
  return spec;
}

function authPolicySpec(): JsonSchema {
  const spec = toStructural(authPolicySpecSchema);
  addRules(spec, ['rules', '[]'], [
    { rule: "!(has(self.action) && self.action == 'deny' && has(self.require))", message: 'a deny rule takes no require', fieldPath: '.require' },
    {
      rule: "!(has(self.action) && self.action == 'allowAnonymous' && has(self.require) && (has(self.require.scopes) || has(self.require.claims) || has(self.require.when)))",
      message: 'an allowAnonymous rule cannot require scopes, claims or conditions (only issuers)',
      fieldPath: '.require',
    },
  ]);
  return spec;
}

const conditionSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
};

function statusSchema(extra: Record<string, JsonSchema> = {}): JsonSchema {
  return {
    type: 'object',
    properties: {
      conditions: { type: 'array', items: conditionSchema, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
      observedGeneration: { type: 'integer', format: 'int64' },
      ...extra,
    },
  };
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;

export interface KindDef {
  kind: string;
  plural: string;
  shortNames: string[];
  spec: JsonSchema;
  status: JsonSchema;
  columns: JsonSchema[];
}

export function kinds(): KindDef[] {
  const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
  const accepted = { name: 'Accepted', type: 'string', jsonPath: condition('Accepted') };
  return [
    {
      kind: 'TrustedIssuer',
      plural: 'trustedissuers',
      shortNames: ['ccti'],
      spec: trustedIssuerSpec(),
      status: statusSchema({ keyIds: { type: 'array', items: { type: 'string' } }, lastRefreshTime: { type: 'string', format: 'date-time' } }),
      columns: [{ name: 'Issuer', type: 'string', jsonPath: '.spec.issuer' }, { name: 'Ready', type: 'string', jsonPath: condition('KeysReady') }, accepted, age],
    },
    {
      kind: 'AuthPolicy',
      plural: 'authpolicies',
      shortNames: ['ccap'],
      spec: authPolicySpec(),
      status: statusSchema(),
      columns: [
        { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' },
        { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
        accepted,
        { name: 'Conflicted', type: 'string', jsonPath: condition('Conflicted'), priority: 1 },
        age,
      ],
    },
    {
      kind: 'TokenRevocation',
      plural: 'tokenrevocations',
      shortNames: ['cctr'],
      spec: toStructural(tokenRevocationSpecSchema),
      status: statusSchema(),
      columns: [{ name: 'Issuer', type: 'string', jsonPath: '.spec.issuer' }, { name: 'Expired', type: 'string', jsonPath: condition('Expired') }, accepted, age],
    },
  ];
}

