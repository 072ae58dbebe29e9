/** A case's `token:` as a compact JWS signed with the issuer's throwaway key. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { ThrowawayKey } from './throwaway-keys.js';
import type { TokenSpec } from './types.js';

/**
 * Defaults: iss = the issuer's spec.issuer, aud = its first audience (when it has any), iat = now,
 * exp = now + lifetime. `claims` add to or override them; a claim set to null is left out, so a
 * case can send a token without exp or iat.
 */
export function testTokenClaims(spec: TokenSpec, issuer: CompiledIssuer, nowSec: number): Record<string, unknown> {
  const iat = Math.floor(nowSec);
  const defaults: Record<string, unknown> = { iss: issuer.issuer };
  if (issuer.audiences.length > 0) defaults.aud = issuer.audiences[0];
  defaults.iat = iat;
  defaults.exp = iat + spec.lifetimeSec;
  return withoutNulls({ ...defaults, ...spec.claims });
}

/** typ defaults to the issuer's first allowed token type, else "JWT"; `header` overrides (null removes). */
export function testTokenHeader(spec: TokenSpec, issuer: CompiledIssuer, key: ThrowawayKey): Record<string, unknown> {
  // parsing refused header.alg: the key decides it
  return withoutNulls({ alg: key.alg, kid: key.kid, typ: issuer.tokenTypes[0] ?? 'JWT', ...spec.header });
}

export function signTestToken(spec: TokenSpec, issuer: CompiledIssuer, key: ThrowawayKey, nowSec: number): string {
  const header = testTokenHeader(spec, issuer, key);
  const input = `${b64(header)}.${b64(testTokenClaims(spec, issuer, nowSec))}`;
  return `${input}.${key.sign(input).toString('base64url')}`;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
}
