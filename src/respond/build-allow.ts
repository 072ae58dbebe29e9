/**
 * Allow responses and identity header safety (docs/reference.md, AuthPolicy spec.identity).
 *
 * Envoy applies `headers_to_remove` after the headers it sets, so a name in
 * both lists would delete the value we just set: removals are computed last,
 * minus every name this response sets. Pseudo-headers and `host` can never be
 * removed by ext_authz and are never emitted or removed here.
 *
 * Decisions:
 * - A claim value that is missing, empty, contains a control character or
 *   non-ASCII, or is longer than MAX_CLAIM_HEADER_BYTES is not set; its name
 *   is still removed, so a spoofed copy never survives.
 * - forwardToken: false — header source: the header is removed; cookie source:
 *   the `cookie` header is rewritten without that cookie (removed when nothing
 *   is left); query source: the parameter goes to queryParametersToRemove.
 */
import type { Allow } from '../decision.js';
import type { CompiledPolicy, Snapshot } from '../compile/snapshot.js';
import { getClaim } from '../authz/claims.js';
import { grantedScopes } from '../authz/scopes.js';
import type { HeaderToSet, OkPlan } from './plan.js';
import { isSafeHeaderValue } from './header-value.js';
import { identityAliases } from './header-alias.js';

export const MAX_CLAIM_HEADER_BYTES = 8 * 1024;
// The payload of a 16 KiB token (--max-token-bytes) is at most ~12 KiB of base64url.
export const MAX_PAYLOAD_HEADER_BYTES = 16 * 1024;

export interface AllowContext {
  snapshot: Snapshot;
  headers: ReadonlyMap<string, readonly string[]>;
  /** lowercase, e.g. "x-claimcheck-" */
  reservedPrefix: string;
  /** identity.token, minted for this request (pipeline/identity-token.ts) */
  identityToken?: HeaderToSet;
}

function isProtected(name: string): boolean {
  return name === '' || name.startsWith(':') || name === 'host';
}

/** strings as is; numbers/booleans via String; arrays joined with ","; objects as compact JSON. */
export function formatClaimValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    return v.map((e) => (typeof e === 'string' ? e : typeof e === 'object' && e !== null ? JSON.stringify(e) : String(e))).join(',');
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return undefined;
}

function identitySets(policy: CompiledPolicy, claims: Record<string, unknown>): HeaderToSet[] {
  const out: HeaderToSet[] = [];
  for (const h of policy.identity.headers) {
    const value = formatClaimValue(getClaim(claims, h.claimPath));
    if (value === undefined || value === '' || value.length > MAX_CLAIM_HEADER_BYTES) continue;
    if (!isSafeHeaderValue(value)) continue;
    out.push({ name: h.name.toLowerCase(), value });
  }
  const payloadHeader = policy.identity.payloadHeader?.toLowerCase();
  if (payloadHeader) {
    const value = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    if (value.length <= MAX_PAYLOAD_HEADER_BYTES) out.push({ name: payloadHeader, value });
  }
  return out;
}

/** The cookie header without the named cookie, or undefined when none is left. RFC 6265 §4.2.1. */
function cookieWithout(values: readonly string[], name: string): string | undefined {
  const kept: string[] = [];
  for (const v of values) {
    for (const pair of v.split(';')) {
      const trimmed = pair.trim();
      if (trimmed === '') continue;
      const eq = trimmed.indexOf('=');
      const n = (eq === -1 ? trimmed : trimmed.slice(0, eq)).trim();
      if (n !== name) kept.push(trimmed);
    }
  }
  return kept.length ? kept.join('; ') : undefined;
}

/**
 * The names every allow for this policy removes (all names any policy emits, plus this
 * policy's own), lowercase, sorted, without protected names: computed once per compiled
 * policy (or per snapshot for requests no policy matched), not per request.
 */
