/** AuthPolicy.spec.identity.token: the identity token's header, audiences, lifetime and claim mapping. */
import { claimPath } from '../authz/claims.js';
import { tryParseDuration } from '../model/duration.js';
import type { AuthPolicy, ClaimPath, IdentityTokenSpec } from '../model/types.js';
import type { CompileContext } from './context.js';
import { identityHeaderNameProblem } from './http-names.js';
import type { CompiledIdentityToken, IdentityHeader } from './snapshot.js';

export const DEFAULT_IDENTITY_TOKEN_HEADER = 'x-claimcheck-identity';
const DEFAULT_TTL_SEC = 300;
const MAX_TTL_SEC = 3600;
/** RFC 7519 §4.1 and RFC 8693 §4.1: the claims claimcheck sets itself */
const OWN_CLAIMS = new Set(['iss', 'aud', 'iat', 'exp', 'nbf', 'jti', 'act']);
const BASE = '/spec/identity/token';

/** A claim path of identity.headers or identity.token.claims, a problem at `at` when a segment is empty. */
export function mappedClaimPath(r: AuthPolicy, path: ClaimPath, at: string, ctx: CompileContext): readonly string[] {
  const segments = claimPath(path);
  if (segments.length === 0 || segments.some((s) => s === '')) ctx.problem(r, at, `claim path ${JSON.stringify(path)} has an empty segment`);
  return Object.freeze(segments);
}

/** RFC 6901 §3: a map key as one segment of a JSON pointer. */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `taken`: the identity header names of the same policy, which the token header may not reuse. */
export function compileIdentityToken(r: AuthPolicy, spec: IdentityTokenSpec, taken: ReadonlySet<string>, ctx: CompileContext): CompiledIdentityToken {
  if (ctx.identityIssuer === null) {
    ctx.problem(r, BASE, 'identity.token needs the server flags --identity-issuer and --identity-key-dir; this server has no --identity-issuer');
  }
  const header = (spec.header ?? DEFAULT_IDENTITY_TOKEN_HEADER).toLowerCase();
  const bad = identityHeaderNameProblem(header);
  if (bad) ctx.problem(r, `${BASE}/header`, bad);
  else if (taken.has(header)) ctx.problem(r, `${BASE}/header`, `${JSON.stringify(header)} is also an identity header of this policy`);

  let ttlSec = DEFAULT_TTL_SEC;
  if (spec.ttl !== undefined) {
    const ms = tryParseDuration(spec.ttl);
    if (ms === undefined || ms < 1000) ctx.problem(r, `${BASE}/ttl`, `ttl ${JSON.stringify(spec.ttl)} is not a duration of at least 1s`);
    else if (ms > MAX_TTL_SEC * 1000) ctx.problem(r, `${BASE}/ttl`, `ttl ${spec.ttl} is above the maximum of 1h`);
    else ttlSec = Math.floor(ms / 1000);
  }

  const claims: IdentityHeader[] = [];
  for (const [name, path] of Object.entries(spec.claims ?? {})) {
    const at = `${BASE}/claims/${pointerSegment(name)}`;
    if (OWN_CLAIMS.has(name)) ctx.problem(r, at, `${JSON.stringify(name)} is set by claimcheck and cannot be mapped`);
    claims.push(Object.freeze({ name, claimPath: mappedClaimPath(r, path, at, ctx) }));
  }
  return Object.freeze({
    header,
    prefix: spec.prefix ?? '',
    ...(spec.audiences && spec.audiences.length > 0 ? { audiences: Object.freeze([...new Set(spec.audiences)]) } : {}),
    ttlSec,
    claims: Object.freeze(claims),
  });
}
