import { X509Certificate } from 'node:crypto';
import { tryParseDuration } from '../model/duration.js';
import type { TrustedIssuer } from '../model/types.js';
import { manifestRelative, type CompileContext } from './context.js';
import { fingerprintOf } from './fingerprint.js';
import { compilePayloadRules } from './payload-rules.js';
import { compileDecryption } from './decryption.js';
import { compileIntrospection } from './introspection.js';
import type { CompiledIssuer, CompiledJwks } from './snapshot.js';

export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const DEFAULTS = { clockSkew: '30s', refreshInterval: '10m', minRefreshInterval: '30s', maxStaleness: '24h' };

/** RFC 7515 §4.1.9: `typ` compares case-insensitively and `application/` may be omitted. */
export function normalizeTokenType(typ: string): string {
  const t = typ.trim().toLowerCase();
  return t.startsWith('application/') ? t.slice('application/'.length) : t;
}

/** Compile one TrustedIssuer; undefined (with problems recorded) when it is not usable. */
export function compileIssuer(r: TrustedIssuer, ctx: CompileContext): CompiledIssuer | undefined {
  const before = ctx.problems.length;
  const spec = r.spec;
  const ns = ctx.namespaceOf(r);
  const durationMs = (path: string, text: string | undefined, fallback: string): number => {
    const ms = tryParseDuration(text ?? fallback);
    if (ms === undefined) {
      ctx.problem(r, path, `invalid duration ${JSON.stringify(text)}`);
      return 0;
    }
    return ms;
  };

  const algorithms = [...new Set(spec.algorithms ?? DEFAULT_ALGORITHMS)];
  if (algorithms.includes('none')) ctx.problem(r, '/spec/algorithms', 'algorithm "none" is never allowed');
  const hmac = algorithms.filter((a) => a.startsWith('HS'));
  if (hmac.length > 0 && !spec.jwks?.secretRef) {
    ctx.problem(r, '/spec/algorithms', `${hmac.join(', ')} need a shared secret: use jwks.secretRef (HMAC secrets are never fetched or inlined)`);
  }

  const clockSkewMs = durationMs('/spec/clockSkew', spec.clockSkew, DEFAULTS.clockSkew);
  if (clockSkewMs > MAX_CLOCK_SKEW_MS) ctx.problem(r, '/spec/clockSkew', `clockSkew ${spec.clockSkew} is above the maximum of 5m`);
  let maxTokenLifetimeSec: number | undefined;
  if (spec.maxTokenLifetime !== undefined) {
    const ms = durationMs('/spec/maxTokenLifetime', spec.maxTokenLifetime, '0s');
    if (ms <= 0) ctx.problem(r, '/spec/maxTokenLifetime', 'maxTokenLifetime must be greater than zero');
    maxTokenLifetimeSec = ms / 1000;
  }

  const jwks = compileJwks(r, ctx, durationMs);
  const audiences = [...new Set(spec.audiences ?? [])];
  if (audiences.length === 0) ctx.warning(r, '/spec/audiences', 'no audiences: the aud claim is not checked, so tokens minted for any service are accepted');
  const requiredClaims = [...new Set(['exp', ...(spec.requiredClaims ?? [])])];
  const tokenTypes = [...new Set((spec.tokenTypes ?? []).map(normalizeTokenType))];

  const payload = compilePayloadRules(spec.payload);
  const decryption = compileDecryption(r);
  if (decryption && !spec.jwks) ctx.problem(r, '/spec/decryption', 'decryption needs jwks: the decrypted token is a JWS verified with this issuer\'s keys');
  const introspection = compileIntrospection(r, ctx);
  if (ctx.problems.length > before) return undefined;
  const keysFingerprint = fingerprintOf({ issuer: spec.issuer, jwks });
  const verification = {
    key: `${ns}/${r.metadata.name}`,
    issuer: spec.issuer,
    audiences,
    algorithms,
    clockSkewSec: clockSkewMs / 1000,
    maxTokenLifetimeSec,
    requiredClaims,
    tokenTypes,
    keysFingerprint,
  };
  return Object.freeze({
    ...verification,
    ...(payload ? { payload } : {}),
    ...(decryption ? { decryption } : {}),
    ...(introspection ? { introspection } : {}),
    name: r.metadata.name,
    namespace: ns,
    audiences: Object.freeze(audiences),
    algorithms: Object.freeze(algorithms),
    requiredClaims: Object.freeze(requiredClaims),
    tokenTypes: Object.freeze(tokenTypes),
    jwks: Object.freeze(jwks),
    fingerprint: fingerprintOf({ ...verification, payload: spec.payload, decryption: decryption?.fingerprint, introspection: introspection?.fingerprint }),
  });
}

