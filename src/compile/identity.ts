import type { AuthPolicy } from '../model/types.js';
import type { CompileContext } from './context.js';
import { identityHeaderNameProblem, isHeaderToken } from './http-names.js';
import { compileIdentityToken, mappedClaimPath, pointerSegment } from './identity-token.js';
import type { CompiledIdentity, IdentityHeader, TokenSource } from './snapshot.js';

export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = Object.freeze([
  Object.freeze({ type: 'header', header: 'authorization', prefix: 'bearer ' } as const),
]);

export function compileTokenSources(r: AuthPolicy, ctx: CompileContext): readonly TokenSource[] {
  const specs = r.spec.tokenSources;
  if (!specs || specs.length === 0) return DEFAULT_TOKEN_SOURCES;
  const out: TokenSource[] = [];
  specs.forEach((s, i) => {
    const path = `/spec/tokenSources/${i}`;
    if ('header' in s && typeof s.header === 'string') {
      const header = s.header.toLowerCase();
      if (!isHeaderToken(header)) ctx.problem(r, `${path}/header`, `${JSON.stringify(s.header)} is not a valid HTTP header name`);
      // the Bearer scheme is case-insensitive (RFC 6750 §2.1), so prefixes are compared lowercase
      const prefix = (s.prefix ?? '').toLowerCase();
      if (header === 'authorization' && prefix === '') {
        ctx.warning(r, `${path}`, 'the whole Authorization value is taken as the token; did you mean prefix: "Bearer "?');
      }
      out.push(Object.freeze({ type: 'header', header, prefix }));
    } else if ('prefix' in s) {
      ctx.problem(r, `${path}/prefix`, 'prefix applies to header sources only');
    } else if ('cookie' in s) {
      out.push(Object.freeze({ type: 'cookie', cookie: s.cookie }));
    } else if ('query' in s) {
      out.push(Object.freeze({ type: 'query', query: s.query }));
    }
  });
  return Object.freeze(out);
}

export function compileIdentity(r: AuthPolicy, ctx: CompileContext): CompiledIdentity {
  const spec = r.spec.identity ?? {};
  const headers: IdentityHeader[] = [];
  const seen = new Set<string>();
  for (const [rawName, path] of Object.entries(spec.headers ?? {})) {
    const name = rawName.toLowerCase();
    const at = `/spec/identity/headers/${pointerSegment(rawName)}`;
    const bad = identityHeaderNameProblem(name);
    if (bad) ctx.problem(r, at, bad);
    else if (seen.has(name)) ctx.problem(r, at, `header ${JSON.stringify(name)} is listed twice (header names are case-insensitive)`);
    seen.add(name);
    headers.push(Object.freeze({ name, claimPath: mappedClaimPath(r, path, at, ctx) }));
  }
  let payloadHeader: string | undefined;
  if (spec.payloadHeader !== undefined) {
    payloadHeader = spec.payloadHeader.toLowerCase();
    const bad = identityHeaderNameProblem(payloadHeader);
    if (bad) ctx.problem(r, '/spec/identity/payloadHeader', bad);
    else if (seen.has(payloadHeader)) ctx.problem(r, '/spec/identity/payloadHeader', `${JSON.stringify(payloadHeader)} is also an identity header`);
  }
  if (payloadHeader) seen.add(payloadHeader);
  const token = spec.token ? compileIdentityToken(r, spec.token, seen, ctx) : undefined;
  return Object.freeze({
    headers: Object.freeze(headers),
    ...(payloadHeader ? { payloadHeader } : {}),
    forwardToken: spec.forwardToken ?? true,
    ...(token ? { token } : {}),
  });
}