const baseRemovals = new WeakMap<object, readonly string[]>();
function baseRemovalsFor(snapshot: Snapshot, policy: CompiledPolicy | undefined): readonly string[] {
  const key = policy ?? snapshot;
  let base = baseRemovals.get(key);
  if (!base) {
    const names = new Set<string>();
    for (const name of snapshot.emittedHeaders) names.add(name.toLowerCase());
    if (policy) {
      // Defensive: this policy's names are removed even if emittedHeaders missed them.
      for (const h of policy.identity.headers) names.add(h.name.toLowerCase());
      if (policy.identity.payloadHeader) names.add(policy.identity.payloadHeader.toLowerCase());
      if (policy.identity.token) names.add(policy.identity.token.header);
    }
    base = Object.freeze([...names].filter((n) => !isProtected(n)).sort());
    baseRemovals.set(key, base);
  }
  return base;
}

export function buildAllowPlan(a: Allow, ctx: AllowContext): OkPlan {
  const policy = a.policy;
  const set: HeaderToSet[] = [];
  // removals beyond the policy's base list: spoofable reserved-prefix headers, the credential
  let extra: string[] | undefined;
  let queryParametersToRemove: string[] | undefined;

  const prefix = ctx.reservedPrefix.toLowerCase();
  if (prefix !== '') {
    for (const name of ctx.headers.keys()) if (name.toLowerCase().startsWith(prefix)) (extra ??= []).push(name.toLowerCase());
  }
  // x_user_id and the like: the same header to CGI-style upstreams (header-alias.ts)
  const aliases = identityAliases(ctx.headers.keys(), ctx.snapshot, prefix);
  if (aliases) (extra ??= []).push(...aliases);
  if (policy) {
    if (a.verified) set.push(...identitySets(policy, a.verified.claims));
    if (ctx.identityToken) set.push(ctx.identityToken);

    const src = a.credentialSource;
    if (!policy.identity.forwardToken && src) {
      if (src.type === 'header') {
        (extra ??= []).push(src.name.toLowerCase());
      } else if (src.type === 'cookie') {
        const rest = cookieWithout(ctx.headers.get('cookie') ?? [], src.name);
        if (rest === undefined) (extra ??= []).push('cookie');
        else set.push({ name: 'cookie', value: rest });
      } else {
        queryParametersToRemove = [src.name];
      }
    }
  }

  const headersToSet = set.filter((h) => !isProtected(h.name));
  const setNames = headersToSet.map((h) => h.name);
  const base = baseRemovalsFor(ctx.snapshot, policy);
  const removals = extra ? [...new Set([...base, ...extra])].filter((n) => !isProtected(n)).sort() : base;
  const headersToRemove = removals.filter((n) => !setNames.includes(n));

  const plan: OkPlan = { kind: 'ok', headersToSet, headersToRemove };
  if (queryParametersToRemove) plan.queryParametersToRemove = queryParametersToRemove;
  const meta = dynamicMetadata(a);
  if (meta) plan.dynamicMetadata = meta;
  return plan;
}

/**
 * For Envoy's later filters (rate limits, access logs): namespace
 * `envoy.filters.http.ext_authz`. `scopes` is the granted scope list (omitted when
 * empty); `audit_deny` is the reason audit mode let a request through, so access
 * logs can show would-be denials.
 */
function dynamicMetadata(a: Allow): Record<string, unknown> | undefined {
  const meta: Record<string, unknown> = {};
  const claims = a.verified?.claims;
  if (claims && typeof claims.sub === 'string') meta.sub = claims.sub;
  if (a.verified) meta.iss = a.verified.issuer.issuer;
  if (a.policy) meta.policy = a.policy.key;
  if (a.rule) meta.rule = a.rule.name;
  const scopes = claims ? grantedScopes(claims) : [];
  if (scopes.length > 0) meta.scopes = scopes;
  if (a.auditedDeny) meta.audit_deny = a.auditedDeny.reason;
  return Object.keys(meta).length ? meta : undefined;
}