function compileJwks(
  r: TrustedIssuer,
  ctx: CompileContext,
  durationMs: (path: string, text: string | undefined, fallback: string) => number,
): CompiledJwks {
  const j = r.spec.jwks ?? {};
  const allowInsecureHttp = j.allowInsecureHttp === true;
  const out: CompiledJwks = {
    ...(r.spec.jwks ? {} : { none: true as const }),
    discovery: j.discovery === true,
    allowInsecureHttp,
    refreshIntervalMs: durationMs('/spec/jwks/refreshInterval', j.refreshInterval, DEFAULTS.refreshInterval),
    minRefreshIntervalMs: durationMs('/spec/jwks/minRefreshInterval', j.minRefreshInterval, DEFAULTS.minRefreshInterval),
    maxStalenessMs: durationMs('/spec/jwks/maxStaleness', j.maxStaleness, DEFAULTS.maxStaleness),
  };
  if (out.refreshIntervalMs < 1000) ctx.problem(r, '/spec/jwks/refreshInterval', 'refreshInterval must be at least 1s');

  const checkUrl = (path: string, what: string, text: string): void => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.problem(r, path, `${what} ${JSON.stringify(text)} is not an absolute URL`);
      return;
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && allowInsecureHttp) return;
    ctx.problem(r, path, url.protocol === 'http:'
      ? `${what} uses http://; set jwks.allowInsecureHttp: true to allow it (keys could be tampered with in transit)`
      : `${what} must be an https:// URL`);
  };
  if (j.uri !== undefined) {
    out.uri = j.uri;
    checkUrl('/spec/jwks/uri', 'jwks.uri', j.uri);
  }
  if (j.discovery === true) checkUrl('/spec/issuer', 'issuer (used for discovery)', r.spec.issuer);
  if (r.spec.jwks && j.discovery === false && !j.uri && !j.inline && !j.secretRef) ctx.problem(r, '/spec/jwks/discovery', 'discovery: false names no key source');
  if (j.inline) {
    out.inline = { keys: j.inline.keys };
    j.inline.keys.forEach((k, i) => {
      if (typeof k.kty !== 'string') ctx.problem(r, `/spec/jwks/inline/keys/${i}`, 'a JWK needs a "kty"');
      else if (k.kty === 'oct') ctx.problem(r, `/spec/jwks/inline/keys/${i}`, 'symmetric (oct) keys are secrets: put them in jwks.secretRef, not inline');
      else if ('d' in k || 'p' in k) ctx.problem(r, `/spec/jwks/inline/keys/${i}`, 'this JWK holds private key material; publish only the public key');
    });
  }
  if (j.secretRef) {
    out.secretRef = j.secretRef;
    if (j.secretRef.path !== undefined) {
      out.secretPath = manifestRelative(r, j.secretRef.path);
    }
  }
  if (j.caBundle !== undefined) {
    out.caBundle = j.caBundle;
    const blocks = j.caBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) ctx.problem(r, '/spec/jwks/caBundle', 'caBundle holds no PEM certificate');
    for (const b of blocks) {
      try {
        new X509Certificate(b);
      } catch {
        ctx.problem(r, '/spec/jwks/caBundle', 'caBundle holds a certificate that cannot be parsed');
        break;
      }
    }
  }
  if (allowInsecureHttp) ctx.warning(r, '/spec/jwks/allowInsecureHttp', 'allowInsecureHttp: keys may be fetched over plain http://');
  return out;
}
